import { describe, expect, it } from "vitest";
import type { Delivery } from "../../../shared/alerts/delivery.ts";
import { parkDeadLetter } from "../../../shared/app/delivery-parked.ts";
import { createAlert, createDetector, deliverAll, OPERATOR, routeEvent } from "../../../shared/app/index.ts";
import { DEFAULT_ALERT_SETTINGS } from "../../../shared/runtime/settings.ts";
import { PARKED_RETENTION_MS, RecordDeadLetters } from "../../../shared/store/record-dead-letters.ts";
import { anomalyGroupEvent, localAt, T0, tempDir } from "../../builders.ts";

/** The AWS mode's dead letters (records in the record store) over the local services, on a clock the test moves. */
async function parkedInRecords() {
  let now = T0;
  const local = localAt(await tempDir(), () => now, { settings: { ...DEFAULT_ALERT_SETTINGS, policy: { maxAttempts: 1, baseMs: 1, capMs: 1, maxRetryAfterMs: 1 } } });
  const services = { ...local, deadLetters: new RecordDeadLetters(local.records) };
  const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  await createAlert(services, OPERATOR, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: "http://127.0.0.1:9/hook" } } });
  const delivered: Delivery[] = [];
  await routeEvent({ ...services, deliveryQueue: { enqueue: async (ds: readonly Delivery[]) => void delivered.push(...ds) } }, anomalyGroupEvent({ revision: 1 }));
  return { services, delivery: delivered[0]!, later: (ms: number) => void (now += ms) };
}

describe("a dead letter of the delivery queue", () => {
  it("leaves a delivery deliver parked with its reason, and parks it anew once that record has run out rather than dropping it", async () => {
    const { services, delivery, later } = await parkedInRecords();
    // deliver finds nobody at the port and parks it, with its reason.
    expect(await deliverAll(services, [delivery], new AbortController().signal)).toMatchObject([{ status: "fulfilled", value: { kind: "parked" } }]);
    const parked = () => services.records.list<{ reason: string }>("parked");
    expect(await parked()).toMatchObject([{ reason: "NETWORK" }]);
    // The queue gives the same delivery up as well: it stays as deliver parked it.
    await parkDeadLetter(services, delivery, T0 + 1);
    expect(await parked()).toMatchObject([{ reason: "NETWORK" }]);
    // Past the parked record's retention (its record of what became of it lives on): the dead letter is parked again, not dropped.
    later(PARKED_RETENTION_MS + 1);
    expect(await parked()).toEqual([]);
    await parkDeadLetter(services, delivery, T0 + PARKED_RETENTION_MS + 1);
    expect(await parked()).toMatchObject([{ reason: "UNHANDLED" }]);
  });
});
