import { DEFAULT_REPEAT_MS } from "../alerts/renotify.ts";
import { DEFAULT_RETRY_POLICY } from "../alerts/retry.ts";
import type { AlertSettings } from "../app/index.ts";
import { REPEAT_INTERVAL, type RuntimeConfig } from "./config.ts";

/** Milliseconds of a duration REPEAT_INTERVAL matched (checked with the rest of the settings). */
export function repeatIntervalMs(iso: string): number {
  const [d, h, m, s] = (REPEAT_INTERVAL.exec(iso) ?? []).slice(1, 5).map((part) => Number(part ?? 0));
  return ((((d ?? 0) * 24 + (h ?? 0)) * 60 + (m ?? 0)) * 60 + (s ?? 0)) * 1000;
}

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
    repeatMs: config.VIGIL_REPEAT_INTERVAL ? repeatIntervalMs(config.VIGIL_REPEAT_INTERVAL) : d.repeatMs,
    ...(config.VIGIL_SMTP_URL ? { smtpUrl: config.VIGIL_SMTP_URL } : {}),
    ...(config.VIGIL_LINK_SECRET ? { linkSecret: config.VIGIL_LINK_SECRET } : {}),
  };
}
