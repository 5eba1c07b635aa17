import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deliver, replayParked, type DeliverDeps } from "../../../shared/alerts/deliver.ts";
import type { Delivery } from "../../../shared/alerts/delivery.ts";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { deliverDepsOf } from "../../../shared/app/alerting.ts";
import { createAlert, createDetector, OPERATOR } from "../../../shared/app/index.ts";
import type { Alert } from "../../../shared/model/alert.ts";
import { DEFAULT_ALERT_SETTINGS } from "../../../shared/runtime/settings.ts";
import type { LocalDeadLetters } from "../../../shared/store/local-dead-letters.ts";
import { anomalyGroupEvent, localAt, tempDir } from "../../builders.ts";
import { SmtpReceiver } from "../../receivers/smtp-receiver.ts";

/**
 * An email alert to several recipients, some of whom the SMTP server refuses at RCPT TO
 * while it takes the message for the others: each recipient gets the alert once, the
 * refused ones on a retry or a replay.
 */
const signal = new AbortController().signal;
const [ana, ben, cy] = ["ana@example.com", "ben@example.com", "cy@example.com"] as const;

/** A store, a catalog with one email alert to ana, ben and cy, and the delivery step with waits that take no time. */
async function setup(smtpUrl: string, maxAttempts = 3) {
  const settings = { ...DEFAULT_ALERT_SETTINGS, smtpUrl, policy: { maxAttempts, baseMs: 100, capMs: 1000, maxRetryAfterMs: 5000 } };
  const services = localAt(await tempDir(), undefined, { settings });
  const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const alert = await createAlert(services, OPERATOR, { AlertName: "mail", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { EmailConfiguration: { To: [ana, ben, cy] } } });
  const deps: DeliverDeps = { ...deliverDepsOf(services), timer: { sleep: async () => {}, random: () => 0.5 } };
  return { deps, alert, deadLetters: services.deadLetters as LocalDeadLetters };
}

const deliveryFor = (alert: Alert): Delivery => {
  const message = alertMessage(alert, anomalyGroupEvent(), "first", "http://localhost:8087");
  return { deliveryId: message.deliveryId, alertArn: alert.AlertArn, message };
};

describe("an email some of whose recipients the SMTP server refuses", () => {
  let smtp: SmtpReceiver;
  beforeAll(async () => void (smtp = await SmtpReceiver.start()));
  afterAll(() => smtp.stop());
  beforeEach(() => {
    smtp.deliveredTo.length = 0;
    smtp.acceptRecipient();
  });
  const received = () => [ana, ben, cy].map((a) => smtp.receivedBy(a));

  it("is retried for a recipient greylisted (450) alone, who then gets it; the others get it once", async () => {
    const { deps, alert, deadLetters } = await setup(smtp.url);
    smtp.refuseRecipient(ben, 450, "4.2.0 Greylisted, try again later", 1);
    const d = deliveryFor(alert);
    expect(await deliver(deps, d, signal)).toEqual({ kind: "sent", attempts: 2 });
    expect(smtp.deliveredTo).toEqual([[ana, cy], [ben]]);
    expect(received()).toEqual([1, 1, 1]);
    expect(await deliver(deps, d, signal)).toEqual({ kind: "duplicate" });
    expect(await deadLetters.list()).toEqual([]);
  });

  it("is parked for the recipients refused for good (550), naming them and why; a replay once the server takes them mails them alone", async () => {
    const { deps, alert, deadLetters } = await setup(smtp.url);
    smtp.refuseRecipient(ben, 550, "5.1.1 No such user here").refuseRecipient(cy, 550, "5.1.1 No such user here");
    const d = deliveryFor(alert);
    const detail = `SMTP refused 2 of 3 recipients: ${ben} (550 5.1.1 No such user here), ${cy} (550 5.1.1 No such user here)`;
    expect(await deliver(deps, d, signal)).toEqual({ kind: "parked", attempts: 1, detail });
    expect(await deadLetters.list()).toMatchObject([{ delivery: { deliveryId: d.deliveryId }, reason: "SMTP", detail }]);
    expect(received()).toEqual([1, 0, 0]);
    // Still refused: the replay leaves it parked, and mails nobody.
    expect(await replayParked(deps, signal)).toEqual({ retried: 0, remaining: 1 });
    expect(received()).toEqual([1, 0, 0]);
    // Ben is taken now, cy not yet: it stays parked for cy alone.
    smtp.acceptRecipient(ben);
    expect(await replayParked(deps, signal)).toEqual({ retried: 0, remaining: 1 });
    smtp.acceptRecipient(cy);
    expect(await replayParked(deps, signal)).toEqual({ retried: 1, remaining: 0 });
    expect(smtp.deliveredTo).toEqual([[ana], [ben], [cy]]);
    expect(received()).toEqual([1, 1, 1]);
    expect(await replayParked(deps, signal)).toEqual({ retried: 0, remaining: 0 });
    expect(await deliver(deps, d, signal)).toEqual({ kind: "duplicate" });
  });

  it("is retried while one refusal is worth another try (450 beside 550), then parked for the one refused for good alone", async () => {
    const { deps, alert, deadLetters } = await setup(smtp.url);
    smtp.refuseRecipient(ben, 450, "4.2.0 Greylisted", 1).refuseRecipient(cy, 550, "5.1.1 No such user here");
    const d = deliveryFor(alert);
    expect(await deliver(deps, d, signal)).toEqual({ kind: "parked", attempts: 2, detail: `SMTP refused 1 of 2 recipients: ${cy} (550 5.1.1 No such user here)` });
    expect(smtp.deliveredTo).toEqual([[ana], [ben]]);
    smtp.acceptRecipient(cy);
    expect(await replayParked(deps, signal)).toEqual({ retried: 1, remaining: 0 });
    expect(smtp.deliveredTo).toEqual([[ana], [ben], [cy]]);
    expect(received()).toEqual([1, 1, 1]);
    expect(await deadLetters.list()).toEqual([]);
  });

  it("is handed over again by the queue (retries spent) to the refused recipients alone: what they took is recorded, not held in memory", async () => {
    const { deps, alert } = await setup(smtp.url, 1);
    smtp.refuseRecipient(ben, 450, "4.2.0 Greylisted", 1);
    const d = deliveryFor(alert);
    expect(await deliver(deps, d, signal)).toMatchObject({ kind: "parked", attempts: 1 });
    expect(await deliver(deps, d, signal)).toEqual({ kind: "sent", attempts: 1 });
    expect(smtp.deliveredTo).toEqual([[ana, cy], [ben]]);
    expect(await replayParked(deps, signal)).toEqual({ retried: 1, remaining: 0 });
    expect(received()).toEqual([1, 1, 1]);
  });

  it("fails as a whole when every recipient is refused: retried when the refusals are worth another try, parked naming each when they are final", async () => {
    const later = await setup(smtp.url);
    for (const address of [ana, ben, cy]) smtp.refuseRecipient(address, 451, "4.3.0 Try again later", 1);
    expect(await deliver(later.deps, deliveryFor(later.alert), signal)).toEqual({ kind: "sent", attempts: 2 });
    expect(smtp.deliveredTo).toEqual([[ana, ben, cy]]);

    const never = await setup(smtp.url);
    for (const address of [ana, ben, cy]) smtp.refuseRecipient(address, 550, "5.7.1 Relaying denied");
    const detail = `SMTP refused 3 of 3 recipients: ${ana} (550 5.7.1 Relaying denied), ${ben} (550 5.7.1 Relaying denied), ${cy} (550 5.7.1 Relaying denied)`;
    expect(await deliver(never.deps, deliveryFor(never.alert), signal)).toEqual({ kind: "parked", attempts: 1, detail });
    expect(smtp.deliveredTo).toEqual([[ana, ben, cy]]);
    smtp.acceptRecipient();
    expect(await replayParked(never.deps, signal)).toEqual({ retried: 1, remaining: 0 });
    expect(smtp.deliveredTo).toEqual([[ana, ben, cy], [ana, ben, cy]]);
  });

  it("is sent once to every recipient when none is refused, as before", async () => {
    const { deps, alert, deadLetters } = await setup(smtp.url);
    const d = deliveryFor(alert);
    expect(await deliver(deps, d, signal)).toEqual({ kind: "sent", attempts: 1 });
    expect(smtp.deliveredTo).toEqual([[ana, ben, cy]]);
    expect(await deliver(deps, d, signal)).toEqual({ kind: "duplicate" });
    expect(await deadLetters.list()).toEqual([]);
  });
});
