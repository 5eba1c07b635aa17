import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { BAND_Z } from "../../../shared/engine/calibration.ts";
import { boundedGroup, carriedGroup, GROUP_RECORD_BYTES, GROUP_SERIES_KEPT, GROUP_VALUES_KEPT } from "../../../shared/incidents/bounded.ts";
import { toAnomalyGroup } from "../../../shared/incidents/contribution.ts";
import { groupEvent } from "../../../shared/detect/group-event.ts";
import { advanceGroup, deviationOf, noMembers, seriesPeakOf } from "../../../shared/incidents/grouping.ts";
import type { Anomaly, AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import { metricSetKey, timeSeriesId, type AnomalyDetectorArn, type MetricSetArn } from "../../../shared/model/ids.ts";
import { MAX_SERIES_KEY_LENGTH } from "../../../shared/ingest/rows.ts";
import { seriesKeyOf } from "../../../shared/ingest/series-key.ts";
import { item } from "../../../shared/store/dynamo-records.ts";
import { anomalyOf, carriedFold, HOUR, T0 } from "../../builders.ts";

const metricSetArn = "arn:aws:lookoutmetrics:us-east-1:123456789012:MetricSet/shop/orders" as MetricSetArn;
const DIMENSIONS = ["region", "service", "host"];
const ctx = (dimensionNames = DIMENSIONS) => ({ detectorArn: "arn:aws:lookoutmetrics:us-east-1:123456789012:AnomalyDetector:shop" as AnomalyDetectorArn, metricSetArn, dimensionNames, intervalMs: HOUR });

/** Series `i` of a wide outage (a host of its own, in a region and a service), `z` residual scales off expected. */
function outage(i: number, z: number, options: { measure?: string; t?: number; values?: (i: number) => readonly string[]; names?: readonly string[] } = {}): Anomaly {
  const measure = options.measure ?? "revenue";
  const names = options.names ?? DIMENSIONS;
  const values = options.values?.(i) ?? [`eu-west-${i % 3}`, `svc-${i % 40}`, `ip-10-0-${(i >> 8) & 255}-${i & 255}.ec2.internal`];
  const pairs = names.map((n, k) => [n, values[k]!] as const);
  const expected = 1000;
  const scale = 10;
  return anomalyOf({ metricSetArn, measure, dimensions: pairs, t: options.t ?? T0, actual: expected + z * scale, expected, band: BAND_Z * scale });
}

/** Folds intervals of anomalies into one group, as detection does, nothing persisting between them. */
function grown(intervals: readonly (readonly Anomaly[])[], dimensionNames = DIMENSIONS): AnomalyGroupRecord {
  let open: AnomalyGroupRecord | undefined;
  intervals.forEach((anomalies, k) => (open = advanceGroup(ctx(dimensionNames), open, anomalies, noMembers(), T0 + k * HOUR).changed ?? open));
  return open!;
}

/** Most severe first, then by id: the order a record keeps series in. */
const bySeverity = (a: Anomaly, b: Anomaly) => Math.abs(deviationOf(b)) - Math.abs(deviationOf(a)) || (a.timeSeriesId < b.timeSeriesId ? -1 : 1);

/** A z of 3 to about 18 for series i of n, in no order of i. */
const zOf = (i: number, n: number) => -(3 + ((i * 7919) % n) / 100);

/** The size DynamoDB counts for an item: each attribute's name and value (UTF-8 strings, raw binary, numbers at most 21 bytes). */
const itemBytes = (found: Record<string, AttributeValue>) =>
  Object.entries(found).reduce((n, [name, v]) => n + Buffer.byteLength(name) + (v.B ? v.B.length : v.S !== undefined ? Buffer.byteLength(v.S) : v.N !== undefined ? 21 : 0), 0);

const ITEM_LIMIT = 400 * 1024;
const stored = (group: AnomalyGroupRecord) => itemBytes(item("groups", `${metricSetKey(metricSetArn)}/${group.AnomalyGroupId}`, group));

describe("a group's stored record", () => {
  it("keeps the most severe series of a measure, exactly as many as its bound, and counts all of them", () => {
    const n = 3 * GROUP_SERIES_KEPT;
    const anomalies = Array.from({ length: n }, (_, i) => outage(i, zOf(i, n)));
    const group = grown([anomalies]);
    const record = boundedGroup(group);
    const impact = record.impacts["revenue"]!;
    const severest = [...anomalies].sort(bySeverity).slice(0, GROUP_SERIES_KEPT);
    expect(Object.keys(impact.series)).toHaveLength(GROUP_SERIES_KEPT);
    expect(new Set(Object.keys(impact.series))).toEqual(new Set(severest.map((a) => a.timeSeriesId)));
    for (const a of severest) {
      expect(impact.series[a.timeSeriesId]).toEqual(a.dimensions);
      expect(seriesPeakOf(impact, a.timeSeriesId)).toBe(deviationOf(a));
    }
    expect(record.anomalyCount).toBe(n);
    expect(toAnomalyGroup(record).MetricLevelImpactList[0]!.NumTimeSeries).toBe(n);
    expect(impact.actual).toBe(group.impacts["revenue"]!.actual);
    // Each kept value scores its share of all the deviation, as of the whole group; the host's values beyond the bound are the least.
    const [full, kept] = [toAnomalyGroup(group), toAnomalyGroup(record)].map((g) => g.MetricLevelImpactList[0]!.ContributionMatrix.DimensionContributionList);
    const hosts = kept![2]!.DimensionValueContributionList;
    const allHosts = new Map(full![2]!.DimensionValueContributionList.map((v) => [v.DimensionValue, v.ContributionScore]));
    expect(allHosts.size).toBe(n);
    expect(hosts).toHaveLength(GROUP_VALUES_KEPT);
    for (const v of hosts) expect(v.ContributionScore).toBe(allHosts.get(v.DimensionValue));
    const left = [...allHosts].filter(([v]) => !hosts.some((h) => h.DimensionValue === v)).map(([, score]) => score);
    expect(Math.max(...left)).toBeLessThanOrEqual(Math.min(...hosts.map((h) => h.ContributionScore)));
    expect(kept!.slice(0, 2)).toEqual(full!.slice(0, 2));
    // The group itself, which the model carries on, keeps them all.
    expect(Object.keys(group.impacts["revenue"]!.series)).toHaveLength(n);
  });

  it("is the group itself while every measure is within its bound", () => {
    // As many series as a measure keeps, of no more values in a dimension than it keeps.
    const within = (i: number) => [`eu-west-${Math.floor(i / GROUP_VALUES_KEPT)}`, "svc-1", `ip-10-0-0-${i % GROUP_VALUES_KEPT}`];
    const group = grown([Array.from({ length: GROUP_SERIES_KEPT }, (_, i) => outage(i, zOf(i, GROUP_SERIES_KEPT), { values: within }))]);
    expect(Object.keys(group.impacts["revenue"]!.series)).toHaveLength(GROUP_SERIES_KEPT);
    expect(boundedGroup(group)).toBe(group);
  });

  it("keeps each measure's own most severe series", () => {
    const n = GROUP_SERIES_KEPT + 50;
    const group = grown([[...Array.from({ length: n }, (_, i) => outage(i, zOf(i, n))), ...Array.from({ length: 20 }, (_, i) => outage(i, -2, { measure: "orders" }))]]);
    const record = boundedGroup(group);
    expect(Object.keys(record.impacts["revenue"]!.series)).toHaveLength(GROUP_SERIES_KEPT);
    expect(record.impacts["orders"]).toBe(group.impacts["orders"]);
    expect(toAnomalyGroup(record).MetricLevelImpactList.map((m) => [m.MetricName, m.NumTimeSeries])).toEqual([
      ["revenue", n],
      ["orders", 20],
    ]);
  });

  it("takes in a series that turns more severe later, in place of the weakest kept, and counts a series once however often it comes", () => {
    const n = GROUP_SERIES_KEPT + 10;
    const first = Array.from({ length: n }, (_, i) => outage(i, zOf(i, n)));
    const weakest = [...first].sort(bySeverity).slice(GROUP_SERIES_KEPT);
    const lastKept = [...first].sort(bySeverity).slice(GROUP_SERIES_KEPT - 2, GROUP_SERIES_KEPT);
    // An hour on: one series left out comes back worse than any, and a new one nearly as bad.
    const back = outage(first.indexOf(weakest[0]!), -40, { t: T0 + HOUR });
    const fresh = outage(n, 39, { t: T0 + HOUR });
    const record = boundedGroup(grown([first, [back, fresh]]));
    const impact = record.impacts["revenue"]!;
    expect(Object.keys(impact.series)).toHaveLength(GROUP_SERIES_KEPT);
    expect(seriesPeakOf(impact, back.timeSeriesId)).toBe(-40);
    expect(seriesPeakOf(impact, fresh.timeSeriesId)).toBe(39);
    for (const a of lastKept) expect(impact.series[a.timeSeriesId]).toBeUndefined();
    expect(toAnomalyGroup(record).MetricLevelImpactList[0]!.NumTimeSeries).toBe(n + 1);
    expect(record.anomalyCount).toBe(n + 2);
  });

  it("keeps the same series whatever order their anomalies came in, within one interval or over two; equals by id", () => {
    const n = 2 * GROUP_SERIES_KEPT;
    // A fifth of the series share each z: the bound falls among equals.
    const anomalies = Array.from({ length: n }, (_, i) => outage(i, -(3 + (i % 5))));
    const shuffled = [...anomalies].sort((a, b) => (a.timeSeriesId.slice(7) < b.timeSeriesId.slice(7) ? -1 : 1));
    const keptOf = (group: AnomalyGroupRecord) => {
      const impact = boundedGroup(group).impacts["revenue"]!;
      return { peaks: new Map(Object.keys(impact.series).map((id) => [id, seriesPeakOf(impact, id)])), count: toAnomalyGroup(boundedGroup(group)).MetricLevelImpactList[0]!.NumTimeSeries };
    };
    const once = keptOf(grown([anomalies]));
    expect(once.count).toBe(n);
    expect(new Set(once.peaks.keys())).toEqual(new Set([...anomalies].sort(bySeverity).slice(0, GROUP_SERIES_KEPT).map((a) => a.timeSeriesId)));
    expect(keptOf(grown([[...anomalies].reverse()]))).toEqual(once);
    expect(keptOf(grown([shuffled]))).toEqual(once);
    const later = (a: Anomaly) => ({ ...a, timestamp: T0 + HOUR });
    expect(keptOf(grown([shuffled.slice(0, n / 2), shuffled.slice(n / 2).map(later)]))).toEqual(once);
    expect(keptOf(grown([shuffled.slice(n / 2), shuffled.slice(0, n / 2).map(later)]))).toEqual(once);
  });
});

describe("a group's stored record as a DynamoDB item", () => {
  it("stays under 400 KB for a wide outage of realistic series, which the whole group is far over", () => {
    const names = ["region", "service", "host", "platform", "marketplace"];
    const values = (i: number) => [`eu-west-${i % 3}`, `svc-${i % 40}`, `ip-10-${(i >> 16) & 255}-${(i >> 8) & 255}-${i & 255}.ec2.internal`, `platform-${i % 4}`, `market-${i % 13}`];
    const n = 4000;
    const group = grown(
      [["revenue", "orders", "views", "sessions", "errors"].flatMap((measure) => Array.from({ length: n }, (_, i) => outage(i, zOf(i, n), { measure, names, values })))],
      names,
    );
    expect(stored(group)).toBeGreaterThan(ITEM_LIMIT);
    expect(stored(boundedGroup(group))).toBeLessThan(ITEM_LIMIT / 2);
  });

  it("stays under 400 KB for dimension names and values as long as a metric set may hold, of bytes gzip cannot make fewer", () => {
    // Five measures and five dimensions of 63-character names; values of printable characters at random (the most information a byte of JSON holds), each measure's own.
    const names = Array.from({ length: 5 }, (_, k) => `d${k}`.padEnd(63, "x"));
    const measures = ["m1", "m2", "m3", "m4", "m5"].map((m) => m.padEnd(63, "m"));
    // mulberry32: the same values every run.
    let seed = 7;
    const random = () => {
      let t = (seed = (seed + 0x6d2b79f5) | 0);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const value = (length: number) => String.fromCharCode(...Array.from({ length }, () => 0x21 + Math.floor(random() * 94)));
    const worst = (n: number, length: (i: number) => number) => {
      const anomalies = measures.flatMap((measure) =>
        Array.from({ length: n }, (_, i) => {
          const values = names.map(() => value(length(i)));
          expect(seriesKeyOf(values).length).toBeLessThanOrEqual(MAX_SERIES_KEY_LENGTH);
          return outage(i, zOf(i, n), { measure, names, values: () => values });
        }),
      );
      const group = grown([anomalies], names);
      expect(stored(group)).toBeGreaterThan(ITEM_LIMIT);
      const record = boundedGroup(group);
      expect(toAnomalyGroup(record).MetricLevelImpactList.map((m) => m.NumTimeSeries)).toEqual(measures.map(() => n));
      return { record, bytes: stored(record) };
    };
    // Values of up to 200 characters: the record takes all the bytes it may (names and ids repeat, which gzip makes fewer).
    const filled = worst(600, (i) => 8 + ((i * 97) % 200));
    expect(filled.bytes).toBeLessThan(ITEM_LIMIT * 0.75);
    expect(filled.bytes).toBeGreaterThan(GROUP_RECORD_BYTES / 2);
    // Each series' values as long as a series key may be: fewer series fit, in as many bytes at most.
    const longest = worst(60, () => (MAX_SERIES_KEY_LENGTH - 4) / 5 - 1);
    expect(longest.bytes).toBeLessThan(ITEM_LIMIT * 0.75);
    for (const measure of measures) expect(Object.keys(longest.record.impacts[measure]!.series).length).toBeGreaterThan(0);
  });
});

describe("a group's stored record past its bytes", () => {
  it("keeps a dimension's next values where its largest is too long for its share, rather than none of them", () => {
    // Five measures of five dimensions, each of more values than a record keeps: each dimension's list gets about a 25th of the values' bytes.
    const names = ["region", "service", "host", "platform", "marketplace"];
    const measures = ["revenue", "orders", "views", "sessions", "errors"];
    const n = 2 * GROUP_VALUES_KEPT;
    // Series 0 of revenue is the most severe, of a host name longer than the host's share of the bytes.
    const long = `ip-${"0".repeat(3000)}.ec2.internal`;
    const values = (i: number) => [`eu-west-${i}`, `svc-${i}`, i === 0 ? long : `ip-10-0-${i}.ec2.internal`, `platform-${i}`, `market-${i}`];
    const group = grown([measures.flatMap((measure) => Array.from({ length: n }, (_, i) => outage(i, i === 0 ? -50 : zOf(i, n), { measure, names, values })))], names);
    const record = boundedGroup(group);
    const hosts = record.impacts["revenue"]!.deviation["host"]!;
    expect(Object.keys(hosts)).not.toContain(long);
    // The host carrying the most deviation after it is kept, and about as many as the other measures keep of theirs.
    const next = [...Array.from({ length: n }, (_, i) => i)].filter((i) => i > 0).sort((a, b) => zOf(a, n) - zOf(b, n))[0]!;
    expect(Object.keys(hosts)).toContain(`ip-10-0-${next}.ec2.internal`);
    expect(Object.keys(hosts).length).toBeGreaterThanOrEqual(Object.keys(record.impacts["orders"]!.deviation["host"]!).length - 1);
  });
});

describe("a group's event past its record's bytes", () => {
  it("names as affected every value with its share of the deviation, those its record could not keep too: alerts' dimension filters and silences match on them", () => {
    // Five measures of five dimensions, each dimension of five values as long as a user agent or a URL, each carrying a fifth of its deviation.
    const names = ["region", "service", "host", "platform", "marketplace"];
    const measures = ["revenue", "orders", "views", "sessions", "errors"];
    const values = (i: number) => names.map((n) => `${n}-${i}-`.padEnd(400, "x"));
    const group = grown([measures.flatMap((measure) => Array.from({ length: 5 }, (_, i) => outage(i, -5, { measure, names, values })))], names);
    const record = boundedGroup(group);
    expect(Object.keys(record.impacts["revenue"]!.deviation["host"]!).length).toBeLessThan(5);
    const event = groupEvent("AnomalyGroupChanged", record, [], { intervalMs: HOUR, window: () => undefined }, T0, group);
    for (const n of names) for (let i = 0; i < 5; i++) expect(event.summary.affected).toContain(`${n}=${values(i)[names.indexOf(n)]}`);
    // What the event shows of the group is its record's.
    expect(event.anomalyGroup).toEqual(toAnomalyGroup(record));
  });
});

describe("a group the model carries", () => {
  it("names as affected, at its next revision and at its end, the values its record could not keep for their bytes", () => {
    const names = ["region", "service", "host", "platform", "marketplace"];
    const measures = ["revenue", "orders", "views", "sessions", "errors"];
    const values = (i: number) => names.map((name) => `${name}-${i}-`.padEnd(400, "x"));
    const first = measures.flatMap((measure) => Array.from({ length: 5 }, (_, i) => outage(i, -5, { measure, names, values })));
    const again = [outage(0, -5, { measure: "revenue", names, values, t: T0 + HOUR })];
    const { carried: group, grown } = carriedFold(ctx(names), [first, again]);
    expect(Object.keys(boundedGroup(grown).impacts["revenue"]!.deviation["host"]!).length).toBeLessThan(5);
    const none = { intervalMs: HOUR, window: () => undefined };
    const changed = groupEvent("AnomalyGroupChanged", boundedGroup(grown), again, none, T0 + HOUR, grown);
    const ended = groupEvent("AnomalyGroupEnded", boundedGroup(group), [], none, T0 + 2 * HOUR, group);
    for (const event of [changed, ended]) for (const [n, name] of names.entries()) for (let i = 0; i < 5; i++) expect(event.summary.affected).toContain(`${name}=${values(i)[n]}`);
  });

  it("counts every series once and keeps the most severe, whatever order they deviate in, as the whole group does", () => {
    // 700 series, 300 of them again an hour later, more severe: the carried group keeps the same series as the whole one.
    const z = (i: number) => 3 + ((i * 37) % 100) / 10;
    const first = Array.from({ length: 700 }, (_, i) => outage(i, z(i)));
    const later = Array.from({ length: 300 }, (_, i) => outage(i * 2, z(i * 2) + 4, { t: T0 + HOUR }));
    const whole = grown([first, later]);
    const { grown: group } = carriedFold(ctx(DIMENSIONS), [first, later]);
    expect(boundedGroup(group)).toEqual(boundedGroup(whole));
    expect(toAnomalyGroup(boundedGroup(group)).MetricLevelImpactList[0]!.NumTimeSeries).toBe(700);
  });
});
