import { rm } from "node:fs/promises";
import { join } from "node:path";
import { DateTime } from "luxon";
import type { DeliveryOutcome } from "../shared/alerts/deliver.ts";
import type { RetryPolicy } from "../shared/alerts/retry.ts";
import { activateDetector, createAlert, createDetector, createMetricSet, dataQuality, deactivateDetector, detectDue, groupRecords, OPERATOR, silentObserver, type Services } from "../shared/app/index.ts";
import { demoIncidents, generateShop, toCsv, type Incident, type ShopRow } from "../shared/demo/shop.ts";
import { primaryImpact, topContributors } from "../shared/incidents/contribution.ts";
import { rankGroups } from "../shared/incidents/ranking.ts";
import type { AnomalyGroupRecord } from "../shared/model/anomaly.ts";
import { joinUri } from "../shared/model/path-template.ts";
import { localServices } from "../shared/runtime/local.ts";
import { DEFAULT_ALERT_SETTINGS } from "../shared/runtime/settings.ts";
import { describeGroup } from "./describe.ts";

const HOUR = 3_600_000;
/** A newcomer's URL that does not answer should not hold the demo up for long. */
export const DEMO_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseMs: 500, capMs: 2_000, maxRetryAfterMs: 10_000 };
const HISTORY_DAYS = 28;
export const LIVE_HOURS = 72;
/** The demo's live data starts here; history is the four weeks before. */
export const DEMO_LIVE_START = Date.UTC(2021, 2, 1);

export interface DemoGroup {
  readonly group: AnomalyGroupRecord;
  readonly line: string;
  readonly incident: Incident | undefined;
  /** Whether the first-named contributor is one of the incident's true causes. */
  readonly causeNamedFirst: boolean;
}

/** Where the demo's alerts go besides the local SNS outbox. */
export interface DemoChannels {
  readonly slackWebhook?: string;
  readonly webhook?: string;
  readonly webhookSecret?: string;
  readonly email?: string;
  readonly smtp?: string;
}

/** One delivery the demo's alerts made, and what became of it. */
export interface DemoDelivery {
  readonly deliveryId: string;
  /** The alert's name: a delivery id starts with it. */
  readonly alert: string;
  readonly outcome: DeliveryOutcome;
}

export interface DemoReport {
  readonly dataDir: string;
  readonly detectorArn: string;
  readonly deliveries: DemoDelivery[];
  readonly groups: DemoGroup[];
  readonly incidents: Incident[];
  readonly rowsRejected: number;
  readonly rowsPartial: number;
}

/** Bad rows the demo slips into its live files, so the data quality report has something to say. */
function withBadRows(csv: string, hour: number): string {
  if (hour % 24 !== 5) return csv;
  const day = DateTime.fromMillis(DEMO_LIVE_START + hour * HOUR, { zone: "UTC" }).toFormat("yyyy-MM-dd HH:mm:ss");
  return `${csv}${day},pc_web,us,n/a,12.5\n${day},pc_web,,40,11.0\n`;
}

/**
 * `vigil demo`: writes a shop's history and hourly live files under `dataDir`, creates a
 * detector, metric set and alert, learns the history, runs every live hour in turn as the
 * scheduler would, and returns the ranked anomaly groups next to the incidents injected.
 */
export async function runDemo(dataDir: string, log: (line: string) => void, channels: DemoChannels = {}): Promise<DemoReport> {
  const root = join(dataDir, "demo");
  await rm(root, { recursive: true, force: true });
  let clock = DEMO_LIVE_START;
  const deliveries: DemoDelivery[] = [];
  const settings = { ...DEFAULT_ALERT_SETTINGS, ...(channels.smtp ? { smtpUrl: channels.smtp } : {}), policy: DEMO_RETRY_POLICY };
  const observer = { ...silentObserver, delivered: (deliveryId: string, outcome: DeliveryOutcome) => void deliveries.push({ deliveryId, alert: deliveryId.split("/")[0]!, outcome }) };
  // The demo's clock walks through 2021; links in its messages expire from the real clock.
  const rt = localServices(root, { clock: () => clock, linkClock: Date.now, settings, observer });
  const incidents = demoIncidents(DEMO_LIVE_START);
  const historyStart = DEMO_LIVE_START - HISTORY_DAYS * 24 * HOUR;
  const rows = generateShop({ start: historyStart, hours: HISTORY_DAYS * 24 + LIVE_HOURS, incidents });

  const files = join(root, "files");
  const byHour = new Map<number, ShopRow[]>();
  for (const r of rows) (byHour.get(r.timestamp) ?? byHour.set(r.timestamp, []).get(r.timestamp)!).push(r);
  for (let d = 0; d < HISTORY_DAYS; d++) {
    const day = rows.filter((r) => r.timestamp >= historyStart + d * 24 * HOUR && r.timestamp < historyStart + (d + 1) * 24 * HOUR);
    await rt.blobs.put(joinUri(files, "history", `${DateTime.fromMillis(historyStart + d * 24 * HOUR, { zone: "UTC" }).toFormat("yyyyMMdd")}.csv`), toCsv(day));
  }
  for (let h = 0; h < LIVE_HOURS; h++) {
    const t = DEMO_LIVE_START + h * HOUR;
    const stamp = DateTime.fromMillis(t, { zone: "UTC" });
    await rt.blobs.put(joinUri(files, "live", stamp.toFormat("yyyyMMdd"), stamp.toFormat("HHmm"), `shop_${stamp.toFormat("yyyyMMdd_HHmmss")}.csv`), withBadRows(toCsv(byHour.get(t) ?? []), h));
  }
  log(`Wrote ${HISTORY_DAYS} days of history and ${LIVE_HOURS} hourly files (${rows.length} rows) under ${files}`);

  const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorDescription: "Online shop views and revenue", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const metricSet = await createMetricSet(rt, OPERATOR, {
    AnomalyDetectorArn: detector.AnomalyDetectorArn,
    MetricSetName: "orders",
    MetricList: [
      { MetricName: "views", AggregationFunction: "SUM" },
      { MetricName: "revenue", AggregationFunction: "SUM" },
    ],
    DimensionList: ["platform", "marketplace"],
    TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
    Timezone: "UTC",
    MetricSource: {
      S3SourceConfig: {
        TemplatedPathList: [joinUri(files, "live", "{{yyyyMMdd}}", "{{HHmm}}")],
        HistoricalDataPathList: [joinUri(files, "history")],
        FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } },
      },
    },
  });
  const actions = [
    { SNSConfiguration: { RoleArn: "arn:aws:iam::000000000000:role/vigil-demo", SnsTopicArn: "arn:aws:sns:us-east-1:000000000000:vigil-demo", SnsFormat: "LONG_TEXT" } },
    ...(channels.slackWebhook ? [{ SlackConfiguration: { WebhookUrl: channels.slackWebhook } }] : []),
    ...(channels.webhook ? [{ WebhookConfiguration: { Url: channels.webhook, ...(channels.webhookSecret ? { Secret: channels.webhookSecret } : {}) } }] : []),
    ...(channels.email ? [{ EmailConfiguration: { To: [channels.email] } }] : []),
  ];
  for (const [i, Action] of actions.entries()) {
    await createAlert(rt, OPERATOR, { AlertName: i === 0 ? "shop-severe" : `shop-severe-${Object.keys(Action)[0]!.replace("Configuration", "").toLowerCase()}`, AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 70, Action });
  }
  await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
  log(`Created detector ${detector.AnomalyDetectorArn} with metric set ${metricSet.MetricSetName} (2 measures × 21 series) and ${actions.length} alert(s) at severity 70`);

  const groupIds = new Set<string>();
  for (let h = 1; h <= LIVE_HOURS; h++) {
    clock = DEMO_LIVE_START + h * HOUR; // the scheduler fires as each hour closes
    for (const run of await detectDue(rt, clock)) {
      if (run.outcome.kind !== "processed") continue;
      if (run.outcome.group) groupIds.add(run.outcome.group.AnomalyGroupId);
    }
    if (h % 24 === 0) log(`Detected ${h}/${LIVE_HOURS} live hours: ${groupIds.size} anomaly group(s) so far`);
  }

  const stored = (await groupRecords(rt, OPERATOR, detector.AnomalyDetectorArn)).filter((g) => groupIds.has(g.AnomalyGroupId));
  const groups = rankGroups(stored).map((group) => {
    const incident = incidents.find((i) => group.startMs < i.start + i.hours * HOUR && i.start <= group.endMs);
    const first = topContributors(primaryImpact(group), group.dimensionNames)[0];
    const causeNamedFirst = !!incident && !!first && incident.cause[first.name] === first.value;
    return { group, line: describeGroup(group, HOUR), incident, causeNamedFirst };
  });
  // The rows kept aside, as data quality tells them: those not used at all, and those used in part (a measure that is no number).
  const intervals = (await dataQuality(rt, OPERATOR, detector.AnomalyDetectorArn))[0]?.intervals ?? [];
  const rowsRejected = intervals.reduce((n, q) => n + q.rowsRejected, 0);
  const rowsPartial = intervals.reduce((n, q) => n + q.rowsPartial, 0);
  return { dataDir: root, detectorArn: detector.AnomalyDetectorArn, deliveries, groups, incidents, rowsRejected, rowsPartial };
}

/**
 * Leaves the demo's detector deactivated, as `vigil demo` ends (without `--serve`, or when its
 * live service stops, given that service's `services`): its files end
 * in March 2021, and served on the real clock an active detector would try the last 2,000
 * hours (MAX_CATCH_UP), each recorded FAILED for want of a file. `vigil serve --data-dir` then
 * shows what the demo found as it was. (ActivateAnomalyDetector on the real clock would meet
 * exactly those hours; `vigil demo --serve` runs it live on a simulated clock instead.)
 */
export async function pauseDemo(report: DemoReport, services?: Services): Promise<void> {
  const end = DEMO_LIVE_START + LIVE_HOURS * HOUR;
  await deactivateDetector(services ?? localServices(report.dataDir, { clock: () => end, linkClock: Date.now }), OPERATOR, report.detectorArn);
}

export function printDemo(report: DemoReport, log: (line: string) => void): void {
  log("");
  log(`Anomaly groups, most severe first (${report.groups.length}):`);
  report.groups.forEach((g, i) => {
    log(`${String(i + 1).padStart(2)}. ${g.line}`);
    log(`    id ${g.group.AnomalyGroupId}`);
    if (g.incident) {
      const cause = Object.entries(g.incident.cause).map(([k, v]) => `${k}=${v}`).join(", ");
      log(`    injected: ${g.incident.title} (true cause ${cause}) — ${g.causeNamedFirst ? "named first" : "NOT named first"}`);
    } else log("    injected: none (a false alarm)");
  });
  const found = report.incidents.filter((i) => report.groups.some((g) => g.incident === i)).length;
  log("");
  log(`Found ${found} of ${report.incidents.length} injected incidents. ${report.rowsRejected + report.rowsPartial} bad rows were kept aside with their reasons (${report.rowsRejected} not used, ${report.rowsPartial} used in part).`);
  log(`Results (anomalies.jsonl, rejects.jsonl, quality.json per hour) are under ${join(report.dataDir, "results")}`);
  const byOutcome = (kind: string) => report.deliveries.filter((d) => d.outcome.kind === kind);
  const sent = byOutcome("sent");
  const perAlert = [...new Set(sent.map((d) => d.alert))].map((name) => `${name} ${sent.filter((d) => d.alert === name).length}`);
  log(`Alerts: ${sent.length} message(s) sent (${perAlert.join(", ") || "none"}); SNS messages are in ${join(report.dataDir, "outbox", "sns.jsonl")}`);
  for (const d of byOutcome("parked")) log(`  parked ${d.deliveryId}: ${d.outcome.kind === "parked" ? d.outcome.detail : ""} — \`vigil replay --data-dir ${report.dataDir}\` sends it again`);
  log(`The links in the messages open while \`vigil serve --data-dir ${report.dataDir}\` runs (it holds the key they are signed with).`);
}
