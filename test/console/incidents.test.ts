import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyFilter, choicesOf, DEFAULT_FILTER, filterOf, queryOf, topContributors, type IncidentFilter, type IncidentRow } from "../../console/app/incidents.ts";
import { atSeverity, rateText } from "../../console/app/backtest.ts";
import { rejectsCsv } from "../../console/app/csv.ts";
import { beganBefore, chartDescription, movement, outsideBand, rangeChart, seriesChart } from "../../console/app/series.ts";
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
    expect(chartDescription("views", chart, "marketplace=jp")).toBe("views for marketplace=jp: 27 intervals, values from 100 to 300; 300 at the onset, 280 to 300 during the incident; 0 outside the expected band.");
  });

  it("carries the band detection kept, null where it kept none, and counts the values outside it", () => {
    const expected = values.map((_, i) => (i < 2 ? null : 101));
    const banded = seriesChart(timestamps, { TimeSeriesId: "s", DimensionList: [], MetricValueList: values, ExpectedValueList: expected, LowerBoundList: expected.map((e) => (e === null ? null : e - 5)), UpperBoundList: expected.map((e) => (e === null ? null : e + 5)), AnomalyScoreList: values.map((v) => (v !== null && v > 200 ? 99 : 3)) }, iso(T), iso(T + 2 * HOUR));
    expect(banded.expected).toEqual(expected);
    expect(banded.scores[24]).toBe(99);
    expect(outsideBand(banded)).toBe(2);
    expect(chartDescription("views", banded, "marketplace=jp")).toBe("views for marketplace=jp: 27 intervals, values from 100 to 300; 300 at the onset (expected 101), 280 to 300 during the incident; 2 outside the expected band.");
    // A series' history over a range has no incident.
    const range = rangeChart(timestamps, values, {});
    expect([range.onset, range.end, range.onsetIndex, range.lower.every((x) => x === null)]).toEqual([undefined, undefined, 27, true]);
  });
});

describe("a long incident's chart, of its newest intervals only", () => {
  // The incident began 400 hours before the first interval shown; its newest 288 are.
  const timestamps = Array.from({ length: 288 }, (_, i) => iso(T + (400 + i) * HOUR));
  const expected = timestamps.map(() => 100);
  const series = (level: number) => seriesChart(timestamps, { TimeSeriesId: "s", DimensionList: [], MetricValueList: timestamps.map((_, i) => level + (i % 3)), ExpectedValueList: expected }, iso(T), iso(T + 687 * HOUR));

  it("has every interval shown in the incident, and no onset among them", () => {
    const chart = series(40);
    expect(beganBefore(chart)).toBe(true);
    expect(chart.onsetIndex).toBe(0);
    expect(beganBefore(seriesChart(timestamps, { TimeSeriesId: "s", DimensionList: [], MetricValueList: expected }, timestamps[0]!, timestamps.at(-1)!))).toBe(false);
    expect(chartDescription("views", chart, "marketplace=jp")).toBe("views for marketplace=jp: 288 intervals, values from 40 to 42; the incident began before them, 40 to 42 during the incident; 0 outside the expected band.");
  });

  it("ranks a series by how far it is from expected in the incident, as there is nothing before it to compare", () => {
    expect(movement(series(40))).toBeCloseTo(0.59, 2);
    expect(movement(series(40))).toBeGreaterThan(movement(series(90)));
    expect(movement(series(99))).toBeCloseTo(0, 1);
  });
});

describe("the back-test report", () => {
  const group = (score: number, day: number) => ({ AnomalyGroupId: `g${day}`, AnomalyGroupScore: score, PrimaryMetricName: "views", StartTime: iso(T + day * 24 * HOUR), EndTime: iso(T + day * 24 * HOUR) });
  const groups = [group(95, 3), group(72, 1), group(40, 9), group(70, 12)];

  it("counts the incidents a week at or above a severity over the period scored, oldest first", () => {
    const twoWeeks = { from: T, to: T + 14 * 24 * HOUR };
    expect(atSeverity(groups, 70, twoWeeks.from, twoWeeks.to)).toEqual({ groups: [groups[1], groups[0], groups[3]], perWeek: 1.5 });
    expect(atSeverity(groups, 96, twoWeeks.from, twoWeeks.to).perWeek).toBe(0);
    expect(atSeverity(groups, 0, twoWeeks.from, twoWeeks.to).perWeek).toBe(2);
    expect([rateText(0), rateText(1), rateText(1.5), rateText(0.04), rateText(12.4)]).toEqual(["no incident", "1.0 incident a week", "1.5 incidents a week", "under 0.1 incidents a week", "12 incidents a week"]);
  });

  it("keeps a formula in the data as text in the CSV", () => {
    const csv = rejectsCsv([{ File: "f.csv", Line: 2, Reason: "NON_NUMERIC_MEASURE", Detail: "=HYPERLINK(\"http://x\")", Partial: false, Row: "@SUM(A1)" }]);
    expect(csv.split("\n")[1]).toBe(`f.csv,2,NON_NUMERIC_MEASURE,"'=HYPERLINK(""http://x"")",false,'@SUM(A1)`);
  });

  it("writes the rows kept aside as CSV a spreadsheet reads back", () => {
    const csv = rejectsCsv([
      { File: "s3://b/k.csv", Line: 7, Reason: "NON_NUMERIC_MEASURE", Detail: 'views is "lots", not a number', Partial: false, Row: { views: "lots", marketplace: "de" } },
      { File: "f.csv", Line: 8, Reason: "MALFORMED_RECORD", Detail: "a,b\nc", Partial: true, Row: "a,b" },
    ]);
    expect(csv).toBe('file,line,reason,detail,partial,row\ns3://b/k.csv,7,NON_NUMERIC_MEASURE,"views is ""lots"", not a number",false,"{""views"":""lots"",""marketplace"":""de""}"\nf.csv,8,MALFORMED_RECORD,"a,b\nc",true,"a,b"\n');
  });
});
