import { SeriesBank } from "../../../shared/engine/bank.ts";
import { newStepResult, step, type StepResult } from "../../../shared/engine/step.ts";

/** The series the format-5 fixtures in ./format5 hold (snapshot-format.test.ts): each saved after `points` points of `learn`. */
export const SAVED = [
  { name: "pt1h", interval: 3_600_000, series: 3, points: 600 },
  { name: "pt1m", interval: 60_000, series: 2, points: 4000 },
] as const;

const value = (i: number, j: number, perDay: number) => 100 + 20 * i + 10 * Math.sin((2 * Math.PI * j) / perDay) + ((j * 7 + i * 3) % 5) + (j % 97 === 0 ? 40 : 0);
const k0 = (interval: number) => Math.floor(Date.UTC(2024, 0, 1) / interval);

/** Steps the bank's series through points [from, to), interleaved, with gaps; each step's result, every field. */
export function learn(bank: SeriesBank, from: number, to: number, points: number): number[] {
  const out: StepResult = newStepResult();
  const perDay = 86_400_000 / bank.intervalMs;
  const results: number[] = [];
  for (let j = from; j < to; j++)
    for (let i = 0; i < bank.size; i++) {
      if ((j + i) % 13 === 0) continue;
      step(bank, i, k0(bank.intervalMs) + j, value(i, j, perDay), out, j < points / 3);
      results.push(out.expected, out.scale, out.scaleBelow, out.scaleAbove, out.z, out.score, out.drift, +out.routine, +out.ongoing, +out.open);
    }
  return results;
}

export function fresh(interval: number, series: number): SeriesBank {
  const bank = new SeriesBank(interval);
  for (let i = 0; i < series; i++) bank.slot(`s${i}`);
  return bank;
}
