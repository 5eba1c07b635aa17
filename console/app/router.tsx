import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

/**
 * Pages are real URLs under /console (the server answers each with the same page), moved
 * between with the History API so a link is a link: it opens in a new tab, and Enter follows it.
 */
export const BASE = "/console";

export interface Place {
  /** The path below /console, without a trailing slash: "" is the incident list. */
  readonly page: string;
  readonly query: URLSearchParams;
}

const placeOf = (): Place => ({ page: location.pathname.slice(BASE.length).replace(/\/+$/, ""), query: new URLSearchParams(location.search) });

const listeners = new Set<() => void>();

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  for (const l of listeners) l();
}

export function usePlace(): Place {
  const [place, setPlace] = useState(placeOf);
  useEffect(() => {
    const update = () => setPlace(placeOf());
    listeners.add(update);
    addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      removeEventListener("popstate", update);
    };
  }, []);
  return place;
}

export const href = (page: string, query?: Record<string, string>) => `${BASE}${page}${query && Object.keys(query).length ? `?${new URLSearchParams(query)}` : ""}`;

/** An anchor that moves within the console without a reload (a modified click still opens a tab). */
export function Link(props: { href: string; children: ComponentChildren; class?: string; "aria-current"?: "page" }): JSX.Element {
  const { href: to, children, ...rest } = props;
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a {...rest} href={to} onClick={onClick}>
      {children}
    </a>
  );
}
