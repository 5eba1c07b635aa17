import { scoreOfZ } from "./calibration.ts";

/**
 * The event score of a single stream, for consumers that want one number per point and
 * an alarm per incident (`vigil score`, NAB). On top of the engine's residual z:
 *
 * 1. Likelihood, after Numenta's "anomaly likelihood" (Ahmad et al., 2017, "Unsupervised
 *    real-time anomaly detection for streaming data"): how unusual the last few residual
 *    sizes are *for this series*, against the long-run distribution of its own residual
 *    sizes. A heavy-tailed series stops alarming on its ordinary bursts; a calm one alarms
 *    on a small but sustained change. The spread of residual sizes has a floor, so a
 *    series without noise does not alarm on rounding.
 * 2. A shape not seen recently (shingle-knn.ts): when its conformal score is rarer than 1 in
 *    2,000, it is reported at SHAPE_WEIGHT (above the onset), whatever the residuals say.
 * 3. Recurrence: a surprise no larger than one seen at the same time of the previous cycle
 *    (a day, or a week for daily data, give or take 1/32 of it) is a routine, like a nightly
 *    job that runs a few minutes early or late, which the engine's seasonal slots cannot
 *    learn because it does not fall in the same slot twice. The same holds for shapes.
 * 4. Onset: once an event has been reported, the points that follow for a while report
 *    nothing, because they are the same event (an L4M anomaly group does the same for
 *    alerts). Without this, one incident reads as a run of alarms.
 */

/** Points averaged for the short-run residual size. */
const SHORT = 6;
/** Rate of the long-run mean and variance of residual sizes (a memory of ~2,000 points). */
const LONG_RATE = 0.0005;
/** Points of history before any likelihood is reported. */
const MIN_HISTORY = 50;
/** Floor of the long-run spread of residual sizes (log1p|z|), so float noise on a flat series stays ordinary. */
const SPREAD_FLOOR = 0.05;
/** Event score (0–1) at which an event is taken as reported. */
const ONSET = 0.7;
/** A shape score at or above this is an event of its own. */
const SHAPE_THRESHOLD = 0.9995;
/** What such a shape reports: above the onset, below the residual test's strongest scores. */
const SHAPE_WEIGHT = 0.75;
/** A shape this unusual a cycle ago makes today's at the same time a routine. */
const ROUTINE_SHAPE = 0.99;
/** Points after a report that belong to the same event. */
const QUIET_AFTER = 100;

export class EventScorer {
  private readonly recent = new Float64Array(SHORT);
  /** The last cycle of residual sizes and shape scores, for the recurrence test. */
  private readonly pastSize: Float64Array;
  private readonly pastShape: Float64Array;
  /** How far either side of "one cycle ago" a routine may drift, in points. */
  private readonly drift: number;
  private seen = 0;
  /** Points since the long-run statistics (re)started. */
  private learned = 0;
  private mean = 0;
  private variance = 0;
  private quiet = 0;

  /** `cycle`: points in the cycle routines repeat on (a day of sub-daily data, a week of daily data). */
  constructor(private readonly cycle = 288) {
    this.drift = Math.ceil(cycle / 32);
    this.pastSize = new Float64Array(cycle + this.drift + 1);
    this.pastShape = new Float64Array(cycle + this.drift + 1);
  }

  /** Forget the long-run statistics, as when the residuals change footing (the engine's seasonal model turned warm). */
  restart(): void {
    this.learned = 0;
    this.mean = 0;
    this.variance = 0;
  }

  /**
   * The event score in [0, 1] of a point whose engine residual is `z` and whose shape
   * score is `shape`. With `report` false (the engine is still learning) the point is
   * learned and 0 is returned.
   */
  next(z: number, report: boolean, shape = 0): number {
    if (Number.isNaN(z)) return 0;
    const u = Math.log1p(Math.min(Math.abs(z), 1e6));
    const at = this.seen % this.pastSize.length;
    this.recent[this.seen % SHORT] = u;
    this.pastSize[at] = u;
    this.pastShape[at] = shape;
    const k = Math.min(SHORT, this.learned + 1);
    let short = 0;
    for (let j = 0; j < k; j++) short += this.recent[(this.seen - j + SHORT) % SHORT]!;
    short /= k;
    let score = 0;
    if (this.learned > MIN_HISTORY && !this.recurs(this.pastSize, (past) => past >= u)) {
      const zLikelihood = (short - this.mean) / ((Math.sqrt(this.variance) + SPREAD_FLOOR) / Math.sqrt(k));
      score = scoreOfZ(Math.max(0, zLikelihood)) / 100;
    }
    if (shape >= SHAPE_THRESHOLD && !this.recurs(this.pastShape, (past) => past >= ROUTINE_SHAPE)) score = Math.max(score, shape * SHAPE_WEIGHT);
    // Learn after scoring: causal.
    const a = Math.max(LONG_RATE, 1 / (this.learned + 1));
    const d = u - this.mean;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
    this.learned++;
    this.seen++;

    if (!report) return 0;
    const reported = this.quiet > 0 ? 0 : score;
    if (this.quiet > 0) this.quiet--;
    if (score > ONSET) this.quiet = QUIET_AFTER;
    return reported;
  }

  /** Whether any point within `drift` of one cycle ago passes `test`. */
  private recurs(ring: Float64Array, test: (past: number) => boolean): boolean {
    if (this.seen < this.cycle + this.drift) return false;
    const n = ring.length;
    for (let d = -this.drift; d <= this.drift; d++) if (test(ring[(this.seen - this.cycle + d + n) % n]!)) return true;
    return false;
  }
}
