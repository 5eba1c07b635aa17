import { Duration } from "luxon";
import { DEFAULT_REPEAT_MS } from "../alerts/renotify.ts";
import { DEFAULT_RETRY_POLICY } from "../alerts/retry.ts";
import type { AlertSettings } from "../app/index.ts";
import type { RuntimeConfig } from "./config.ts";

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  publicUrl: "http://localhost:8087",
  repeatMs: DEFAULT_REPEAT_MS,
  emailFrom: "Vigil <vigil@localhost>",
  // Slack asks for an answer within 3 s of its own; SMTP servers may greylist and think.
  timeoutsMs: { slack: 10_000, webhook: 10_000, email: 30_000, sns: 10_000, lambda: 10_000 },
  policy: DEFAULT_RETRY_POLICY,
};

/** The alert settings the environment gives, over the defaults. */
export function alertSettingsOf(config: RuntimeConfig): AlertSettings {
  const d = DEFAULT_ALERT_SETTINGS;
  return {
    ...d,
    publicUrl: config.VIGIL_PUBLIC_URL ?? d.publicUrl,
    emailFrom: config.VIGIL_EMAIL_FROM ?? d.emailFrom,
    repeatMs: config.VIGIL_REPEAT_INTERVAL ? Duration.fromISO(config.VIGIL_REPEAT_INTERVAL).toMillis() : d.repeatMs,
    ...(config.VIGIL_SMTP_URL ? { smtpUrl: config.VIGIL_SMTP_URL } : {}),
    ...(config.VIGIL_LINK_SECRET ? { linkSecret: config.VIGIL_LINK_SECRET } : {}),
  };
}
