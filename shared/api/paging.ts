import { ValidationException } from "../model/errors.ts";

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
    if (owner !== listing || !Number.isInteger(from) || from < 0) throw new ValidationException("NextToken does not belong to this request", { fields: [{ Name: "NextToken", Message: "is not a token this listing gave" }] });
  }
  const slice = items.slice(from, from + max);
  const next = from + max < items.length ? Buffer.from(`${from + max}|${listing}`).toString("base64url") : undefined;
  return { items: slice, ...(next ? { NextToken: next } : {}) };
}
