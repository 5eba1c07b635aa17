import { getSystemErrorName } from "node:util";

/** Failures of a connection by their system code, as the alert's owner is told of them. */
const KINDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "the connection was refused",
  ECONNRESET: "the connection was reset",
  EPIPE: "the connection was closed while sending",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  EHOSTDOWN: "the host is down",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name could not be resolved for now",
};

/** The system's name of an error number (nodemailer keeps it under a code of its own, ESOCKET). */
function systemName(errno: unknown): string | undefined {
  if (typeof errno !== "number" || errno >= 0) return undefined;
  try {
    return getSystemErrorName(errno);
  } catch {
    return undefined;
  }
}

/**
 * What failed, by its kind and code, never with Node's message: that names the address and
 * port connected to ("connect ECONNREFUSED 10.0.0.5:6379") or a certificate's names, and a
 * tenant reading it in ListDeliveries would learn what listens where behind Vigil. An error
 * without a code is Vigil's own, and says so itself.
 */
export function connectionFailure(e: unknown): string {
  const err = e as { code?: unknown; errno?: unknown } | null;
  const given = typeof err?.code === "string" ? err.code : undefined;
  const code = given !== undefined && KINDS[given] ? given : (systemName(err?.errno) ?? given);
  if (code === undefined) return e instanceof Error && !(e instanceof AggregateError) ? e.message : "the connection failed";
  const kind = KINDS[code];
  if (kind) return `${kind} (${code})`;
  if (/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/.test(code)) return `the TLS handshake failed (${code})`;
  if (code.startsWith("HPE_")) return `the answer was not HTTP (${code})`;
  return `the request failed (${code})`;
}
