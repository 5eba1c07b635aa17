import type { DeliverDeps } from "../alerts/deliver.ts";
import type { DeadLetters } from "../alerts/delivery.ts";
import type { AlertVerdict } from "../alerts/route.ts";
import type { AnomalyGroupEvent } from "../model/anomaly-event.ts";
import { awsDelivery, awsRouting } from "./aws-alerting.ts";
import { alertSettingsOf } from "./alert-settings.ts";
import type { RuntimeConfig } from "./config.ts";
import { localAlertingRuntime } from "./local-alerting.ts";

/**
 * The alert and deliver functions' view of the mode: in AWS, routing enqueues onto SQS and
 * delivery parks on the dead-letter queue; locally, routing sends at once and parks in the
 * data directory's dead-letter file.
 */
export function routingFor(config: RuntimeConfig): (event: AnomalyGroupEvent, now: number) => Promise<AlertVerdict[]> {
  if (config.VIGIL_MODE === "aws") return awsRouting(config);
  const settings = alertSettingsOf(config);
  return async (event, now) => (await localAlertingRuntime(config.VIGIL_DATA_DIR, () => now, { settings }).alerting.route(event)).verdicts;
}

export function deliveryFor(config: RuntimeConfig): (now: () => number) => { deliver: DeliverDeps; deadLetters: DeadLetters } {
  if (config.VIGIL_MODE === "aws") {
    let made: ReturnType<typeof awsDelivery> | undefined;
    let clock: () => number = Date.now;
    return (now) => {
      clock = now;
      made ??= awsDelivery(config, () => clock());
      return made;
    };
  }
  const settings = alertSettingsOf(config);
  return (now) => {
    const rt = localAlertingRuntime(config.VIGIL_DATA_DIR, now, { settings });
    return { deliver: rt.delivery, deadLetters: rt.deadLetters };
  };
}
