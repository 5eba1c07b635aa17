import { noise, uniform } from "./series.ts";

/**
 * Quiet hourly series, with no incident in them, under four noise models a metric set meets:
 * Gaussian noise on a daily cycle, Poisson counts, heavy tails (a Student t with 3 degrees of
 * freedom) and sparse counts that are mostly zeros. Series `s` of a model is deterministic.
 * What severity 70 promises is measured on them: fewer than one alert per series per 30 days
 * (semantics.test.ts on a few series; `npm run bench -- quiet` on many).
 */
export type QuietModel = (k: number, s: number) => number;

const daily = (k: number) => Math.sin((2 * Math.PI * k) / 24);
const t3 = (k: number, s: number) => noise(k, s) / Math.sqrt((noise(k, s + 100) ** 2 + noise(k, s + 200) ** 2 + noise(k, s + 300) ** 2) / 3);

/** Poisson counts of mean `mean` by Knuth's method on deterministic uniforms. */
function poisson(mean: number, k: number, s: number): number {
  let p = 1;
  let n = -1;
  const limit = Math.exp(-mean);
  for (let j = 0; p > limit && j < 1000; j++) {
    n++;
    p *= uniform(k * 1000 + j, s + 500);
  }
  return Math.max(0, n);
}

export const QUIET_MODELS: Readonly<Record<string, QuietModel>> = {
  gaussian: (k, s) => 100 + 20 * daily(k) + 5 * noise(k, s),
  poisson: (k, s) => poisson(20 * (1 + 0.5 * daily(k)), k, s),
  "heavy tails": (k, s) => 100 + 20 * daily(k) + 5 * t3(k, s),
  zeros: (k, s) => poisson(0.2 * (1 + daily(k)), k, s),
};
