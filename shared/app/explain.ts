import type { NotificationState } from "../alerts/renotify.ts";
import { MIN_ANOMALY_SCORE } from "../detect/score-interval.ts";
import type { Alert } from "../model/alert.ts";
import { keptFewer, toAnomalyGroup } from "../incidents/contribution.ts";
import type { AnomalyGroup, AnomalyGroupRecord } from "../model/anomaly.ts";
import { ResourceNotFoundException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import { instantOf } from "../model/interval-time.ts";
import { resourceKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import type { Silence } from "../model/silence.ts";
import { own } from "../model/shapes.ts";
import { groupRecords } from "./groups.ts";
import { readSeriesPoints, seriesOf, type SeriesPoint, type SeriesQuery, type SeriesRef } from "./history.ts";
import { listNotices, type Notice } from "./notices.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/**
 * "Why was I not alerted?" for one series at one time (ExplainAlerting): what detection
 * scored it then, the anomaly group it fell in, and for each of the detector's alerts what
 * routing decided on that group's event then (threshold, filters, silences, re-notification)
 * from the notices alerting kept, with the silences that were in force.
 */
export type AlertReason =
  /** The series scored below MIN_ANOMALY_SCORE (or was not scored): no anomaly, so no group and no alert. */
  | "NOT_ANOMALOUS"
  /** Anomalous, yet in no group of this detector then (it was not yet live, or the group was deleted). */
  | "NO_GROUP"
  | "ALERT_INACTIVE"
  | "BELOW_THRESHOLD"
  /** The alert's measure or dimension filters did not match the group. */
  | "FILTERED_OUT"
  | "SILENCED"
  /** Told of this group before, and nothing new since (no higher band, no new dimension value, repeat interval not elapsed). */
  | "ALREADY_NOTIFIED"
  | "NOTIFIED"
  /** No routing was recorded for the group then (alerting had not run, or the record expired). */
  | "NOT_ROUTED";

export interface AlertExplanation {
  readonly alert: Alert;
  readonly reason: AlertReason;
  /** The routing of the group's event in force at the time, if kept. */
  readonly notice?: Notice | undefined;
  /** When (epoch ms, the event's interval) this alert last told of the group, if it did. */
  readonly lastNotifiedAt?: number | undefined;
}

export interface AlertingExplanation {
  readonly metricSet: MetricSet;
  readonly timeSeriesId: string;
  readonly timestamp: number;
  readonly measure?: string | undefined;
  readonly dimensions?: Readonly<Record<string, string>> | undefined;
  readonly point?: SeriesPoint | undefined;
  readonly minAnomalyScore: number;
  readonly group?: { readonly record: AnomalyGroupRecord; readonly anomalyGroup: AnomalyGroup; readonly containsSeries: boolean } | undefined;
  readonly alerts: readonly AlertExplanation[];
  /** The scope's silences in force during the interval or when it closed (and was routed). */
  readonly silences: readonly Silence[];
  readonly repeatMs: number;
}

/**
 * The group of the detector open at `t` that holds the series, else any open at `t`. A
 * record past its bound (incidents/bounded.ts) may not keep the series: an anomaly of it at
 * `t` is still its measure's, as the group open at an interval takes all of its anomalies.
 */
function groupAt(groups: readonly AnomalyGroupRecord[], t: number, series: SeriesRef & { readonly id: string }, anomalous: boolean): AlertingExplanation["group"] {
  const open = groups.filter((g) => g.startMs <= t && t <= g.endMs);
  const unkept = (g: AnomalyGroupRecord) => {
    const impact = own(g.impacts, series.measure);
    return anomalous && impact !== undefined && keptFewer(impact);
  };
  const holding = open.find((g) => Object.values(g.impacts).some((i) => own(i.series, series.id) !== undefined)) ?? open.find(unkept);
  if (holding) return { record: holding, anomalyGroup: toAnomalyGroup(holding), containsSeries: true };
  const other = open.sort((a, b) => b.score - a.score)[0];
  return other ? { record: other, anomalyGroup: toAnomalyGroup(other), containsSeries: false } : undefined;
}

function reasonFor(alert: Alert, point: SeriesPoint | undefined, group: AlertingExplanation["group"], notice: Notice | undefined): AlertReason {
  if (!point || point.kind !== "ANOMALY") return group?.containsSeries ? reasonOfNotice(alert, notice) : "NOT_ANOMALOUS";
  if (!group?.containsSeries) return "NO_GROUP";
  return reasonOfNotice(alert, notice);
}

function reasonOfNotice(alert: Alert, notice: Notice | undefined): AlertReason {
  if (!notice) return "NOT_ROUTED";
  switch (notice.Outcome) {
    case "ENQUEUED":
      return "NOTIFIED";
    case "SILENCED":
      return "SILENCED";
    case "UNCHANGED":
      return "ALREADY_NOTIFIED";
    case "UNMATCHED":
      return alert.AlertStatus !== "ACTIVE" ? "ALERT_INACTIVE" : notice.GroupScore < alert.AlertSensitivityThreshold ? "BELOW_THRESHOLD" : "FILTERED_OUT";
  }
}

export async function explainAlerting(services: Services, scope: Scope, input: { readonly AnomalyDetectorArn: string; readonly series: SeriesQuery; readonly Timestamp: number; readonly MetricSetArn?: string | undefined }): Promise<AlertingExplanation> {
  const catalog = catalogOf(services, scope);
  await catalog.getDetector(input.AnomalyDetectorArn);
  const sets = (await catalog.listMetricSets(input.AnomalyDetectorArn)).filter((m) => !input.MetricSetArn || m.MetricSetArn === input.MetricSetArn);
  if (sets.length === 0) throw new ResourceNotFoundException(`No metric set ${input.MetricSetArn ?? ""} in ${input.AnomalyDetectorArn}`, input.MetricSetArn ?? input.AnomalyDetectorArn, "MetricSet");
  // The metric set that names the series (by its groups, or by its measure and dimensions).
  let found: { metricSet: MetricSet; series: SeriesRef & { id: string } } | undefined;
  for (const metricSet of sets) {
    const series = await seriesOf(services, metricSet, input.series);
    if (series) found ??= { metricSet, series };
  }
  const named = "TimeSeriesId" in input.series ? input.series.TimeSeriesId : input.series.MetricName;
  if (!found) throw new ResourceNotFoundException(`No time series ${named} in ${input.AnomalyDetectorArn}`, named, "TimeSeries");
  const { metricSet, series } = found;
  const len = intervalMs(metricSet.MetricSetFrequency);
  const t = Math.floor(input.Timestamp / len) * len;
  const point = (await readSeriesPoints(services.blobs, metricSet, services.resultsRoot, [t], new Map([[series.id, series]])))[0]!.get(series.id);
  const group = groupAt(
    (await groupRecords(services, scope, input.AnomalyDetectorArn)).filter((g) => g.MetricSetArn === metricSet.MetricSetArn),
    t,
    series,
    point?.kind === "ANOMALY",
  );
  const notices = group ? await listNotices(services, scope, { AnomalyGroupId: group.record.AnomalyGroupId }, true) : [];
  const alerts = await catalog.listAlerts(input.AnomalyDetectorArn);
  const explained = await Promise.all(
    alerts.map(async (alert): Promise<AlertExplanation> => {
      const mine = notices.filter((n) => n.AlertArn === alert.AlertArn);
      // Newest first: the event in force at t is the latest at or before it.
      const notice = mine.find((n) => n.IntervalStart <= t);
      const state = group ? await services.records.get<NotificationState>("notifications", `${resourceKey(alert.AlertArn)}/${group.record.AnomalyGroupId}`) : undefined;
      const told = mine.find((n) => n.Outcome === "ENQUEUED" && n.IntervalStart <= t)?.IntervalStart ?? (state && state.notifiedAt <= t ? state.notifiedAt : undefined);
      return { alert, reason: reasonFor(alert, point, group, notice), notice, lastNotifiedAt: told };
    }),
  );
  // Routing runs when the interval closes (a zone's day at its midnight), then the Offset: the silences in force over the interval and at its close.
  const [from, close] = [instantOf(metricSet, t), instantOf(metricSet, t + len) + (metricSet.Offset ?? 0) * 1000];
  const silences = (await catalog.listSilences()).filter((s) => Date.parse(s.StartsAt) <= close && from < Date.parse(s.EndsAt) && (!s.AnomalyDetectorArn || s.AnomalyDetectorArn === input.AnomalyDetectorArn));
  return {
    metricSet,
    timeSeriesId: series.id,
    timestamp: t,
    measure: series.measure,
    dimensions: series.dimensions,
    point,
    minAnomalyScore: MIN_ANOMALY_SCORE,
    group,
    alerts: explained,
    silences,
    repeatMs: services.alertSettings.repeatMs,
  };
}
