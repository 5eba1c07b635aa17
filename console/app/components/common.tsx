import type { ComponentChildren, JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api.ts";

export type Loaded<T> = { readonly state: "loading" } | { readonly state: "done"; readonly value: T } | { readonly state: "failed"; readonly error: ApiError | Error };

/** Runs `load` whenever `deps` change; a result that arrives after a newer start is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): [Loaded<T>, () => void] {
  const [result, setResult] = useState<Loaded<T>>({ state: "loading" });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setResult({ state: "loading" });
    load().then(
      (value) => current && setResult({ state: "done", value }),
      (error: unknown) => current && setResult({ state: "failed", error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      current = false;
    };
  }, [...deps, round]);
  return [result, () => setRound((r) => r + 1)];
}

/** The page's heading: it names the tab and takes the focus when the page opens, so a screen reader starts there. */
export function PageTitle(props: { children: string; sub?: ComponentChildren }): JSX.Element {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.children} · Vigil`;
    ref.current?.focus({ preventScroll: true });
  }, [props.children]);
  return (
    <div class="page-title">
      <h1 ref={ref} tabIndex={-1}>
        {props.children}
      </h1>
      {props.sub ? <p class="sub">{props.sub}</p> : null}
    </div>
  );
}

export function Loading(props: { what: string }): JSX.Element {
  return (
    <p class="loading" role="status">
      Loading {props.what}…
    </p>
  );
}

export function Failure(props: { error: Error; retry?: () => void }): JSX.Element {
  const code = props.error instanceof ApiError ? props.error.code : "Error";
  return (
    <div class="failure" role="alert">
      <p>
        <strong>{code}</strong>: {props.error.message}
      </p>
      {props.retry ? (
        <button type="button" onClick={props.retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Shows a loaded value, or what is happening instead. */
export function Show<T>(props: { loaded: Loaded<T>; what: string; retry?: () => void; children: (value: T) => ComponentChildren }): JSX.Element {
  const { loaded } = props;
  if (loaded.state === "loading") return <Loading what={props.what} />;
  if (loaded.state === "failed") return <Failure error={loaded.error} {...(props.retry ? { retry: props.retry } : {})} />;
  return <>{props.children(loaded.value)}</>;
}

/** The first `first` of `items`, with the rest behind a button ("Show all N <noun>"). */
export function useMore<T>(items: readonly T[], first: number, noun?: string): [readonly T[], JSX.Element | null] {
  const [all, setAll] = useState(false);
  const shown = all ? items : items.slice(0, first);
  const more =
    shown.length < items.length ? (
      <button type="button" class="secondary" onClick={() => setAll(true)}>
        Show all {items.length}
        {noun ? ` ${noun}` : ""}
      </button>
    ) : null;
  return [shown, more];
}

/** A horizontal share bar: the bar is drawn, the figure is text. */
export function ShareBar(props: { label: string; percent: number }): JSX.Element {
  const width = Math.max(0, Math.min(100, props.percent));
  return (
    <li class="share">
      <span class="share-label">{props.label}</span>
      <span class="share-track" aria-hidden="true">
        <span class="share-fill" style={{ width: `${width}%` }} />
      </span>
      <span class="share-value">{Math.round(props.percent)} %</span>
    </li>
  );
}

export function Severity(props: { score: number }): JSX.Element {
  const band = props.score >= 70 ? "high" : props.score >= 40 ? "medium" : "low";
  return (
    <span class={`severity severity-${band}`} title={`Severity ${props.score} of 100`}>
      <span class="visually-hidden">Severity </span>
      {Math.round(props.score)}
    </span>
  );
}

export interface Row {
  readonly cells: readonly ComponentChildren[];
  /** Drawn as needing attention (a failure, rejected rows, the incident's span). */
  readonly marked?: boolean;
}

/**
 * A table of rows under column headings, named by `label` (its caption, read but not shown).
 * It may scroll sideways on a narrow screen (a `wide` one keeps a width its columns can be
 * read at), so it sits in a named region the keyboard can reach.
 */
export function Table(props: { label: string; columns: readonly string[]; rows: readonly Row[]; wide?: boolean }): JSX.Element {
  return (
    <div class="table-wrap" role="region" aria-label={props.label} tabIndex={0}>
      <table class={props.wide ? "wide" : undefined}>
        <caption class="visually-hidden">{props.label}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col">{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr class={r.marked ? "marked" : undefined}>
              {r.cells.map((c) => (
                <td>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A labelled choice of one of `options` (a value, or a value and its text), or of none (`""`, shown as `none`). */
export function ChoiceField(props: { id: string; label: string; value: string; none: string; options: readonly (string | readonly [value: string, text: string])[]; onChange: (value: string) => void }): JSX.Element {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value="">{props.none}</option>
        {props.options.map((o) => {
          const [value, text] = typeof o === "string" ? [o, o] : o;
          return <option value={value}>{text}</option>;
        })}
      </select>
    </div>
  );
}

/** A form's end: its submit button, Cancel when the form can be left, and what went wrong. */
export function FormEnd(props: { submit: string; busy: boolean; onCancel?: (() => void) | undefined; error: Error | undefined }): JSX.Element {
  return (
    <>
      <div class="field field-action">
        <button type="submit" disabled={props.busy}>
          {props.submit}
        </button>
      </div>
      {props.onCancel ? (
        <div class="field field-action">
          <button type="button" class="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      ) : null}
      {props.error ? <Failure error={props.error} /> : null}
    </>
  );
}
