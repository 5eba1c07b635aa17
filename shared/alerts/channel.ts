import { cutText } from "../model/cut.ts";
import type { Channel, ChannelKind } from "../model/alert.ts";
import type { AlertMessage } from "./message.ts";

/**
 * A channel does one thing: send one message. It never throws for a failed send; it says
 * whether trying again may help (a 5xx, a 429, a timeout) or not (a 4xx, a bad URL), and
 * how long the receiver asked us to wait.
 */
export type FailureReason = "HTTP_STATUS" | "TIMEOUT" | "NETWORK" | "BLOCKED_URL" | "FOREIGN_TARGET" | "SECRET" | "SMTP" | "AWS" | "ROLE";

export type SendResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly retryable: boolean;
      readonly reason: FailureReason;
      readonly detail: string;
      readonly retryAfterMs?: number;
      /**
       * Sent in part: these recipients of the channel's (email's `to`, as the channel names
       * them) took the message, the others did not (the detail says which, and why). It is done
       * for these: what is tried again, now or at a replay, is for the others alone.
       */
      readonly accepted?: readonly string[];
    };

export interface Sender<C extends Channel = Channel> {
  send(message: AlertMessage, channel: C, signal: AbortSignal): Promise<SendResult>;
}

/** One sender per channel kind. */
export type Senders = { readonly [K in ChannelKind]: Sender<Extract<Channel, { kind: K }>> };

export const sendVia = (senders: Senders, message: AlertMessage, channel: Channel, signal: AbortSignal): Promise<SendResult> =>
  (senders[channel.kind] as Sender).send(message, channel, signal);

/** A failure's detail is kept to this many characters (UTF-16 code units): it is kept with a parked delivery and shown as its last error. */
export const DETAIL_CHARS = 4096;
/** The detail cut to DETAIL_CHARS, never inside a surrogate pair. */
export const boundedDetail = (detail: string): string => cutText(detail, DETAIL_CHARS);

export const failed = (retryable: boolean, reason: FailureReason, detail: string, retryAfterMs?: number): SendResult => ({
  ok: false,
  retryable,
  reason,
  detail: boundedDetail(detail),
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});
