import { readableOf, readInterval } from "../detect/read-files.ts";
import { L4M_QUOTAS } from "../model/quotas.ts";
import { ReadBudget } from "../ingest/readers.ts";
import { metricSetRoot } from "../detect/results.ts";
import { cellValue } from "../ingest/aggregate.ts";
import { l4mTime, toAnomalyGroup } from "../incidents/contribution.ts";
import { relatedMetrics, type RelatedMetric, type RelationshipType } from "../incidents/related.ts";
import type { AnomalyGroup, AnomalyGroupRecord } from "../model/anomaly.ts";
import { ResourceNotFoundException, ValidationException } from "../model/errors.ts";
import type { Page, RankCounts, RankedEntry, RankedSummaries } from "../store/records.ts";
import { sharedAnswer } from "../model/shared-answers.ts";
import { intervalMs } from "../model/frequency.ts";
import { metricSetKey, timeSeriesId } from "../model/ids.ts";
import { dimensionsOf, type MetricSet } from "../model/metric-set.ts";
import { own } from "../model/shapes.ts";
import { Catalog } from "../catalog/catalog.ts";
import type { AnomalyDetector } from "../model/detector.ts";
import { backTestReportOf } from "./backtest.ts";
import { metricSetFiles } from "./data.ts";
import { groupKey } from "./detect.ts";
import { readKeptPoints, type SeriesPoint } from "./history.ts";
import { catalogOf, systemScope, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** A detector in back-test answers its back-test's groups; otherwise its live ones. */
const inBackTest = (d: AnomalyDetector) => d.Status === "BACK_TEST_ACTIVATING" || d.Status === "BACK_TEST_ACTIVE" || d.Status === "BACK_TEST_COMPLETE";

/** A group of one of the scope's detectors, with its metric set; anything else is not found. */
export async function groupOf(services: Services, scope: Scope, detectorArn: string, groupId: string): Promise<{ group: AnomalyGroupRecord; metricSet: MetricSet }> {
  const catalog = catalogOf(services, scope);
  const detector = await catalog.getDetector(detectorArn);
  for (const metricSet of await catalog.listMetricSets(detectorArn)) {
    const group = inBackTest(detector) ? (await backTestReportOf(services, metricSet))?.groups.find((g) => g.AnomalyGroupId === groupId) : await services.records.get<AnomalyGroupRecord>("groups", groupKey(metricSet, groupId));
    if (group) return { group, metricSet };
  }
  throw new ResourceNotFoundException(`No anomaly group ${groupId} in ${detectorArn}`, groupId, "AnomalyGroup");
}

/** Every group of one of the scope's detectors. */
export async function groupRecords(services: Services, scope: Scope, detectorArn: string): Promise<AnomalyGroupRecord[]> {
  const catalog = catalogOf(services, scope);
  const detector = await catalog.getDetector(detectorArn);
  const sets = await catalog.listMetricSets(detectorArn);
  const all = await Promise.all(sets.map(async (m) => (inBackTest(detector) ? [...((await backTestReportOf(services, m))?.groups ?? [])] : services.records.list<AnomalyGroupRecord>("groups", `${metricSetKey(m.MetricSetArn)}/`))));
  return all.flat();
}

/** One line of ListAnomalyGroupSummaries. */
export interface GroupSummary {
  readonly AnomalyGroupId: string;
  readonly StartTime: string;
  readonly EndTime: string;
  readonly AnomalyGroupScore: number;
  readonly PrimaryMetricName: string;
}

export interface GroupSummaries {
  /** This page, most severe first, then oldest first. */
  readonly groups: readonly GroupSummary[];
  /** Continues the listing; absent on the last page. */
  readonly next?: string | undefined;
  /** Of every group at or above the threshold, not only this page's. */
  readonly totalCount: number;
  readonly countsByMeasure: Readonly<Record<string, number>>;
  /** Start of the oldest such group. */
  readonly evaluationStart?: string | undefined;
}

const summaryOf = (e: RankedEntry<RankedSummaries["groups"]>): GroupSummary => ({
  AnomalyGroupId: e.id.slice(e.id.lastIndexOf("/") + 1),
  StartTime: l4mTime(e.summary.startMs),
  EndTime: l4mTime(e.summary.endMs),
  AnomalyGroupScore: Math.round(e.rank * 100) / 100,
  PrimaryMetricName: e.label,
});

/**
 * L4M's ListAnomalyGroupSummaries: the detector's groups at or above a severity, a page at a
 * time, with statistics of them all. Answered from the record store's ranked index (no
 * group is read); a detector holds one metric set (L4M's quota), whose index is the list.
 */
export async function listGroupSummaries(services: Services, scope: Scope, detectorArn: string, threshold: number, page: { readonly limit: number; readonly cursor?: string | undefined }): Promise<GroupSummaries> {
  const catalog = catalogOf(services, scope);
  const detector = await catalog.getDetector(detectorArn);
  if (inBackTest(detector)) return backTestSummaries(await groupRecords(services, scope, detectorArn), threshold, page);
  const partitions = (await catalog.listMetricSets(detectorArn)).map((m) => `${metricSetKey(m.MetricSetArn)}/`);
  if (partitions.length > 1) throw new ValidationException(`Detector ${detectorArn} holds ${partitions.length} metric sets; its anomaly groups are listed per metric set`);
  const partition = partitions[0];
  if (!partition) return { groups: [], totalCount: 0, countsByMeasure: {} };
  const [found, counts] = await Promise.all([
    services.records.listRanked("groups", { partition, min: threshold, limit: page.limit, ...(page.cursor ? { cursor: page.cursor } : {}) }),
    services.records.countRanked("groups", partition, threshold),
  ]);
  return summariesOf(found, counts);
}

/** Summaries made from a kept page and its kept counts, by page, then by counts. */
const keptSummaries = new WeakMap<object, WeakMap<object, GroupSummaries>>();

/**
 * A page and its counts as summaries. A store that keeps its ranked answers while nothing
 * changes (sqlite-records) gives the same frozen page and counts again; their summaries are
 * then made once and shared too (sharedAnswer), not formatted again per request.
 */
function summariesOf(found: Page<RankedEntry<RankedSummaries["groups"]>>, counts: RankCounts): GroupSummaries {
  const make = (): GroupSummaries => ({ groups: found.items.map(summaryOf), next: found.cursor, totalCount: counts.total, countsByMeasure: counts.byLabel, evaluationStart: counts.earliest === undefined ? undefined : l4mTime(counts.earliest) });
  if (!Object.isFrozen(found) || !Object.isFrozen(counts)) return make();
  let byCounts = keptSummaries.get(found);
  if (!byCounts) keptSummaries.set(found, (byCounts = new WeakMap()));
  let made = byCounts.get(counts);
  if (!made) byCounts.set(counts, (made = sharedAnswer(make())));
  return made;
}

/** A back-test's groups as ListAnomalyGroupSummaries answers them, from its report: most severe first, then oldest first. */
function backTestSummaries(all: readonly AnomalyGroupRecord[], threshold: number, page: { readonly limit: number; readonly cursor?: string | undefined }): GroupSummaries {
  const kept = all.filter((g) => g.score >= threshold).sort((a, b) => b.score - a.score || a.startMs - b.startMs);
  const from = page.cursor === undefined ? 0 : Number(page.cursor);
  if (!Number.isInteger(from) || from < 0) throw new ValidationException("NextToken does not belong to this request", { fields: [{ Name: "NextToken", Message: "is not a token this listing gave" }] });
  const countsByMeasure: Record<string, number> = {};
  for (const g of kept.map(toAnomalyGroup)) countsByMeasure[g.PrimaryMetricName] = (countsByMeasure[g.PrimaryMetricName] ?? 0) + 1;
  const earliest = kept.reduce<number | undefined>((a, g) => (a === undefined || g.startMs < a ? g.startMs : a), undefined);
  return {
    groups: kept.slice(from, from + page.limit).map((g) => ({ AnomalyGroupId: g.AnomalyGroupId, StartTime: l4mTime(g.startMs), EndTime: l4mTime(g.endMs), AnomalyGroupScore: Math.round(g.score * 100) / 100, PrimaryMetricName: toAnomalyGroup(g).PrimaryMetricName })),
    ...(from + page.limit < kept.length ? { next: String(from + page.limit) } : {}),
    totalCount: kept.length,
    countsByMeasure,
    evaluationStart: earliest === undefined ? undefined : l4mTime(earliest),
  };
}

/** What one ListAnomalyGroupTimeSeries answer may read of interval files again, in all (as read, inflated): a request's cost, not a run's. */
export const REREAD_BYTES = 32 * 1024 * 1024;

/** Intervals shown before a group in its time series. */
export const CONTEXT_INTERVALS = 24;

/**
 * Intervals one answer of a group's time series covers at most: the newest, through the
 * group's last interval. The console charts them about 600 CSS pixels wide on a wide screen
 * (its series cards, two a row), so 288 is about 2 pixels an interval, as fine as a line shows
 * them one by one; it is a day at PT5M, 12 days at PT1H, and a group no longer than 264
 * intervals is shown whole with its 24 intervals of context. The rest of a longer group is a
 * series' history (GetTimeSeriesHistory), 1,000 intervals a call.
 */
export const GROUP_WINDOW_INTERVALS = 288;

/**
 * The interval starts (epoch ms) a group's time series covers: through its last interval,
 * from CONTEXT_INTERVALS before its first, the newest GROUP_WINDOW_INTERVALS of them.
 */
export function groupWindow(group: Pick<AnomalyGroupRecord, "startMs" | "endMs">, len: number): number[] {
  const from = Math.max(group.startMs - CONTEXT_INTERVALS * len, group.endMs - (GROUP_WINDOW_INTERVALS - 1) * len);
  return Array.from({ length: Math.floor((group.endMs - from) / len) + 1 }, (_, i) => from + i * len);
}

export interface GroupTimeSeries {
  readonly anomalyGroupId: string;
  readonly measure: string;
  /** Interval starts, epoch ms: groupWindow's (CONTEXT_INTERVALS before the group, then through it; of a long group, its newest intervals). */
  readonly starts: readonly number[];
  readonly series: readonly { readonly id: string; readonly dimensions: Readonly<Record<string, string>>; readonly values: readonly (number | null)[]; readonly band: readonly (SeriesPoint | undefined)[] }[];
}

/**
 * The group's series of one measure around it (groupWindow), `null` where a series had no
 * value: the values detection kept (series.bin, with their band), and the interval files read
 * again only for the intervals where detection kept no series at all (not scored, or scored
 * before it kept its points): where it kept others, a series it did not keep had no value.
 * One answer reads at most GROUP_WINDOW_INTERVALS kept files and as many intervals' files,
 * however long the group, those files REREAD_BYTES at most in all. `page` picks which
 * series ids to read (sorted ids in, the page's out), so a page reads only its own series.
 */
export async function groupTimeSeries(services: Services, scope: Scope, input: { readonly AnomalyDetectorArn: string; readonly AnomalyGroupId: string; readonly MetricName: string }, page: (ids: readonly string[]) => readonly string[]): Promise<GroupTimeSeries> {
  const { group, metricSet } = await groupOf(services, scope, input.AnomalyDetectorArn, input.AnomalyGroupId);
  const measure = input.MetricName;
  const impact = own(group.impacts, measure);
  if (!impact) throw new ResourceNotFoundException(`Measure ${measure} is not in anomaly group ${group.AnomalyGroupId}`, measure, "Metric");
  const starts = groupWindow(group, intervalMs(metricSet.MetricSetFrequency));
  const ids = page(Object.keys(impact.series).sort());
  const { points: band, kept } = await readKeptPoints(services.blobs, metricSet, services.resultsRoot, starts, new Map(ids.map((id) => [id, { measure, dimensions: impact.series[id]! }])));
  const values = new Map<string, (number | null)[]>(ids.map((id) => [id, starts.map((_, i) => band[i]!.get(id)?.actual ?? null)]));
  const missing = starts.flatMap((t, i) => (!kept[i] && ids.some((id) => values.get(id)![i] === null) ? [[t, i] as const] : []));
  if (missing.length) {
    const readable = readableOf(metricSet, metricSetRoot(services.resultsRoot, metricSet));
    const m = metricSet.MetricList.findIndex((x) => x.MetricName === measure);
    const dims = dimensionsOf(metricSet);
    const files = metricSetFiles(services, scope, metricSet);
    // One answer's reads share a budget: past it, or an interval past its own quota (not scored), the rest show no value.
    const budget = new ReadBudget(Math.min(REREAD_BYTES, (services.quotas ?? L4M_QUOTAS).bytesPerInterval[metricSet.MetricSetFrequency]));
    for (const [t, i] of missing) {
      if (budget.exceeded) break;
      const read = await readInterval(files, readable, t, { budget });
      if (read.overBudget) break;
      const cells = read.intervals.get(t);
      const byId = new Map<string, number>();
      for (const cell of cells?.values() ?? []) {
        const v = cellValue(cell, m, metricSet.MetricList[m]!.AggregationFunction);
        if (v !== undefined) byId.set(timeSeriesId(metricSet.MetricSetArn, measure, dims.map((d, k) => [d, cell.dimensions[k]!] as const)), v);
      }
      for (const id of ids) values.get(id)![i] ??= byId.get(id) ?? null;
    }
  }
  return { anomalyGroupId: group.AnomalyGroupId, measure, starts, series: ids.map((id) => ({ id, dimensions: impact.series[id]!, values: values.get(id)!, band: band.map((b) => b.get(id)) })) };
}

/** The group's other measures and overlapping groups of other measures, as cause or effect. */
export async function groupRelatedMetrics(services: Services, scope: Scope, input: { readonly AnomalyDetectorArn: string; readonly AnomalyGroupId: string; readonly RelationshipTypeFilter?: RelationshipType | undefined }): Promise<RelatedMetric[]> {
  const { group, metricSet } = await groupOf(services, scope, input.AnomalyDetectorArn, input.AnomalyGroupId);
  const related = relatedMetrics(group, await groupRecords(services, scope, input.AnomalyDetectorArn), intervalMs(metricSet.MetricSetFrequency));
  return related.filter((x) => !input.RelationshipTypeFilter || x.RelationshipType === input.RelationshipTypeFilter);
}

/**
 * A group by its id, in the account a signed link names (alerts/links.ts): the link's
 * signature is the authority, not a caller's scope, and it opens that account's groups only.
 */
export async function groupByLink(services: Services, accountId: string, groupId: string): Promise<{ group: AnomalyGroupRecord; metricSet: MetricSet } | undefined> {
  const catalog = catalogOf(services, systemScope(services, accountId));
  for (const d of await catalog.listDetectors()) {
    for (const metricSet of await catalog.listMetricSets(d.AnomalyDetectorArn)) {
      const group = await services.records.get<AnomalyGroupRecord>("groups", groupKey(metricSet, groupId));
      if (group) return { group, metricSet };
    }
  }
  return undefined;
}

/** What a signed link's page shows of a group: L4M's shape and the series a person may judge. */
export interface LinkedGroup {
  readonly anomalyGroup: AnomalyGroup;
  readonly anomalyDetectorArn: string;
  readonly metricSetArn: string;
  readonly series: readonly { readonly measure: string; readonly timeSeriesId: string; readonly dimensions: Readonly<Record<string, string>> }[];
}

export async function linkedGroup(services: Services, accountId: string, groupId: string): Promise<LinkedGroup | undefined> {
  const found = await groupByLink(services, accountId, groupId);
  if (!found) return undefined;
  const { group } = found;
  return {
    anomalyGroup: toAnomalyGroup(group),
    anomalyDetectorArn: group.AnomalyDetectorArn,
    metricSetArn: group.MetricSetArn,
    series: Object.values(group.impacts).flatMap((impact) => Object.entries(impact.series).map(([timeSeriesId, dimensions]) => ({ measure: impact.measure, timeSeriesId, dimensions }))),
  };
}

/** L4M's GetAnomalyGroup. */
export async function getGroup(services: Services, scope: Scope, detectorArn: string, groupId: string): Promise<AnomalyGroup> {
  return toAnomalyGroup((await groupOf(services, scope, detectorArn, groupId)).group);
}
