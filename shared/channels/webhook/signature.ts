import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Webhook signatures, as Stripe and Slack sign theirs: HMAC-SHA256 over
 * "<unix seconds>.<body>" with the alert's secret, sent as `Vigil-Signature: v1=<hex>`
 * beside `Vigil-Timestamp`. A receiver recomputes it and refuses old timestamps, so a
 * captured request cannot be replayed later.
 */
export const SIGNATURE_HEADER = "vigil-signature";
export const TIMESTAMP_HEADER = "vigil-timestamp";
export const DELIVERY_HEADER = "vigil-delivery-id";
/** How old a signed request a receiver should accept. */
export const DEFAULT_TOLERANCE_S = 300;

export const signatureOf = (secret: string, timestamp: number, body: string | Buffer) => `v1=${createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex")}`;

/** What a receiver does: true when the signature is the secret's and the timestamp recent. */
export function verifySignature(secret: string, headers: { signature: string | undefined; timestamp: string | undefined }, body: string, nowS: number, toleranceS = DEFAULT_TOLERANCE_S): boolean {
  const ts = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(ts) || Math.abs(nowS - ts) > toleranceS) return false;
  const want = Buffer.from(signatureOf(secret, ts, body));
  const got = Buffer.from(headers.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
