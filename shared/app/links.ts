import { checkLink, type LinkCheck } from "../alerts/links.ts";
import type { Services } from "./services.ts";

/** Whether a signed link from an alert message may be used, and for which account: it expires by the clock that signed it (`linkClock`, the real one where `clock` is a simulation's). */
export function verifiedLink(services: Pick<Services, "alertSettings" | "linkClock">, path: string, query: URLSearchParams): LinkCheck {
  const secret = services.alertSettings.linkSecret;
  return secret ? checkLink(secret, path, query, services.linkClock()) : { ok: false, reason: "links are not signed here (no VIGIL_LINK_SECRET)" };
}
