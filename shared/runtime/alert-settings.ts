import { Duration } from "luxon";
import { DEFAULT_REPEAT_MS } from "../alerts/renotify.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../alerts/retry.ts";
import type { ChannelKind } from "../model/alert.ts";
import type { RuntimeConfig } from "./config.ts";

/** How alerts are sent, from the settings (config.ts). */
export interface AlertSettings {
  /** Base URL of the API, for links in messages. */
  readonly publicUrl: string;
  readonly repeatMs: number;
  /** smtp(s)://user:pass@host:port, or a {{resolve:…}} reference to one; none = email cannot be sent. */
  readonly smtpUrl?: string | undefined;
  readonly emailFrom: string;
  /** Signs the links in messages (alerts/links.ts); none = links are not signed and the API will not open them. */
  readonly linkSecret?: string | undefined;
  /** How long one attempt on each channel may take before it counts as failed (and is retried). */
  readonly timeoutsMs: Readonly<Record<ChannelKind, number>>;
  readonly policy: RetryPolicy;
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
    repeatMs: config.VIGIL_REPEAT_INTERVAL ? Duration.fromISO(config.VIGIL_REPEAT_INTERVAL).toMillis() : d.repeatMs,
    ...(config.VIGIL_SMTP_URL ? { smtpUrl: config.VIGIL_SMTP_URL } : {}),
    ...(config.VIGIL_LINK_SECRET ? { linkSecret: config.VIGIL_LINK_SECRET } : {}),
  };
}
