import type { AnomalyGroupRecord } from "../shared/model/anomaly.ts";
import type { AnomalyDetectorArn, AnomalyGroupId, MetricSetArn } from "../shared/model/ids.ts";

const HOUR = 3_600_000;
const BENCH_DETECTOR = "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:bench" as AnomalyDetectorArn;
const BENCH_METRIC_SET = "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/bench/orders" as MetricSetArn;

/**
 * The i-th anomaly group of one metric set as detection stores it: two measures (revenue,
 * views), ten series each (about 2.5 KB of JSON), scores spread over 0–100.
 */
export function benchGroup(i: number, owner: { readonly detector: AnomalyDetectorArn; readonly metricSet: MetricSetArn } = { detector: BENCH_DETECTOR, metricSet: BENCH_METRIC_SET }): AnomalyGroupRecord {
  const impact = (measure: string, peakScore: number) => ({
    measure,
    series: Object.fromEntries(Array.from({ length: 10 }, (_, j) => [`${measure}-${i}-${j}`.padEnd(64, "0"), { platform: `p${j % 3}`, marketplace: `m${j}` }])),
    actual: 400 + i,
    expected: 1000,
    peakScore,
    strength: 3 + (i % 7),
    deviation: { platform: { p0: 300, p1: 200, p2: 100 }, marketplace: { m0: 600 } },
    startMs: Date.UTC(2021, 2, 1) + i * HOUR,
  });
  const score = (i * 7919) % 101;
  return {
    AnomalyGroupId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}` as AnomalyGroupId,
    AnomalyDetectorArn: owner.detector,
    MetricSetArn: owner.metricSet,
    dimensionNames: ["platform", "marketplace"],
    startMs: Date.UTC(2021, 2, 1) + i * HOUR,
    endMs: Date.UTC(2021, 2, 1) + (i + 2) * HOUR,
    score,
    anomalyCount: 12,
    revision: 1,
    impacts: { revenue: impact("revenue", score), views: impact("views", i % 3 ? score - 1 : score + 1) },
  };
}
