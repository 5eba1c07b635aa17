import type { AnomalyGroup, DetectorSummary, GroupSummary, MetricImpact } from "./wire.ts";

/** One anomaly group in the incident list: its summary, and its detail once read. */
export interface IncidentRow {
  readonly detector: DetectorSummary;
  readonly summary: GroupSummary;
  readonly group?: AnomalyGroup;
}

export type IncidentOrder = "severity" | "newest";

export interface IncidentFilter {
  readonly detector?: string;
  readonly measure?: string;
  /** `name=value`. */
  readonly dimension?: string;
  /** The least severity shown (the SensitivityThreshold asked of the server). */
  readonly severity: number;
  /** Epoch ms: incidents overlapping [from, to] are shown. */
  readonly from?: number;
  readonly to?: number;
  readonly order: IncidentOrder;
}

/**
 * How often the incident list asks for new groups (docs/console.md: polling, not a stream,
 * because the HTTP API in front of the api function cannot hold a response open).
 */
export const POLL_MS = 30_000;

export const DEFAULT_FILTER: IncidentFilter = { severity: 0, order: "severity" };

/** A time in a filter: `2021-03-01T10:00` (as a datetime-local field gives it) is read as UTC. */
function utcTime(value: string | null): number | undefined {
  if (!value) return undefined;
  const t = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isFinite(t) ? t : undefined;
}

/** The filter a page's query string names; anything unreadable is left out, not guessed. */
export function filterOf(query: URLSearchParams): IncidentFilter {
  const severity = Number(query.get("severity") ?? "0");
  const from = utcTime(query.get("from"));
  const to = utcTime(query.get("to"));
  return {
    ...(query.get("detector") ? { detector: query.get("detector")! } : {}),
    ...(query.get("measure") ? { measure: query.get("measure")! } : {}),
    ...(query.get("dimension")?.includes("=") ? { dimension: query.get("dimension")! } : {}),
    severity: Number.isInteger(severity) && severity >= 0 && severity <= 100 ? severity : 0,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    order: query.get("order") === "newest" ? "newest" : "severity",
  };
}

/** `2021-03-01T10:00`, as a datetime-local field shows a UTC time. */
export const localField = (ms: number) => new Date(ms).toISOString().slice(0, 16);

export function queryOf(filter: IncidentFilter): URLSearchParams {
  const q = new URLSearchParams();
  if (filter.detector) q.set("detector", filter.detector);
  if (filter.measure) q.set("measure", filter.measure);
  if (filter.dimension) q.set("dimension", filter.dimension);
  if (filter.severity) q.set("severity", String(filter.severity));
  if (filter.from !== undefined) q.set("from", localField(filter.from));
  if (filter.to !== undefined) q.set("to", localField(filter.to));
  if (filter.order !== "severity") q.set("order", filter.order);
  return q;
}

const measuresOf = (row: IncidentRow) => [row.summary.PrimaryMetricName, ...(row.group?.MetricLevelImpactList.map((m) => m.MetricName) ?? [])];

function dimensionsOf(row: IncidentRow): string[] {
  return (row.group?.MetricLevelImpactList ?? []).flatMap((m) => m.ContributionMatrix.DimensionContributionList.flatMap((d) => d.DimensionValueContributionList.map((v) => `${d.DimensionName}=${v.DimensionValue}`)));
}

/** The rows the filter keeps, most severe (or newest) first; ties go to the other order. */
export function applyFilter(rows: readonly IncidentRow[], filter: IncidentFilter): IncidentRow[] {
  const start = (r: IncidentRow) => Date.parse(r.summary.StartTime);
  const kept = rows.filter(
    (r) =>
      (!filter.detector || r.detector.AnomalyDetectorArn === filter.detector) &&
      r.summary.AnomalyGroupScore >= filter.severity &&
      (!filter.measure || measuresOf(r).includes(filter.measure)) &&
      (!filter.dimension || dimensionsOf(r).includes(filter.dimension)) &&
      (filter.from === undefined || Date.parse(r.summary.EndTime) >= filter.from) &&
      (filter.to === undefined || start(r) <= filter.to),
  );
  const bySeverity = (a: IncidentRow, b: IncidentRow) => b.summary.AnomalyGroupScore - a.summary.AnomalyGroupScore;
  const byNewest = (a: IncidentRow, b: IncidentRow) => start(b) - start(a);
  return kept.sort((a, b) => (filter.order === "newest" ? byNewest(a, b) || bySeverity(a, b) : bySeverity(a, b) || byNewest(a, b)) || a.summary.AnomalyGroupId.localeCompare(b.summary.AnomalyGroupId));
}

/** The choices a filter offers, from what the rows hold. */
export function choicesOf(rows: readonly IncidentRow[]): { measures: string[]; dimensions: string[] } {
  return {
    measures: [...new Set(rows.flatMap(measuresOf))].sort(),
    dimensions: [...new Set(rows.flatMap(dimensionsOf))].sort(),
  };
}

/** The dimension values that carry most of a measure's deviation: the largest of each dimension, strongest first. */
export function topContributors(impact: MetricImpact | undefined, limit = 3): { name: string; value: string; score: number }[] {
  return (impact?.ContributionMatrix.DimensionContributionList ?? [])
    .map((d) => {
      const top = [...d.DimensionValueContributionList].sort((a, b) => b.ContributionScore - a.ContributionScore)[0];
      return top ? { name: d.DimensionName, value: top.DimensionValue, score: top.ContributionScore } : undefined;
    })
    .filter((c): c is { name: string; value: string; score: number } => c !== undefined)
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
}

export const primaryOf = (group: AnomalyGroup) => group.MetricLevelImpactList.find((m) => m.MetricName === group.PrimaryMetricName) ?? group.MetricLevelImpactList[0];
