import { linkRefusal } from "../alerts/links.ts";
import type { Services } from "./services.ts";

/** Why a signed link from an alert message may not be used, or undefined when it may. */
export function signedLinkRefusal(services: Pick<Services, "alertSettings" | "clock">, path: string, query: URLSearchParams): string | undefined {
  const secret = services.alertSettings.linkSecret;
  return secret ? linkRefusal(secret, path, query, services.clock()) : "links are not signed here (no VIGIL_LINK_SECRET)";
}
