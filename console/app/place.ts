/**
 * Pages are real URLs under /console (the server answers each with the same page): where the
 * browser is, as a page and its query. Plain data, so the early script can read it too.
 */
export const BASE = "/console";

export interface Place {
  /** The path below /console, without a trailing slash: "" is the incident list. */
  readonly page: string;
  readonly query: URLSearchParams;
}

export const placeOf = (): Place => ({ page: location.pathname.slice(BASE.length).replace(/\/+$/, ""), query: new URLSearchParams(location.search) });

export const href = (page: string, query?: Record<string, string>) => `${BASE}${page}${query && Object.keys(query).length ? `?${new URLSearchParams(query)}` : ""}`;
