import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Links in alert messages are signed, as S3's presigned URLs are: the path and an expiry,
 * HMAC-SHA256 with a key only Vigil holds (VIGIL_LINK_SECRET). Whoever has the message may
 * open the group and give feedback on it, without AWS credentials, until the link expires;
 * nobody can make a link to another group.
 */
export const LINK_LIFETIME_S = 30 * 86_400;

const signatureOf = (secret: string, path: string, expires: number) => createHmac("sha256", secret).update(`${path}\n${expires}`).digest("hex");

export function signedQuery(secret: string, path: string, nowMs: number): string {
  const expires = Math.floor(nowMs / 1000) + LINK_LIFETIME_S;
  return `expires=${expires}&signature=${signatureOf(secret, path, expires)}`;
}

/** Why a link may not be used, or undefined when it may. */
export function linkRefusal(secret: string, path: string, query: URLSearchParams, nowMs: number): string | undefined {
  const expires = Number(query.get("expires"));
  const given = query.get("signature") ?? "";
  if (!Number.isInteger(expires) || !/^[0-9a-f]{64}$/.test(given)) return "the link is not signed";
  if (expires * 1000 < nowMs) return "the link has expired";
  const want = Buffer.from(signatureOf(secret, path, expires));
  return want.length === given.length && timingSafeEqual(want, Buffer.from(given)) ? undefined : "the link's signature does not match";
}
