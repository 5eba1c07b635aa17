import type { DeliveryOutcome } from "../alerts/deliver.ts";
import type { AlertVerdict } from "../alerts/route.ts";
import type { DueRun } from "./detect.ts";
import type { IngestRun } from "./ingest.ts";

/**
 * What the use cases tell the operator: one call per interval run, ingested interval,
 * routed event and delivery, and every failure that is not the caller's. The modes pass
 * in their own (structured logs and CloudWatch metrics through Powertools; nothing for the
 * CLI's own output), so no use case holds a logger of its own.
 */
export interface Observer {
  intervalRun(run: DueRun, now: number): void;
  ingestRun(run: IngestRun, now: number): void;
  routed(eventId: string, verdicts: readonly AlertVerdict[]): void;
  delivered(deliveryId: string, outcome: DeliveryOutcome): void;
  /** An unexpected error, with what was being done and its ids. */
  failed(what: string, error: unknown, context?: Readonly<Record<string, unknown>>): void;
}

/** Tells nobody: for tests and for commands that print their own report. */
export const silentObserver: Observer = {
  intervalRun() {},
  ingestRun() {},
  routed() {},
  delivered() {},
  failed() {},
};
