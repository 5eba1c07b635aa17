import { QUIET_MODELS } from "../test/shared/engine/quiet-series.ts";
import { backtestOf } from "../test/shared/detect/one-series.ts";

type Report = (name: string, value: string, target?: string) => void;

const WARM_DAYS = 14;
const SCORED_DAYS = 60;

/**
 * What severity 70 promises on quiet series (issue target: under one alert per series per 30
 * days of hourly data), through the product's path: each series a one-series metric set
 * back-tested as `vigil backtest` runs it, an alert counted per anomaly group reaching 70.
 * The tests check it on 8 series a model; here on many, so that the figure is not the luck
 * of a few series (VIGIL_BENCH_QUIET_SERIES, 200 by default).
 */
export function quietFigures(report: Report, series = Number(process.env.VIGIL_BENCH_QUIET_SERIES ?? 200)): void {
  for (const [name, model] of Object.entries(QUIET_MODELS)) {
    let alerts = 0;
    for (let s = 1; s <= series; s++) {
      const r = backtestOf("PT1H", (WARM_DAYS + SCORED_DAYS) * 24, (k) => model(k, s), WARM_DAYS);
      alerts += r.groups.filter((g) => g.score >= 70).length;
    }
    const rate = alerts / series / (SCORED_DAYS / 30);
    report(`quiet series, ${name}: alerts at 70 per series per 30 days, hourly (${series} series × ${SCORED_DAYS} days; alerts)`, `${rate.toFixed(3)} (${alerts})`, "< 1");
  }
}
