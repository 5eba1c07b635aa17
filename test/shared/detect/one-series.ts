import { backtest, type BacktestResult } from "../../../shared/detect/backtest.ts";
import type { IntervalCells } from "../../../shared/ingest/aggregate.ts";
import { intervalMs, type Frequency } from "../../../shared/model/frequency.ts";
import type { AnomalyDetectorArn, MetricSetArn } from "../../../shared/model/ids.ts";
import { HOUR, T0 } from "../../builders.ts";

/** One series (measure `value`, AVG, no dimensions), one value per interval from `value(k)` (k counts intervals from T0; NaN: none). */
export function oneSeries(frequency: Frequency, intervals: number, value: (k: number) => number) {
  const len = intervalMs(frequency);
  const data = new Map<number, IntervalCells>();
  for (let k = 0; k < intervals; k++) {
    const x = value(k);
    if (Number.isFinite(x)) data.set(T0 + k * len, new Map([["", { dimensions: [], sums: [x], counts: [1] }]]));
  }
  const metricSet = {
    MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/test/one" as MetricSetArn,
    AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:test" as AnomalyDetectorArn,
    MetricList: [{ MetricName: "value", AggregationFunction: "AVG" as const }],
    DimensionList: [],
    MetricSetFrequency: frequency,
  };
  return { metricSet, data };
}

/** That series run as a back-test (what `vigil backtest` runs) scored from `fromDay` on. */
export function backtestOf(frequency: Frequency, intervals: number, value: (k: number) => number, fromDay = 14): BacktestResult {
  const { metricSet, data } = oneSeries(frequency, intervals, value);
  return backtest(metricSet, { intervals: data }, { from: T0 + fromDay * 24 * HOUR });
}
