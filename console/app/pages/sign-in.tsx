import type { ComponentChildren, JSX } from "preact";
import { useState } from "preact/hooks";
import { ApiError, signIn } from "../api.ts";
import { startSignIn } from "../cognito.ts";
import { PageTitle } from "../components/common.tsx";
import type { ConsoleConfig, SessionInfo } from "../wire.ts";

/** Either way of signing in: the title, what to sign in with, and why the person is here again (signed out, expired). */
function SignInPage(props: { sub: string; notice?: string; children: ComponentChildren }): JSX.Element {
  return (
    <div class="sign-in">
      <PageTitle sub={props.sub}>Sign in to Vigil</PageTitle>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.children}
    </div>
  );
}

/** On AWS: Cognito's sign-in page, whose account claim names the tenant. */
function CognitoSignIn(props: { config: Extract<ConsoleConfig, { SignIn: "cognito" }>; notice?: string }): JSX.Element {
  return (
    <SignInPage sub="With your organisation's account: it names your tenant." {...(props.notice ? { notice: props.notice } : {})}>
      <button type="button" onClick={() => void startSignIn(props.config)}>
        Sign in
      </button>
    </SignInPage>
  );
}

/** Sign-in with a tenant's access key pair, the one its SDK clients sign with (vigil serve); through Cognito on AWS. */
export function SignIn(props: { config: ConsoleConfig; notice?: string; onSignedIn: (s: SessionInfo) => void }): JSX.Element {
  if (props.config.SignIn === "cognito") return <CognitoSignIn config={props.config} {...(props.notice ? { notice: props.notice } : {})} />;
  return <KeySignIn {...props} />;
}

function KeySignIn(props: { notice?: string; onSignedIn: (s: SessionInfo) => void }): JSX.Element {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(await signIn(String(form.get("accessKeyId") ?? "").trim(), String(form.get("secretAccessKey") ?? "")));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "The server could not be reached: is `vigil serve` running?");
    } finally {
      setBusy(false);
    }
  };
  return (
    <SignInPage sub="With the access key pair of your tenant, as your AWS SDK clients use it." {...(props.notice ? { notice: props.notice } : {})}>
      <form onSubmit={submit} aria-describedby={error ? "sign-in-error" : undefined}>
        <label for="accessKeyId">Access key ID</label>
        <input id="accessKeyId" name="accessKeyId" autocomplete="username" spellcheck={false} required aria-invalid={error ? true : undefined} />
        <label for="secretAccessKey">Secret access key</label>
        <input id="secretAccessKey" name="secretAccessKey" type="password" autocomplete="current-password" required aria-invalid={error ? true : undefined} />
        {error ? (
          <p id="sign-in-error" class="failure" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </SignInPage>
  );
}
