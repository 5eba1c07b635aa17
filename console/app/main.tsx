import type { JSX } from "preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { bootSession, consoleConfig, currentSession, finishCognitoSignIn, onSignedOut, signOut } from "./api.ts";
import { CALLBACK, endSession } from "./cognito.ts";
import { Failure, Loading, PageTitle } from "./components/common.tsx";
import { Deliveries } from "./pages/deliveries.tsx";
import { DetectorPage, Detectors } from "./pages/detector.tsx";
import { Incident } from "./pages/incident.tsx";
import { Incidents } from "./pages/incidents.tsx";
import { Series } from "./pages/series.tsx";
import { SignIn } from "./pages/sign-in.tsx";
import { href, Link, navigate, usePlace, type Place } from "./router.tsx";
import type { ConsoleConfig, SessionInfo } from "./wire.ts";
import "./styles.css";

// When the console itself began to run, after the early script (start.ts) has asked for the opened page's data.
performance.mark("vigil:console");

type SessionState =
  | { readonly state: "checking" }
  | { readonly state: "out"; readonly config: ConsoleConfig; readonly notice?: string }
  | { readonly state: "in"; readonly config: ConsoleConfig; readonly session: SessionInfo }
  | { readonly state: "failed"; readonly error: Error };

function Page(props: { place: Place }): JSX.Element {
  switch (props.place.page) {
    case "":
      return <Incidents place={props.place} />;
    case "/incident":
      return <Incident place={props.place} />;
    case "/detectors":
      return <Detectors />;
    case "/detector":
      return <DetectorPage place={props.place} />;
    case "/series":
      return <Series place={props.place} />;
    case "/deliveries":
      return <Deliveries place={props.place} />;
    default:
      return <PageTitle sub="The console has no page at this address.">Not found</PageTitle>;
  }
}

function Header(props: { session: SessionInfo; onSignOut: () => void; page: string }): JSX.Element {
  const current = (page: string) => (props.page === page ? { "aria-current": "page" as const } : {});
  return (
    <header class="top">
      <Link class="brand" href={href("/")}>
        Vigil
      </Link>
      <nav aria-label="Console">
        <Link href={href("/")} {...current("")}>
          Incidents
        </Link>
        <Link href={href("/detectors")} {...current("/detectors")}>
          Detectors
        </Link>
        <Link href={href("/deliveries")} {...current("/deliveries")}>
          Deliveries
        </Link>
      </nav>
      <div class="who">
        <span>
          <span class="visually-hidden">Signed in as tenant </span>
          <span aria-hidden="true">Tenant </span>
          <strong>{props.session.Tenant}</strong>
        </span>
        <button type="button" class="secondary" onClick={props.onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function App(): JSX.Element {
  const place = usePlace();
  // The page came with its session: the first render is already the page asked for.
  const [state, setState] = useState<SessionState>(() => {
    const booted = location.pathname === CALLBACK ? undefined : bootSession();
    if (!booted) return { state: "checking" };
    return booted.session ? { state: "in", config: booted.config, session: booted.session } : { state: "out", config: booted.config };
  });
  useEffect(() => {
    const start = async (): Promise<SessionState> => {
      // Asked together: the page waits on one round trip.
      const [config, session] = await Promise.all([consoleConfig(), location.pathname === CALLBACK ? undefined : currentSession()]);
      // Back from Cognito's sign-in page with a code to exchange.
      if (config.SignIn === "cognito" && location.pathname === CALLBACK) {
        const session = await finishCognitoSignIn(config, new URLSearchParams(location.search)).catch((e: unknown) => e as Error);
        navigate(href("/"), { replace: true });
        return session instanceof Error ? { state: "out", config, notice: session.message } : { state: "in", config, session };
      }
      return session ? { state: "in", config, session } : { state: "out", config };
    };
    if (state.state === "checking") start().then(setState, (error: unknown) => setState({ state: "failed", error: error instanceof Error ? error : new Error(String(error)) }));
    return onSignedOut((why) => setState((s) => ({ state: "out", config: "config" in s ? s.config : { SignIn: "keys" }, notice: why })));
  }, []);
  const out = async () => {
    await signOut().catch(() => undefined);
    if (state.state === "in" && state.config.SignIn === "cognito") return endSession(state.config);
    setState({ state: "out", config: state.state === "in" ? state.config : { SignIn: "keys" }, notice: "Signed out." });
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      {state.state === "in" ? <Header session={state.session} onSignOut={out} page={place.page} /> : null}
      <main id="main" tabIndex={-1}>
        {state.state === "checking" ? <Loading what="your session" /> : null}
        {state.state === "failed" ? <Failure error={state.error} /> : null}
        {state.state === "out" ? <SignIn config={state.config} {...(state.notice ? { notice: state.notice } : {})} onSignedIn={(session) => setState({ state: "in", config: state.config, session })} /> : null}
        {state.state === "in" ? <Page place={place} /> : null}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
