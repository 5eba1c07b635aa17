import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { placeOf, type Place } from "./place.ts";

/** Moving between pages with the History API, so a link is a link: it opens in a new tab, and Enter follows it. */
export { BASE, href, type Place } from "./place.ts";

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
