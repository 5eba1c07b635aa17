import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyFilter, choicesOf, DEFAULT_FILTER, filterOf, queryOf, topContributors, type IncidentFilter, type IncidentRow } from "../../console/app/incidents.ts";
import { seriesChart, movement, chartDescription } from "../../console/app/series.ts";
import type { AnomalyGroup, DetectorSummary } from "../../console/app/wire.ts";

const HOUR = 3_600_000;
const T = Date.UTC(2021, 2, 1);
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

const detector = (name: string): DetectorSummary => ({ AnomalyDetectorArn: `arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:${name}`, AnomalyDetectorName: name, Status: "ACTIVE", CreationTime: 0, LastModificationTime: 0 });

/** An incident row as the list holds it, with one dimension value per measure carrying it. */
function row(d: DetectorSummary, id: string, score: number, startHour: number, measures: [string, string][]): IncidentRow {
  const group: AnomalyGroup = {
    AnomalyGroupId: id,
    AnomalyGroupScore: score,
    PrimaryMetricName: measures[0]![0],
    StartTime: iso(T + startHour * HOUR),
    EndTime: iso(T + (startHour + 1) * HOUR),
    MetricLevelImpactList: measures.map(([m, dim]) => ({
      MetricName: m,
      NumTimeSeries: 1,
      ContributionMatrix: { DimensionContributionList: [{ DimensionName: dim.split("=")[0]!, DimensionValueContributionList: [{ DimensionValue: dim.split("=")[1]!, ContributionScore: 100 }] }] },
    })),
  };
  const { MetricLevelImpactList: _, ...summary } = group;
  return { detector: d, summary, group };
}

const shop = detector("shop");
const app = detector("app");
const ROWS = [
  row(shop, "a", 96, 20, [["revenue", "marketplace=de"]]),
  row(shop, "b", 100, 58, [["views", "marketplace=jp"], ["revenue", "platform=mobile_app"]]),
  row(app, "c", 63, 70, [["signups", "channel=ads"]]),
  row(shop, "d", 96, 40, [["views", "platform=mobile_web"]]),
];
const ids = (rows: IncidentRow[]) => rows.map((r) => r.summary.AnomalyGroupId);

describe("the incident list's filter", () => {
  it("puts the most severe first, the newer first among equals; or the newest first", () => {
    expect(ids(applyFilter(ROWS, DEFAULT_FILTER))).toEqual(["b", "d", "a", "c"]);
    expect(ids(applyFilter(ROWS, { ...DEFAULT_FILTER, order: "newest" }))).toEqual(["c", "b", "d", "a"]);
  });

  it("keeps what matches the detector, any measure of the group, a dimension value, the severity and the time", () => {
    expect(ids(applyFilter(ROWS, { ...DEFAULT_FILTER, detector: app.AnomalyDetectorArn }))).toEqual(["c"]);
    // revenue is b's second measure: it still counts.
    expect(ids(applyFilter(ROWS, { ...DEFAULT_FILTER, measure: "revenue" }))).toEqual(["b", "a"]);
    expect(ids(applyFilter(ROWS, { ...DEFAULT_FILTER, dimension: "platform=mobile_app" }))).toEqual(["b"]);
    expect(ids(applyFilter(ROWS, { ...DEFAULT_FILTER, severity: 96 }))).toEqual(["b", "d", "a"]);
    // Overlapping [from, to]: a ends at hour 21, c starts at hour 70.
    expect(ids(applyFilter(ROWS, { ...DEFAULT_FILTER, from: T + 21 * HOUR, to: T + 58 * HOUR }))).toEqual(["b", "d", "a"]);
    expect(ids(applyFilter(ROWS, { ...DEFAULT_FILTER, from: T + 22 * HOUR, to: T + 57 * HOUR }))).toEqual(["d"]);
  });

  it("offers the measures and dimension values the groups hold", () => {
    expect(choicesOf(ROWS)).toEqual({
      measures: ["revenue", "signups", "views"],
      dimensions: ["channel=ads", "marketplace=de", "marketplace=jp", "platform=mobile_app", "platform=mobile_web"],
    });
  });

  it("reads from a URL what it writes to one, and leaves out what it cannot read", () => {
    const filter = fc.record(
      {
        detector: fc.constantFrom(shop.AnomalyDetectorArn, app.AnomalyDetectorArn),
        measure: fc.string({ minLength: 1 }),
        dimension: fc.tuple(fc.string({ minLength: 1 }), fc.string()).map(([n, v]) => `${n.replace(/=/g, "")}=${v}`).filter((d) => !d.startsWith("=")),
        severity: fc.integer({ min: 0, max: 100 }),
        from: fc.integer({ min: 0, max: 4e9 }).map((m) => m * 60_000),
        to: fc.integer({ min: 0, max: 4e9 }).map((m) => m * 60_000),
        order: fc.constantFrom("severity" as const, "newest" as const),
      },
      { requiredKeys: ["severity", "order"] },
    );
    fc.assert(
      fc.property(filter, (f: IncidentFilter) => {
        expect(filterOf(new URLSearchParams(queryOf(f).toString()))).toEqual(f);
      }),
    );
    expect(filterOf(new URLSearchParams("severity=101&from=yesterday&dimension=novalue&order=random"))).toEqual(DEFAULT_FILTER);
    expect(filterOf(new URLSearchParams("severity=4.5"))).toEqual(DEFAULT_FILTER);
  });

  it("names the strongest value of each dimension, strongest first", () => {
    const impact = {
      MetricName: "revenue",
      NumTimeSeries: 3,
      ContributionMatrix: {
        DimensionContributionList: [
          { DimensionName: "platform", DimensionValueContributionList: [{ DimensionValue: "ios", ContributionScore: 20 }, { DimensionValue: "web", ContributionScore: 39 }] },
          { DimensionName: "marketplace", DimensionValueContributionList: [{ DimensionValue: "de", ContributionScore: 100 }] },
        ],
      },
    };
    expect(topContributors(impact)).toEqual([
      { name: "marketplace", value: "de", score: 100 },
      { name: "platform", value: "web", score: 39 },
    ]);
    expect(topContributors(undefined)).toEqual([]);
  });
});

describe("a series' chart", () => {
  const timestamps = Array.from({ length: 27 }, (_, i) => iso(T + (i - 24) * HOUR));
  const values = [...Array.from({ length: 24 }, (_, i) => 100 + (i % 3)), 300, 280, null];
  const chart = seriesChart(timestamps, { TimeSeriesId: "s", DimensionList: [], MetricValueList: values }, iso(T), iso(T + 2 * HOUR));

  it("marks the onset at the group's first interval and ends the incident after its last", () => {
    expect(chart.onsetIndex).toBe(24);
    expect(chart.onset).toBe(T / 1000);
    expect(chart.end).toBe((T + 3 * HOUR) / 1000);
    expect(chart.times).toHaveLength(27);
  });

  it("ranks a series by how far it moved in the incident, ignoring gaps", () => {
    const flat = seriesChart(timestamps, { TimeSeriesId: "f", DimensionList: [], MetricValueList: values.map(() => 100) }, iso(T), iso(T + 2 * HOUR));
    expect(movement(chart)).toBeGreaterThan(1.8);
    expect(movement(flat)).toBe(0);
  });

  it("describes itself in words for a screen reader", () => {
    expect(chartDescription("views", chart, "marketplace=jp")).toBe("views for marketplace=jp: 27 intervals, values from 100 to 300; 300 at the onset, 280 to 300 during the incident.");
  });
});
