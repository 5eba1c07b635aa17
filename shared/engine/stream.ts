import { SeriesBank } from "./bank.ts";
import { EventScorer } from "./event-score.ts";
import { ShingleKnn } from "./shingle-knn.ts";
import { newStepResult, step } from "./step.ts";

/**
 * One stream scored point by point, for `vigil score` (NAB): the engine's step gives the
 * residual, shingle-knn.ts the shape score, and event-score.ts turns both into one event
 * score in [0, 1]. Causal: a point is scored before it is learned.
 *
 * The event scorer watches from the first point but reports only once the engine is warm,
 * so that its memory of the last cycle (the recurrence test) is full when it starts: the
 * first cycle is judged against what the same time showed while the engine was learning.
 * Its long-run statistics restart when the engine turns warm, because the residuals of a
 * learning model are on another footing.
 */
const DAY_MS = 86_400_000;

export class StreamScorer {
  private readonly bank: SeriesBank;
  private readonly series: number;
  private readonly out = newStepResult();
  private readonly events: EventScorer;
  private readonly shapes = new ShingleKnn();

  constructor(intervalMs: number) {
    this.bank = new SeriesBank(intervalMs);
    this.series = this.bank.slot("value");
    // Routines repeat daily in sub-daily data, weekly in daily data.
    this.events = new EventScorer(intervalMs < DAY_MS ? Math.round(DAY_MS / intervalMs) : 7);
  }

  /** The event score of value `x` at epoch ms `t`; a missing value (NaN) scores 0 and is not learned. */
  next(t: number, x: number): number {
    if (!Number.isFinite(x)) return 0;
    const seen = this.bank.seen[this.series]!;
    const warmup = this.bank.layout.warmup;
    if (seen === warmup) this.events.restart();
    step(this.bank, this.series, Math.floor(t / this.bank.intervalMs), x, this.out);
    return this.events.next(this.out.z, seen >= warmup, this.shapes.next(x));
  }
}
