import type { Channel } from "../../model/alert.ts";

/**
 * Slack's own limit on incoming webhooks: about one message a second per webhook, short
 * bursts allowed (more is answered 429 with a Retry-After). Three in a burst, then one a
 * second; one message at a time per webhook, so a 429 holds the rest back.
 */
export const SLACK_WEBHOOK_PACE = {
  key: (channel: Channel) => (channel.kind === "slack" ? channel.webhookUrl : ""),
  burst: 3,
  intervalMs: 1_000,
};
