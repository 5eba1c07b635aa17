import { join } from "node:path";
import { DateTime } from "luxon";
import { Logger } from "@aws-lambda-powertools/logger";
import { generateShop, toCsv, type Incident } from "../shared/demo/shop.ts";
import { joinUri } from "../shared/model/path-template.ts";
import { LocalBlobStore } from "../shared/store/local-blobs.ts";
import { ServeConfig } from "../shared/runtime/service/config.ts";
import { serviceObserver, simulatedClock, type ServiceObserver } from "../shared/runtime/service/index.ts";
import { DEMO_LIVE_START, DEMO_RETRY_POLICY, LIVE_HOURS, type DemoReport } from "./demo.ts";
import { describeGroup } from "./describe.ts";
import { startServing, type ServingService } from "./service.ts";

const HOUR = 3_600_000;
/** One simulated hour every five seconds: a newcomer sees an alert within a minute or two. */
export const DEMO_RATE = 720;

/**
 * More incidents after the demo's three days, one a day, so alerts keep arriving: six kinds
 * in turn, each hitting its own series at an hour when its market is busy, so a series is hit
 * once in six days. (With incidents every twelve hours on the same three kinds, each series
 * was hit every 36 hours: its first incident was a record, the later ones were judged by the
 * series' tails alone, which put them under the alert threshold; from the fourth simulated day
 * none was alerted.) `from` is a midnight, UTC.
 */
export function liveIncidents(from: number, count = 60): Incident[] {
  const kinds: (Omit<Incident, "start"> & { readonly hour: number })[] = [
    { title: "Bot traffic on the US website", hour: 1, hours: 2, cause: { platform: "pc_web", marketplace: "us" }, measure: "views", factor: 2.8 },
    { title: "Search outage in France", hour: 18, hours: 2, cause: { marketplace: "fr" }, measure: "views", factor: 0.35 },
    { title: "App campaign in Japan", hour: 11, hours: 2, cause: { platform: "mobile_app", marketplace: "jp" }, measure: "views", factor: 2.6 },
    { title: "Checkout broken in the UK", hour: 20, hours: 2, cause: { marketplace: "uk" }, measure: "revenue", factor: 0.2 },
    { title: "Payment provider outage in Germany", hour: 18, hours: 2, cause: { marketplace: "de" }, measure: "revenue", factor: 0.3 },
    { title: "Broken mobile web release", hour: 19, hours: 2, cause: { platform: "mobile_web" }, measure: "views", factor: 0.3 },
  ];
  return Array.from({ length: count }, (_, k) => {
    const { hour, ...kind } = kinds[k % kinds.length]!;
    return { ...kind, start: from + (24 * k + hour) * HOUR };
  });
}

const stamp = (t: number) => DateTime.fromMillis(t, { zone: "UTC" }).toFormat("yyyy-MM-dd HH:mm 'UTC'");

/** What the newcomer reads: each hour as it is detected, and each alert as it is sent. */
function demoObserver(log: (line: string) => void): ServiceObserver {
  const base = serviceObserver(new Logger({ serviceName: "vigil", logLevel: "SILENT" }));
  return {
    ...base,
    intervalRun(run, now) {
      base.intervalRun(run, now);
      if (run.outcome.kind !== "processed") return;
      const e = run.outcome.execution;
      log(`${stamp(run.intervalStart)}: ${e.rowsRead} rows, ${e.anomalies} anomal${e.anomalies === 1 ? "y" : "ies"}${run.outcome.group ? ` — ${describeGroup(run.outcome.group, HOUR)}` : ""}`);
    },
    delivered(deliveryId, outcome) {
      base.delivered(deliveryId, outcome);
      log(outcome.kind === "sent" ? `  ALERT sent: ${deliveryId}` : `  alert ${deliveryId}: ${outcome.kind}`);
    },
  };
}

/**
 * `vigil demo --serve`: after the walk-through, the demo's detector runs live in `vigil
 * serve` on a simulated clock from where the demo stopped: a new hourly file lands in the
 * live folder half-way through each hour, detection runs as each hour closes, and the
 * alerts go out as the service sends them.
 */
export async function serveDemo(report: DemoReport, options: { port: number; rate?: number; log: (line: string) => void }): Promise<ServingService> {
  const start = DEMO_LIVE_START + LIVE_HOURS * HOUR;
  const clock = simulatedClock(start, options.rate ?? DEMO_RATE);
  const serving = await startServing(ServeConfig.parse({ dataDir: report.dataDir, port: options.port }), { clock, linkClock: Date.now, observer: demoObserver(options.log), settings: { policy: DEMO_RETRY_POLICY } });
  const incidents = liveIncidents(start);
  const files = new LocalBlobStore();
  const feeding = new AbortController();
  void (async () => {
    for (let t = start; !feeding.signal.aborted; t += HOUR) {
      await clock.sleepUntil(t + HOUR / 2, feeding.signal);
      if (feeding.signal.aborted) return;
      const day = DateTime.fromMillis(t, { zone: "UTC" });
      const rows = generateShop({ start: t, hours: 1, incidents, seed: t / HOUR });
      await files.put(joinUri(join(report.dataDir, "files"), "live", day.toFormat("yyyyMMdd"), day.toFormat("HHmm"), `shop_${day.toFormat("yyyyMMdd_HHmmss")}.csv`), toCsv(rows));
      const incident = incidents.find((i) => i.start === t);
      if (incident) options.log(`  (${stamp(t)}: "${incident.title}" begins in the shop's data)`);
    }
  })().catch((e: unknown) => options.log(`  the demo's shop stopped writing files: ${e instanceof Error ? e.message : String(e)}`));
  return {
    ...serving,
    stop: () => {
      feeding.abort();
      return serving.stop();
    },
  };
}
