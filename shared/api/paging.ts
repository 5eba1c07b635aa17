import { ValidationException } from "../model/errors.ts";

/** A NextToken another listing gave, or none gave. */
const foreignToken = () => new ValidationException("NextToken does not belong to this request", { fields: [{ Name: "NextToken", Message: "is not a token this listing gave" }] });

/**
 * L4M's pagination: `MaxResults` (1–100) per page and an opaque `NextToken`. The token
 * carries the position and a fingerprint of the request it belongs to, so a token replayed
 * on another listing is refused instead of silently skipping items.
 */
export function page<T>(items: readonly T[], input: { MaxResults?: number | undefined; NextToken?: string | undefined }, listing: string, defaultMax = 100): { items: T[]; NextToken?: string } {
  const max = input.MaxResults ?? defaultMax;
  let from = 0;
  if (input.NextToken !== undefined) {
    const [at, owner] = Buffer.from(input.NextToken, "base64url").toString("utf8").split("|");
    from = Number(at);
    if (owner !== listing || !Number.isInteger(from) || from < 0) throw foreignToken();
  }
  const slice = items.slice(from, from + max);
  const next = from + max < items.length ? Buffer.from(`${from + max}|${listing}`).toString("base64url") : undefined;
  return { items: slice, ...(next ? { NextToken: next } : {}) };
}

/**
 * `page` over sorted keys that may change between pages (a group's record lets go of a series
 * when a more severe one takes its place): the token carries the last key given, not a
 * position, so a key listed throughout is given once, never skipped because one before it left.
 */
export function pageAfter(keys: readonly string[], input: { MaxResults?: number | undefined; NextToken?: string | undefined }, listing: string, defaultMax = 100): { items: string[]; NextToken?: string } {
  const max = input.MaxResults ?? defaultMax;
  let from = 0;
  if (input.NextToken !== undefined) {
    let token: unknown;
    try {
      token = JSON.parse(Buffer.from(input.NextToken, "base64url").toString("utf8"));
    } catch {
      token = undefined;
    }
    const { after, owner } = (typeof token === "object" && token !== null ? token : {}) as { after?: unknown; owner?: unknown };
    if (owner !== listing || typeof after !== "string") throw foreignToken();
    // The first key after the last one given (keys sorted as JavaScript compares strings).
    let hi = keys.length;
    while (from < hi) {
      const mid = (from + hi) >> 1;
      if (keys[mid]! <= after) from = mid + 1;
      else hi = mid;
    }
  }
  const items = keys.slice(from, from + max);
  const next = from + max < keys.length ? Buffer.from(JSON.stringify({ after: items[items.length - 1], owner: listing })).toString("base64url") : undefined;
  return { items, ...(next ? { NextToken: next } : {}) };
}
