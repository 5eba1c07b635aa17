/**
 * Severity bands of an anomaly group's score. A group that climbs into a higher band is
 * worth another message; moving inside a band is not.
 */
export const SEVERITY_BANDS = [
  { band: "LOW", from: 0, color: "#9e9e9e" },
  { band: "HIGH", from: 70, color: "#ecb22e" },
  { band: "SEVERE", from: 85, color: "#e8912d" },
  { band: "CRITICAL", from: 95, color: "#e01e5a" },
] as const;
export type SeverityBand = (typeof SEVERITY_BANDS)[number]["band"];

const bandIndex = (score: number) => SEVERITY_BANDS.findLastIndex((b) => score >= b.from);
export const severityOf = (score: number) => SEVERITY_BANDS[Math.max(0, bandIndex(score))]!;
/** Order of bands: a higher rank is worse. */
export const bandRank = (band: SeverityBand) => SEVERITY_BANDS.findIndex((b) => b.band === band);
