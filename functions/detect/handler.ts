import middy from "@middy/core";
import { firingTime } from "../../shared/detect/scheduled-event.ts";
import { detectDue } from "../../shared/detect/run-due.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { localRuntime } from "../../shared/runtime/local.ts";

/** detect: on each schedule, every due interval of every active detector, oldest first. */
const config = configFromEnv(process.env);

export async function detect(event: unknown) {
  const now = firingTime(event);
  const runtime = localRuntime(config.VIGIL_DATA_DIR, () => now);
  const runs = await detectDue(runtime, runtime.catalog, now);
  return {
    intervals: runs.map((r) => ({
      metricSetArn: r.metricSet.MetricSetArn,
      intervalStart: new Date(r.intervalStart).toISOString(),
      outcome: r.outcome.kind,
      anomalyGroupId: r.outcome.kind === "processed" ? r.outcome.group?.AnomalyGroupId : undefined,
    })),
  };
}

export const handler = middy(detect);
