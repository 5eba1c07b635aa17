import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Links in alert messages are signed, as S3's presigned URLs are: the path, the account that
 * owns the group, an expiry and the id of the key, HMAC-SHA256 with a key only Vigil holds
 * (VIGIL_LINK_SECRET, or the local data directory's). Whoever has the message may open the
 * group and give feedback on it, without AWS credentials, until the link expires; nobody can
 * make a link to another group, and a link opens a group of the account signed into it only.
 * A leaked key is replaced (rotated): every link it signed stops working at once.
 */
export const LINK_LIFETIME_S = 30 * 86_400;

/** A key's id: what a link names, so a link signed by a replaced key is told apart from a forged one. */
export function linkKeyId(secret: string): string {
  // Every link of every message names it: the last key's id is kept.
  if (lastKey?.secret !== secret) lastKey = { secret, id: createHash("sha256").update(`vigil-link-key\n${secret}`).digest("hex").slice(0, 16) };
  return lastKey.id;
}

let lastKey: { readonly secret: string; readonly id: string } | undefined;

const signatureOf = (secret: string, path: string, accountId: string, expires: number) => createHmac("sha256", secret).update(`${path}\n${accountId}\n${expires}\n${linkKeyId(secret)}`).digest("hex");

export function signedQuery(secret: string, path: string, accountId: string, nowMs: number): string {
  const expires = Math.floor(nowMs / 1000) + LINK_LIFETIME_S;
  return `account=${accountId}&expires=${expires}&key=${linkKeyId(secret)}&signature=${signatureOf(secret, path, accountId, expires)}`;
}

/** A link that may be used, for the account signed into it; or why not. */
export type LinkCheck = { readonly ok: true; readonly accountId: string } | { readonly ok: false; readonly reason: string };

export function checkLink(secret: string, path: string, query: URLSearchParams, nowMs: number): LinkCheck {
  const accountId = query.get("account") ?? "";
  const expires = Number(query.get("expires"));
  const key = query.get("key") ?? "";
  const given = query.get("signature") ?? "";
  if (!/^\d{12}$/.test(accountId) || !Number.isInteger(expires) || !/^[0-9a-f]{16}$/.test(key) || !/^[0-9a-f]{64}$/.test(given)) return { ok: false, reason: "the link is not signed" };
  if (key !== linkKeyId(secret)) return { ok: false, reason: "the link was signed with a key that has since been replaced" };
  if (expires * 1000 < nowMs) return { ok: false, reason: "the link has expired" };
  const want = Buffer.from(signatureOf(secret, path, accountId, expires));
  return want.length === given.length && timingSafeEqual(want, Buffer.from(given)) ? { ok: true, accountId } : { ok: false, reason: "the link's signature does not match" };
}
