/**
 * A second opinion for single streams that are not seasonal (`vigil score`): conformal
 * k-nearest-neighbours on shingles, after KNN-CAD (Burnaev & Ishimtsev, 2016, "Conformalized
 * density- and distance-based anomaly detection in time-series data"). The last SHINGLE
 * values form a point; its nonconformity is the summed distance to its K nearest among the
 * shingles of the last TRAIN values; the score is how rarely a nonconformity that high was
 * seen in the last CALIBRATION points (a conformal p-value, so it needs no distribution).
 * It sees a shape that has not happened recently even when each value's residual is
 * ordinary, which is what the engine's residual test misses on bursty streams.
 *
 * State is fixed-size typed arrays (rings), and the score uses the past only.
 */
export const SHINGLE = 10;
const TRAIN = 300;
const K = 50;
const CALIBRATION = 1500;
/** Nonconformities seen before a score is given. */
const MIN_CALIBRATION = 150;

export class ShingleKnn {
  private readonly values = new Float64Array(TRAIN + SHINGLE);
  private readonly alphas = new Float64Array(CALIBRATION);
  private readonly distances = new Float64Array(TRAIN);
  private count = 0;
  private alphaCount = 0;

  /** The score in [0, 1] of value `x`: 1 − the conformal p-value of its shingle. */
  next(x: number): number {
    const ring = this.values.length;
    this.values[this.count % ring] = Number.isFinite(x) ? x : 0;
    this.count++;
    if (this.count < ring) return 0;
    const at = (back: number) => this.values[(this.count - 1 - back + ring * 2) % ring]!;
    // Training shingles end before the current one starts: they share none of its values.
    const n = TRAIN - SHINGLE + 1;
    for (let s = 0; s < n; s++) {
      let d = 0;
      for (let j = 0; j < SHINGLE; j++) {
        const v = at(SHINGLE + s + j) - at(j);
        d += v * v;
      }
      this.distances[s] = Math.sqrt(d);
    }
    const nearest = this.distances.subarray(0, n).sort();
    let alpha = 0;
    for (let j = 0; j < Math.min(K, n); j++) alpha += nearest[j]!;
    if (!Number.isFinite(alpha)) alpha = Number.MAX_VALUE;

    const seen = Math.min(this.alphaCount, CALIBRATION);
    let atLeast = 0;
    for (let j = 0; j < seen; j++) if (this.alphas[j]! >= alpha) atLeast++;
    this.alphas[this.alphaCount % CALIBRATION] = alpha;
    this.alphaCount++;
    return seen < MIN_CALIBRATION ? 0 : 1 - atLeast / seen;
  }
}
