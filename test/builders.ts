import { join } from "node:path";
import type { ReadableMetricSet } from "../shared/detect/read-files.ts";
import { CreateMetricSetRequest } from "../shared/model/metric-set.ts";
import { parseOrThrow } from "../shared/model/validate.ts";
import type { AnomalyGroupEvent } from "../shared/model/anomaly-event.ts";
import { activateDetector, createDetector, createMetricSet, OPERATOR, type Scope, type Services } from "../shared/app/index.ts";
import { tempDir } from "./temp-dirs.ts";
import type { AnomalyDetector } from "../shared/model/detector.ts";
import type { MetricSet } from "../shared/model/metric-set.ts";
import { localServices, type LocalOptions } from "../shared/runtime/local.ts";
import type { Anomaly, AnomalyGroupRecord, MeasureImpact } from "../shared/model/anomaly.ts";
import { timeSeriesId, type AlertArn, type AnomalyDetectorArn, type AnomalyGroupId, type MetricSetArn } from "../shared/model/ids.ts";
import { groupKey } from "../shared/app/detect.ts";
import { advanceGroup, groupIdOf, noMembers, type GroupingContext } from "../shared/incidents/grouping.ts";
import { carriedGroup } from "../shared/incidents/bounded.ts";
import type { BlobStore } from "../shared/store/blobs.ts";
import type { Delivery } from "../shared/alerts/delivery.ts";
import { alertMessage } from "../shared/alerts/message.ts";
import type { Alert } from "../shared/model/alert.ts";

/** A valid CreateMetricSet request for a local folder; override any field. */
export function metricSetRequest(overrides: Partial<Record<keyof CreateMetricSetRequest, unknown>> & Record<string, unknown> = {}): Record<string, unknown> {
  return {
    AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop",
    MetricSetName: "orders",
    MetricSetFrequency: "PT1H",
    MetricList: [
      { MetricName: "views", AggregationFunction: "SUM" },
      { MetricName: "revenue", AggregationFunction: "SUM" },
    ],
    DimensionList: ["platform", "marketplace"],
    TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
    MetricSource: {
      S3SourceConfig: {
        TemplatedPathList: ["s3://shop-metrics/live/{{yyyyMMdd}}/{{HHmm}}"],
        HistoricalDataPathList: ["s3://shop-metrics/history/"],
        FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } },
      },
    },
    ...overrides,
  };
}

/**
 * The shop's detector (PT1H) and its metric set over local files: an hour's files under
 * `<files>/live/yyyyMMdd/HHmm`, the history under `<files>/history`.
 */
export async function shopOnFiles(services: Services, files: string, scope: Scope = OPERATOR): Promise<{ detector: AnomalyDetector; metricSet: MetricSet }> {
  const detector = await createDetector(services, scope, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const metricSet = await createMetricSet(services, scope, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(files, "live/{{yyyyMMdd}}/{{HHmm}}")], HistoricalDataPathList: [join(files, "history")] } } }));
  return { detector, metricSet };
}

/** The same request, validated, as the readers take it (hourly). */
export function readableMetricSet(overrides: Parameters<typeof metricSetRequest>[0] = {}): ReadableMetricSet {
  return { ...parseOrThrow(CreateMetricSetRequest, metricSetRequest(overrides), "metric set"), MetricSetFrequency: "PT1H" };
}

export const HOUR = 3_600_000;
export const T0 = Date.UTC(2021, 0, 4); // a Monday

/** A live interval's folder in L4M's sample layout ({{yyyyMMdd}}/{{HHmm}}). */
/** A saved model snapshot (a head or a shard) as an engine long gone wrote it: its bank's format set to 1, which no engine of now reads. */
export function inOldFormat(saved: Uint8Array): Uint8Array {
  const bytes = Buffer.from(saved);
  const at = bytes.lastIndexOf('"format":');
  if (at < 0) throw new Error("not a model snapshot");
  bytes[at + '"format":'.length] = 0x31;
  return bytes;
}

export const liveFolder = (t: number) => `${new Date(t).toISOString().slice(0, 10).replaceAll("-", "")}/${new Date(t).toISOString().slice(11, 16).replace(":", "")}`;
/** CSV files with a header, comma-separated, as a metric set's S3SourceConfig describes them. */
export const CSV_FILES = { FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } };
export const sqlTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");

export interface ShopPoint {
  t: number;
  platform: string;
  marketplace: string;
  views: number | string;
  revenue: number | string;
}

export const csvOf = (points: readonly ShopPoint[]) =>
  "timestamp,platform,marketplace,views,revenue\n" + points.map((p) => `${sqlTime(p.t)},${p.platform},${p.marketplace},${p.views},${p.revenue}`).join("\n") + "\n";

/** A smooth daily cycle with small deterministic wiggle, per series. */
export function cycle(t: number, base: number): number {
  const h = new Date(t).getUTCHours();
  return Math.round(base * (0.6 + 0.4 * Math.cos((2 * Math.PI * (h - 18)) / 24)) + ((t / HOUR) % 5) - 2);
}

/** Hourly points of the given series over [from, from + hours). */
export function shopPoints(from: number, hours: number, series: readonly { platform: string; marketplace: string; base: number }[], tweak?: (p: ShopPoint) => ShopPoint): ShopPoint[] {
  const out: ShopPoint[] = [];
  for (let h = 0; h < hours; h++) {
    const t = from + h * HOUR;
    for (const s of series) {
      const views = cycle(t, s.base);
      const p = { t, platform: s.platform, marketplace: s.marketplace, views, revenue: Math.round(views * 30) / 100 };
      out.push(tweak ? tweak(p) : p);
    }
  }
  return out;
}

export { tempDir } from "./temp-dirs.ts";

/** An anomaly group event as detection announces it: revenue down in marketplace=de. */
export function anomalyGroupEvent(overrides: { type?: AnomalyGroupEvent["type"]; revision?: number; score?: number; measures?: string[]; affected?: string[]; groupId?: string; intervalStart?: number } = {}): AnomalyGroupEvent {
  const start = T0 + 20 * HOUR;
  const intervalStart = overrides.intervalStart ?? start + 2 * HOUR;
  const score = overrides.score ?? 91.5;
  const measures = overrides.measures ?? ["revenue"];
  const points = 24;
  const expected = Array.from({ length: points }, (_, j) => 1000 + 100 * Math.sin(j / 3));
  const actual = expected.map((e, j) => (j >= points - 3 ? e * 0.4 : j === 5 ? null : e + 10));
  return {
    type: overrides.type ?? "AnomalyGroupChanged",
    anomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop",
    metricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/orders",
    revision: overrides.revision ?? 1,
    intervalStart,
    intervalMs: HOUR,
    anomalyGroup: {
      AnomalyGroupId: (overrides.groupId ?? "4f1c2d3e-aaaa-4bbb-8ccc-0123456789ab") as AnomalyGroupId,
      StartTime: new Date(start).toISOString().replace(".000", ""),
      EndTime: new Date(intervalStart).toISOString().replace(".000", ""),
      AnomalyGroupScore: score,
      PrimaryMetricName: measures[0]!,
      MetricLevelImpactList: measures.map((m) => ({
        MetricName: m,
        NumTimeSeries: 3,
        ContributionMatrix: {
          DimensionContributionList: [
            { DimensionName: "marketplace", DimensionValueContributionList: [{ DimensionValue: "de", ContributionScore: 100 }] },
            { DimensionName: "platform", DimensionValueContributionList: [{ DimensionValue: "pc_web", ContributionScore: 55 }, { DimensionValue: "mobile_web", ContributionScore: 45 }] },
          ],
        },
      })),
    },
    summary: {
      measure: measures[0]!,
      direction: "DOWN",
      actual: 1234.5,
      expected: 3086.25,
      contributors: [
        { name: "marketplace", value: "de", share: 100 },
        { name: "platform", value: "pc_web", share: 55 },
      ],
      affected: overrides.affected ?? ["marketplace=de", "platform=mobile_web", "platform=pc_web"],
      relevantTimeSeries: [
        { timeSeriesId: "a".repeat(128), dimensions: [{ dimensionName: "marketplace", dimensionValue: "de" }, { dimensionName: "platform", dimensionValue: "pc_web" }], metricValue: 410.2, expectedValue: 1020.7 },
        { timeSeriesId: "b".repeat(128), dimensions: [{ dimensionName: "marketplace", dimensionValue: "de" }, { dimensionName: "platform", dimensionValue: "mobile_web" }], metricValue: 320.1, expectedValue: 850.3 },
      ],
      chart: { start: intervalStart - (points - 1) * HOUR, intervalMs: HOUR, actual, expected, lower: expected.map((e) => e - 150), upper: expected.map((e) => e + 150) },
    },
  };
}

/** What a message needs of an alert. */
export const alertNamed = (name: string, description?: string) => ({
  AlertName: name,
  AlertArn: `arn:aws:lookoutmetrics:us-east-1:000000000000:Alert:${name}` as AlertArn,
  ...(description ? { AlertDescription: description } : {}),
});

/** An alert of `account` to a webhook, as a delivery names it (not stored). */
export const alertOfAccount = (account: string, name = "hook"): Alert =>
  ({ AlertArn: `arn:aws:lookoutmetrics:us-east-1:${account}:Alert:${name}`, AlertName: name, AnomalyDetectorArn: `arn:aws:lookoutmetrics:us-east-1:${account}:AnomalyDetector:shop`, AlertSensitivityThreshold: 70, Action: { WebhookConfiguration: { Url: "https://example.com/hook" } }, AlertStatus: "ACTIVE" }) as Alert;

/** `n` deliveries of `alert`, one per anomaly group (`4f1c2d3e-<tag>-4bbb-8ccc-<i>`, i counted from `from`): distinct deliveries, as alerting makes them. */
export function deliveriesOf(alert: Pick<Alert, "AlertArn" | "AlertName">, n: number, options: { readonly tag?: string; readonly from?: number } = {}): Delivery[] {
  const { tag = "aaaa", from = 0 } = options;
  return Array.from({ length: n }, (_, i) => {
    const message = alertMessage(alert, anomalyGroupEvent({ groupId: `4f1c2d3e-${tag}-4bbb-8ccc-${String(from + i).padStart(12, "0")}` }), "first", "http://localhost:8087");
    return { deliveryId: message.deliveryId, alertArn: alert.AlertArn, message };
  });
}

/** The local mode's services over `dir`, at a fixed clock unless told otherwise. */
export const localAt = (dir: string, clock: () => number = () => T0, options: Omit<LocalOptions, "clock"> = {}): Services => localServices(dir, { clock, ...options });

/**
 * An active detector's metric set over local files (one series), its history (a day, unless
 * told) learned by the first run; its live intervals start after the history, and the first
 * `liveHours` of them have files (their points changed by `tweak`). `clock.now` is the
 * services' clock.
 */
export async function activeShop(options: { liveHours?: number; historyHours?: number; tweak?: (p: ShopPoint) => ShopPoint } = {}) {
  const { liveHours = 0, historyHours = 24, tweak } = options;
  const dir = await tempDir();
  const live = T0 + historyHours * HOUR;
  const clock = { now: live };
  const rt = localAt(join(dir, "vigil"), () => clock.now);
  const files = join(dir, "files");
  const series = [{ platform: "web", marketplace: "de", base: 100 }];
  await rt.blobs.put(join(files, "history", "all.csv"), csvOf(shopPoints(T0, historyHours, series)));
  for (let h = 0; h < liveHours; h++) {
    const [day, time] = new Date(live + h * HOUR).toISOString().replace(/[-:]/g, "").split("T");
    await rt.blobs.put(join(files, "live", day!, time!.slice(0, 4), "part.csv"), csvOf(shopPoints(live + h * HOUR, 1, series, tweak)));
  }
  const { detector, metricSet } = await shopOnFiles(rt, files);
  await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
  return { rt, metricSet, live, clock };
}
/** An anomaly group as detection stores it, in metric set shop/orders, an hour long; `peaks` gives each measure's peak score (the highest leads). */
export function anomalyGroupRecord(overrides: { groupId?: string; score?: number; peaks?: Record<string, number>; startMs?: number } = {}): AnomalyGroupRecord {
  const score = overrides.score ?? 80;
  const startMs = overrides.startMs ?? T0;
  const peaks = overrides.peaks ?? { revenue: score };
  const impact = (measure: string, peakScore: number): MeasureImpact => ({ measure, series: { s1: { marketplace: "de" } }, actual: 400, expected: 1000, peakScore, strength: 3, deviation: { marketplace: { de: 600 } }, startMs });
  return {
    AnomalyGroupId: (overrides.groupId ?? "4f1c2d3e-aaaa-4bbb-8ccc-0123456789ab") as AnomalyGroupId,
    AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop" as AnomalyDetectorArn,
    MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/orders" as MetricSetArn,
    dimensionNames: ["marketplace"],
    startMs,
    endMs: startMs + HOUR,
    score,
    anomalyCount: 1,
    revision: 1,
    impacts: Object.fromEntries(Object.entries(peaks).map(([m, p]) => [m, impact(m, p)])),
  };
}

/**
 * A group's record as one past its bound stores it (incidents/bounded.ts): without the series
 * `left` of `measure`, which it still counts.
 */
export function leftOut(group: AnomalyGroupRecord, measure: string, left: readonly string[]): AnomalyGroupRecord {
  const impact = group.impacts[measure]!;
  const ids = Object.keys(impact.series);
  const kept = ids.filter((id) => !left.includes(id));
  const peaks = impact.seriesPeak;
  const bounded: MeasureImpact = { ...impact, series: Object.fromEntries(kept.map((id) => [id, impact.series[id]!])), seriesCount: ids.length, ...(peaks ? { seriesPeak: kept.map((id) => peaks[ids.indexOf(id)]!) } : {}) };
  return { ...group, impacts: { ...group.impacts, [measure]: bounded } };
}

/**
 * The services with every read of blobs counted (`get`, `read` and `list`, as "get <address>"
 * and so on), the results' and the metric set's files alike: what a request costs, without
 * timing it.
 */
export function countingReads(services: Services): { services: Services; reads: string[] } {
  const reads: string[] = [];
  const counted = <T extends object>(store: T): T =>
    new Proxy(store, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (name === "get" || name === "getRange" || name === "read" || name === "list") reads.push(`${name} ${String(args[0])}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return { services: { ...services, blobs: counted<BlobStore>(services.blobs), dataFiles: (grant) => counted(services.dataFiles(grant)) }, reads };
}

export const FIVE_MINUTES = 300_000;
/** Intervals of a 30-day anomaly group at PT5M, its first and last included. */
export const THIRTY_DAYS_AT_PT5M = 30 * 288 + 1;

/**
 * A PT5M shop (detector and metric set over local files under `<dir>/files`, never run) and one
 * anomaly group of it `intervals` long from a day after T0, stored as detection stores it: views
 * of web/de (`seriesId`), deviating throughout. `seriesPeak` is the series' largest deviation
 * kept in the group; without it, the group is as one stored before detection kept it.
 */
export async function longGroupShop(options: { intervals: number; seriesPeak?: number }) {
  const dir = await tempDir();
  const services = localAt(join(dir, "vigil"));
  const files = join(dir, "files");
  const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT5M" } });
  const metricSet = await createMetricSet(services, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetFrequency: "PT5M", MetricSource: { S3SourceConfig: { TemplatedPathList: [join(files, "live/{{yyyyMMdd}}/{{HHmm}}")], HistoricalDataPathList: [join(files, "history")] } } }));
  const dimensions = { platform: "web", marketplace: "de" };
  const seriesId = timeSeriesId(metricSet.MetricSetArn as MetricSetArn, "views", Object.entries(dimensions));
  const startMs = T0 + 24 * HOUR;
  const intervals = options.intervals;
  const endMs = startMs + (intervals - 1) * FIVE_MINUTES;
  const views: MeasureImpact = { measure: "views", series: { [seriesId]: dimensions }, actual: 40 * intervals, expected: 100 * intervals, peakScore: 90, strength: intervals, deviation: { platform: { web: 60 * intervals }, marketplace: { de: 60 * intervals } }, startMs, ...(options.seriesPeak === undefined ? {} : { seriesPeak: [options.seriesPeak] }) };
  const group: AnomalyGroupRecord = {
    AnomalyGroupId: groupIdOf(metricSet.MetricSetArn as MetricSetArn, startMs),
    AnomalyDetectorArn: detector.AnomalyDetectorArn as AnomalyDetectorArn,
    MetricSetArn: metricSet.MetricSetArn as MetricSetArn,
    dimensionNames: ["platform", "marketplace"],
    startMs,
    endMs,
    score: 90,
    anomalyCount: intervals,
    revision: intervals,
    impacts: { views },
  };
  await services.records.put("groups", groupKey(metricSet, group.AnomalyGroupId), group);
  return { dir, files, services, detectorArn: detector.AnomalyDetectorArn, metricSet, group, seriesId, dimensions };
}

/** FNV-1a (32 bits) from `state` over a string's UTF-16 code units. */
const fnv1a = (text: string, state = 0x811c9dc5) => {
  let h = state;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

/**
 * 2^`blocks` distinct keys of one FNV-1a hash, as a tenant could write them: for each block,
 * two code units a, c whose products (state ^ a)·p, (state ^ c)·p share their high 16 bits,
 * each followed by a code unit (b, d) that undoes the low bits' difference; then every choice
 * of one of the two per block. No key holds a control character or a lone surrogate.
 */
const printable = (u: number) => u >= 0x20 && !(u >= 0x7f && u < 0xa0) && !(u >= 0xd800 && u < 0xe000) && u < 0xfffe;

export function collidingKeys(blocks: number): string[] {
  const pairs: [string, string][] = [];
  let state = 0x811c9dc5;
  for (let n = 0; n < blocks; n++) {
    const byHigh = new Map<number, number>();
    let pair: [string, string] | undefined;
    for (let a = 0x4e00; !pair; a++) {
      const x = Math.imul(state ^ a, 0x01000193) >>> 0;
      const c = byHigh.get(x >>> 16);
      if (c === undefined) {
        byHigh.set(x >>> 16, a);
        continue;
      }
      const diff = (x ^ Math.imul(state ^ c, 0x01000193)) & 0xffff;
      const b = [0x4e00, 0x41, 0x3400, 0xe000].find((b) => printable(b) && printable(b ^ diff));
      if (b !== undefined) pair = [String.fromCharCode(a, b), String.fromCharCode(c, b ^ diff)];
    }
    pairs.push(pair);
    state = fnv1a(pair[0], state);
  }
  return Array.from({ length: 2 ** blocks }, (_, i) => pairs.map((p, b) => p[(i >> b) & 1]).join(""));
}

/** An anomaly of one series of `metricSetArn` (its measure and dimension values), `actual` against `expected` within a band of ± `band`. */
export function anomalyOf(p: { metricSetArn: MetricSetArn; measure?: string; dimensions: readonly (readonly [string, string])[]; t?: number; actual: number; expected: number; band: number; score?: number }): Anomaly {
  const measure = p.measure ?? "revenue";
  return {
    metricSetArn: p.metricSetArn,
    timeSeriesId: timeSeriesId(p.metricSetArn, measure, p.dimensions),
    measure,
    dimensions: Object.fromEntries(p.dimensions),
    timestamp: p.t ?? T0,
    actual: p.actual,
    expected: p.expected,
    lower: p.expected - p.band,
    upper: p.expected + p.band,
    direction: p.actual < p.expected ? "DOWN" : "UP",
    score: p.score ?? 90,
  };
}

/**
 * Folds intervals of anomalies into a group as detection does (app/detect.ts, finishInterval):
 * the model carries it as carriedGroup makes it, through JSON (as a model's head is stored),
 * from one interval (an hour from T0) to the next; membership is each series' last anomaly
 * (here: the ids seen so far). Answers the group carried and the last one grown.
 */
export function carriedFold(ctx: GroupingContext, intervals: readonly (readonly Anomaly[])[]): { carried: AnomalyGroupRecord; grown: AnomalyGroupRecord } {
  let open: AnomalyGroupRecord | undefined;
  let grown: AnomalyGroupRecord | undefined;
  const seen = new Set<string>();
  intervals.forEach((anomalies, k) => {
    const tally = noMembers();
    for (const a of anomalies) {
      if (seen.has(a.timeSeriesId)) tally.returning++;
      else tally.fresh[a.measure] = (tally.fresh[a.measure] ?? 0) + 1;
      seen.add(a.timeSeriesId);
    }
    const advance = advanceGroup(ctx, open, anomalies, tally, T0 + k * HOUR);
    grown = advance.changed ?? grown;
    open = advance.changed && advance.open === advance.changed ? (JSON.parse(JSON.stringify(carriedGroup(advance.changed))) as AnomalyGroupRecord) : advance.open;
  });
  return { carried: open!, grown: grown! };
}

/** A promise to wait on (`done`) and what settles it (`open`): for tests that hold one operation at a chosen point while another runs. */
export function latch(): { readonly done: Promise<void>; readonly open: () => void } {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { done, open };
}

/** The services, with `during` run once, as the first file whose address ends with `/<name>` is written (before it is). */
export function duringWrite(rt: Services, name: string, during: () => Promise<void>): Services {
  let done = false;
  const blobs = new Proxy(rt.blobs, {
    get: (target, key) =>
      key === "put"
        ? async (...args: Parameters<BlobStore["put"]>) => {
            if (!done && args[0].endsWith(`/${name}`)) {
              done = true;
              await during();
            }
            return target.put(...args);
          }
        : Reflect.get(target, key, target),
  });
  return { ...rt, blobs };
}
