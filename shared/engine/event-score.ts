import { scoreOfZ } from "./calibration.ts";

/**
 * The event score of a single stream, for consumers that want one number per point and
 * an alarm per incident (`vigil score`, NAB). Two steps on top of the engine's residual z:
 *
 * 1. Likelihood, after Numenta's "anomaly likelihood" (Ahmad et al., 2017, "Unsupervised
 *    real-time anomaly detection for streaming data"): how unusual the last few residual
 *    sizes are *for this series*, against the long-run distribution of its own residual
 *    sizes. A heavy-tailed series stops alarming on its ordinary bursts; a calm one alarms
 *    on a small but sustained change.
 * 2. A shape not seen recently (shingle-knn.ts): when its conformal score is rarer than 1 in
 *    2,000, it is reported at SHAPE_WEIGHT (above the onset), whatever the residuals say.
 * 3. Onset: once an event has been reported, the points that follow for a while report
 *    nothing, because they are the same event (an L4M anomaly group does the same for
 *    alerts). Without this, one incident reads as a run of alarms.
 */

/** Points averaged for the short-run residual size. */
const SHORT = 6;
/** Rate of the long-run mean and variance of residual sizes (a memory of ~2,000 points). */
const LONG_RATE = 0.0005;
/** Points of history before any likelihood is reported. */
const MIN_HISTORY = 50;
/** Event score (0–1) at which an event is taken as reported. */
const ONSET = 0.7;
/** A shape score at or above this is an event of its own. */
const SHAPE_THRESHOLD = 0.9995;
/** What such a shape reports: above the onset, below the residual test's strongest scores. */
const SHAPE_WEIGHT = 0.75;
/** Points after a report that belong to the same event. */
const QUIET_AFTER = 100;

export class EventScorer {
  private readonly recent = new Float64Array(SHORT);
  private seen = 0;
  private mean = 0;
  private variance = 0;
  private quiet = 0;

  /**
   * The event score in [0, 1] of a point whose engine residual is `z` and whose shape
   * score is `shape`; `scored` is false during the engine's warm-up.
   */
  next(z: number, scored: boolean, shape = 0): number {
    if (!scored || Number.isNaN(z)) return 0;
    const u = Math.log1p(Math.min(Math.abs(z), 1e6));
    this.recent[this.seen % SHORT] = u;
    const k = Math.min(SHORT, this.seen + 1);
    let short = 0;
    for (let j = 0; j < k; j++) short += this.recent[j]!;
    short /= k;
    let score = 0;
    if (this.seen > MIN_HISTORY) {
      const zLikelihood = (short - this.mean) / ((Math.sqrt(this.variance) + 1e-6) / Math.sqrt(k));
      score = scoreOfZ(Math.max(0, zLikelihood)) / 100;
    }
    // Learn after scoring: causal.
    const a = Math.max(LONG_RATE, 1 / (this.seen + 1));
    const d = u - this.mean;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
    this.seen++;

    if (shape >= SHAPE_THRESHOLD) score = Math.max(score, shape * SHAPE_WEIGHT);
    const reported = this.quiet > 0 ? 0 : score;
    if (this.quiet > 0) this.quiet--;
    if (score > ONSET) this.quiet = QUIET_AFTER;
    return reported;
  }
}
