import * as z from "zod";
import type { Catalog } from "../catalog/catalog.ts";
import { groupKey, type IntervalExecution } from "../detect/detect-interval.ts";
import { readableOf, readHistory, readInterval } from "../detect/read-files.ts";
import { backtest } from "../detect/backtest.ts";
import { detectMetricSetConfig, getSampleData } from "./discovery.ts";
import { purgeResults } from "../detect/purge.ts";
import { metricSetRoot } from "../detect/results.ts";
import { cellValue } from "../ingest/aggregate.ts";
import { primaryImpact, toAnomalyGroup } from "../incidents/contribution.ts";
import { relatedMetrics } from "../incidents/related.ts";
import { redactAlert, type Alert } from "../model/alert.ts";
import type { AnomalyGroupRecord } from "../model/anomaly.ts";
import type { AnomalyDetector } from "../model/detector.ts";
import { ResourceNotFoundException, ValidationException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import { metricSetKey, timeSeriesId } from "../model/ids.ts";
import { dimensionsOf, type MetricSet } from "../model/metric-set.ts";
import { Arn } from "../model/shapes.ts";
import { parseOrThrow } from "../model/validate.ts";
import type { Runtime } from "../runtime/local.ts";
import { feedbackKey, type FeedbackRecord } from "../detect/feedback.ts";
import { intervalUri } from "../detect/results.ts";
import { deviationOf } from "../detect/score-interval.ts";
import { joinUri } from "../model/path-template.ts";
import { page } from "./paging.ts";
import type { ApiRequest, Routes } from "./router.ts";

/**
 * L4M's operations over Vigil's catalog and results, in L4M's request and response
 * shapes. Resources belong to the tenant of whoever created them (the `vigil:tenant` tag,
 * as AWS's attribute-based access control): another tenant's resource answers exactly as
 * a missing one would.
 */
export const TENANT_TAG = "vigil:tenant";

const Paging = { MaxResults: z.number().int().min(1).max(100).optional(), NextToken: z.string().min(1).max(3000).optional() };
const GroupId = z.string().max(63).regex(/^[a-z0-9]{8}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{12}$/, "is not an anomaly group id");
const DetectorRef = z.strictObject({ AnomalyDetectorArn: Arn });

/** rest-json timestamps are epoch seconds. */
const seconds = (iso: string) => Date.parse(iso) / 1000;

type Owned = { Tags?: Record<string, string> | undefined };
const tenantOf = (request: ApiRequest) => request.principal?.tenant;
const ownedBy = (resource: Owned, request: ApiRequest) => tenantOf(request) === undefined || resource.Tags?.[TENANT_TAG] === tenantOf(request);

function withTenant(input: unknown, request: ApiRequest): unknown {
  const tenant = tenantOf(request);
  if (tenant === undefined || typeof input !== "object" || input === null) return input;
  const tags = (input as { Tags?: unknown }).Tags;
  if (tags !== undefined && (typeof tags !== "object" || tags === null)) return input; // let validation say what is wrong
  if (tags && TENANT_TAG in tags) throw new ValidationException(`The tag ${TENANT_TAG} is Vigil's`, { fields: [{ Name: `Tags.${TENANT_TAG}`, Message: "is set by Vigil from the caller's credentials" }] });
  return { ...input, Tags: { ...(tags as object | undefined), [TENANT_TAG]: tenant } };
}

const detectorWire = (d: AnomalyDetector) => ({
  AnomalyDetectorArn: d.AnomalyDetectorArn,
  AnomalyDetectorName: d.AnomalyDetectorName,
  ...(d.AnomalyDetectorDescription ? { AnomalyDetectorDescription: d.AnomalyDetectorDescription } : {}),
  AnomalyDetectorConfig: { AnomalyDetectorFrequency: d.AnomalyDetectorConfig.AnomalyDetectorFrequency },
  CreationTime: seconds(d.CreationTime),
  LastModificationTime: seconds(d.LastModificationTime),
  Status: d.Status,
  ...(d.KmsKeyArn ? { KmsKeyArn: d.KmsKeyArn } : {}),
});

function metricSetWire(m: MetricSet) {
  const { Tags: _, CreationTime, LastModificationTime, ...rest } = m;
  return { ...rest, CreationTime: seconds(CreationTime), LastModificationTime: seconds(LastModificationTime) };
}

function alertWire(a: Alert) {
  const { Tags: _, CreationTime, LastModificationTime, ...rest } = redactAlert(a);
  return { ...rest, CreationTime: seconds(CreationTime), LastModificationTime: seconds(LastModificationTime) };
}

export function l4mRoutes(runtimeAt: (now: number) => Runtime, now: () => number): Routes {
  /** One clock reading and one catalog per request. */
  const rt = () => runtimeAt(now());

  async function detectorOf(catalog: Catalog, arn: string, request: ApiRequest): Promise<AnomalyDetector> {
    const d = await catalog.getDetector(arn);
    if (!ownedBy(d, request)) throw new ResourceNotFoundException(`No anomaly detector ${arn}`, arn, "AnomalyDetector");
    return d;
  }
  async function metricSetOf(catalog: Catalog, arn: string, request: ApiRequest): Promise<MetricSet> {
    const m = await catalog.getMetricSet(arn);
    if (!ownedBy(await catalog.getDetector(m.AnomalyDetectorArn), request)) throw new ResourceNotFoundException(`No metric set ${arn}`, arn, "MetricSet");
    return m;
  }
  async function alertOf(catalog: Catalog, arn: string, request: ApiRequest): Promise<Alert> {
    const a = await catalog.getAlert(arn);
    if (!ownedBy(await catalog.getDetector(a.AnomalyDetectorArn), request)) throw new ResourceNotFoundException(`No alert ${arn}`, arn, "Alert");
    return a;
  }
  async function groupOf(r: Runtime, detectorArn: string, groupId: string, request: ApiRequest): Promise<{ group: AnomalyGroupRecord; metricSet: MetricSet }> {
    await detectorOf(r.catalog, detectorArn, request);
    for (const metricSet of await r.catalog.listMetricSets(detectorArn)) {
      const group = await r.records.get<AnomalyGroupRecord>("groups", groupKey(metricSet, groupId));
      if (group) return { group, metricSet };
    }
    throw new ResourceNotFoundException(`No anomaly group ${groupId} in ${detectorArn}`, groupId, "AnomalyGroup");
  }
  async function groupsOf(r: Runtime, detectorArn: string): Promise<AnomalyGroupRecord[]> {
    const all = await Promise.all((await r.catalog.listMetricSets(detectorArn)).map((m) => r.records.list<AnomalyGroupRecord>("groups", `${metricSetKey(m.MetricSetArn)}/`)));
    return all.flat();
  }
  /** Resources a request may name in /tags/{arn}: its tenant's detectors, metric sets and alerts. */
  async function taggableOf(catalog: Catalog, arn: string, request: ApiRequest): Promise<void> {
    if (/:AnomalyDetector:/.test(arn)) await detectorOf(catalog, arn, request);
    else if (/:MetricSet\//.test(arn)) await metricSetOf(catalog, arn, request);
    else if (/:Alert:/.test(arn)) await alertOf(catalog, arn, request);
    else throw new ResourceNotFoundException(`No taggable resource ${arn}`, arn);
  }

  return {
    post: {
      // Detectors
      CreateAnomalyDetector: async (input, request) => ({ AnomalyDetectorArn: (await rt().catalog.createDetector(withTenant(input, request))).AnomalyDetectorArn }),
      DescribeAnomalyDetector: async (input, request) => detectorWire(await detectorOf(rt().catalog, parseOrThrow(DetectorRef, input, "DescribeAnomalyDetector request").AnomalyDetectorArn, request)),
      ListAnomalyDetectors: async (input, request) => {
        const req = parseOrThrow(z.strictObject(Paging), input, "ListAnomalyDetectors request");
        const mine = (await rt().catalog.listDetectors()).filter((d) => ownedBy(d, request));
        const { items, NextToken } = page(mine, req, `detectors:${tenantOf(request) ?? ""}`);
        return { AnomalyDetectorSummaryList: items.map((d) => ({ ...detectorWire(d), ...(d.Tags ? { Tags: d.Tags } : {}) })), ...(NextToken ? { NextToken } : {}) };
      },
      UpdateAnomalyDetector: async (input, request) => {
        const r = rt();
        await detectorOf(r.catalog, parseOrThrow(z.looseObject({ AnomalyDetectorArn: Arn }), input, "UpdateAnomalyDetector request").AnomalyDetectorArn, request);
        return { AnomalyDetectorArn: (await r.catalog.updateDetector(input)).AnomalyDetectorArn };
      },
      DeleteAnomalyDetector: async (input, request) => {
        const r = rt();
        const arn = parseOrThrow(DetectorRef, input, "DeleteAnomalyDetector request").AnomalyDetectorArn;
        await detectorOf(r.catalog, arn, request);
        await r.catalog.assertDeletable(arn);
        for (const m of await r.catalog.listMetricSets(arn)) await purgeResults(r, m);
        await r.catalog.deleteDetector(arn);
        return {};
      },
      ActivateAnomalyDetector: async (input, request) => {
        const r = rt();
        const arn = parseOrThrow(DetectorRef, input, "ActivateAnomalyDetector request").AnomalyDetectorArn;
        await detectorOf(r.catalog, arn, request);
        await r.catalog.setDetectorStatus(arn, "ACTIVE");
        return {};
      },
      DeactivateAnomalyDetector: async (input, request) => {
        const r = rt();
        const arn = parseOrThrow(DetectorRef, input, "DeactivateAnomalyDetector request").AnomalyDetectorArn;
        await detectorOf(r.catalog, arn, request);
        await r.catalog.setDetectorStatus(arn, "DEACTIVATED");
        return {};
      },

      // Metric sets
      CreateMetricSet: async (input, request) => {
        const r = rt();
        const arn = parseOrThrow(z.looseObject({ AnomalyDetectorArn: Arn }), input, "CreateMetricSet request").AnomalyDetectorArn;
        await detectorOf(r.catalog, arn, request);
        return { MetricSetArn: (await r.catalog.createMetricSet(withTenant(input, request))).MetricSetArn };
      },
      DescribeMetricSet: async (input, request) => metricSetWire(await metricSetOf(rt().catalog, parseOrThrow(z.strictObject({ MetricSetArn: Arn }), input, "DescribeMetricSet request").MetricSetArn, request)),
      ListMetricSets: async (input, request) => {
        const req = parseOrThrow(z.strictObject({ AnomalyDetectorArn: Arn.optional(), ...Paging }), input, "ListMetricSets request");
        const r = rt();
        const detectors = req.AnomalyDetectorArn ? [await detectorOf(r.catalog, req.AnomalyDetectorArn, request)] : (await r.catalog.listDetectors()).filter((d) => ownedBy(d, request));
        const sets = (await Promise.all(detectors.map((d) => r.catalog.listMetricSets(d.AnomalyDetectorArn)))).flat();
        const { items, NextToken } = page(sets, req, `metricSets:${req.AnomalyDetectorArn ?? ""}:${tenantOf(request) ?? ""}`);
        return {
          MetricSetSummaryList: items.map((m) => ({
            MetricSetArn: m.MetricSetArn,
            AnomalyDetectorArn: m.AnomalyDetectorArn,
            MetricSetName: m.MetricSetName,
            ...(m.MetricSetDescription ? { MetricSetDescription: m.MetricSetDescription } : {}),
            CreationTime: seconds(m.CreationTime),
            LastModificationTime: seconds(m.LastModificationTime),
            ...(m.Tags ? { Tags: m.Tags } : {}),
          })),
          ...(NextToken ? { NextToken } : {}),
        };
      },
      UpdateMetricSet: async (input, request) => {
        const r = rt();
        await metricSetOf(r.catalog, parseOrThrow(z.looseObject({ MetricSetArn: Arn }), input, "UpdateMetricSet request").MetricSetArn, request);
        return { MetricSetArn: (await r.catalog.updateMetricSet(input)).MetricSetArn };
      },

      // Alerts
      CreateAlert: async (input, request) => {
        const r = rt();
        await detectorOf(r.catalog, parseOrThrow(z.looseObject({ AnomalyDetectorArn: Arn }), input, "CreateAlert request").AnomalyDetectorArn, request);
        return { AlertArn: (await r.catalog.createAlert(withTenant(input, request))).AlertArn };
      },
      DescribeAlert: async (input, request) => ({ Alert: alertWire(await alertOf(rt().catalog, parseOrThrow(z.strictObject({ AlertArn: Arn }), input, "DescribeAlert request").AlertArn, request)) }),
      ListAlerts: async (input, request) => {
        const req = parseOrThrow(z.strictObject({ AnomalyDetectorArn: Arn.optional(), ...Paging }), input, "ListAlerts request");
        const r = rt();
        if (req.AnomalyDetectorArn) await detectorOf(r.catalog, req.AnomalyDetectorArn, request);
        const mine = new Set((await r.catalog.listDetectors()).filter((d) => ownedBy(d, request)).map((d) => d.AnomalyDetectorArn as string));
        const alerts = (await r.catalog.listAlerts(req.AnomalyDetectorArn)).filter((a) => mine.has(a.AnomalyDetectorArn));
        const { items, NextToken } = page(alerts, req, `alerts:${req.AnomalyDetectorArn ?? ""}:${tenantOf(request) ?? ""}`);
        return {
          AlertSummaryList: items.map((a) => ({
            AlertArn: a.AlertArn,
            AnomalyDetectorArn: a.AnomalyDetectorArn,
            AlertName: a.AlertName,
            AlertSensitivityThreshold: a.AlertSensitivityThreshold,
            AlertType: a.AlertType,
            AlertStatus: a.AlertStatus,
            LastModificationTime: seconds(a.LastModificationTime),
            CreationTime: seconds(a.CreationTime),
            ...(a.Tags ? { Tags: a.Tags } : {}),
          })),
          ...(NextToken ? { NextToken } : {}),
        };
      },
      UpdateAlert: async (input, request) => {
        const r = rt();
        await alertOf(r.catalog, parseOrThrow(z.looseObject({ AlertArn: Arn }), input, "UpdateAlert request").AlertArn, request);
        return { AlertArn: (await r.catalog.updateAlert(input)).AlertArn };
      },
      DeleteAlert: async (input, request) => {
        const r = rt();
        const arn = parseOrThrow(z.strictObject({ AlertArn: Arn }), input, "DeleteAlert request").AlertArn;
        await alertOf(r.catalog, arn, request);
        await r.catalog.deleteAlert(arn);
        return {};
      },

      // Anomaly groups
      ListAnomalyGroupSummaries: async (input, request) => {
        const req = parseOrThrow(z.strictObject({ AnomalyDetectorArn: Arn, SensitivityThreshold: z.number().int().min(0).max(100), ...Paging }), input, "ListAnomalyGroupSummaries request");
        const r = rt();
        await detectorOf(r.catalog, req.AnomalyDetectorArn, request);
        const groups = (await groupsOf(r, req.AnomalyDetectorArn)).filter((g) => g.score >= req.SensitivityThreshold).sort((a, b) => b.score - a.score || a.startMs - b.startMs);
        const { items, NextToken } = page(groups, req, `groups:${req.AnomalyDetectorArn}:${req.SensitivityThreshold}`);
        const counts = new Map<string, number>();
        for (const g of groups) {
          const measure = primaryImpact(g).measure;
          counts.set(measure, (counts.get(measure) ?? 0) + 1);
        }
        return {
          AnomalyGroupSummaryList: items.map((g) => {
            const a = toAnomalyGroup(g);
            return { StartTime: a.StartTime, EndTime: a.EndTime, AnomalyGroupId: a.AnomalyGroupId, AnomalyGroupScore: a.AnomalyGroupScore, PrimaryMetricName: a.PrimaryMetricName };
          }),
          AnomalyGroupStatistics: {
            ...(groups.length ? { EvaluationStartDate: toAnomalyGroup(groups.reduce((a, b) => (a.startMs <= b.startMs ? a : b))).StartTime } : {}),
            TotalCount: groups.length,
            ItemizedMetricStatsList: [...counts].map(([MetricName, OccurrenceCount]) => ({ MetricName, OccurrenceCount })),
          },
          ...(NextToken ? { NextToken } : {}),
        };
      },
      GetAnomalyGroup: async (input, request) => {
        const req = parseOrThrow(z.strictObject({ AnomalyGroupId: GroupId, AnomalyDetectorArn: Arn }), input, "GetAnomalyGroup request");
        return { AnomalyGroup: toAnomalyGroup((await groupOf(rt(), req.AnomalyDetectorArn, req.AnomalyGroupId, request)).group) };
      },
      ListAnomalyGroupTimeSeries: async (input, request) => {
        const req = parseOrThrow(z.strictObject({ AnomalyDetectorArn: Arn, AnomalyGroupId: GroupId, MetricName: z.string().min(1).max(256), ...Paging }), input, "ListAnomalyGroupTimeSeries request");
        const r = rt();
        const { group, metricSet } = await groupOf(r, req.AnomalyDetectorArn, req.AnomalyGroupId, request);
        return timeSeriesAround(r, metricSet, group, req.MetricName, req);
      },

      BackTestAnomalyDetector: async (input, request) => {
        const r = rt();
        const arn = parseOrThrow(DetectorRef, input, "BackTestAnomalyDetector request").AnomalyDetectorArn;
        await detectorOf(r.catalog, arn, request);
        await backTest(r, arn);
        return {};
      },
      ListAnomalyGroupRelatedMetrics: async (input, request) => {
        const req = parseOrThrow(
          z.strictObject({ AnomalyDetectorArn: Arn, AnomalyGroupId: GroupId, RelationshipTypeFilter: z.enum(["CAUSE_OF_INPUT_ANOMALY_GROUP", "EFFECT_OF_INPUT_ANOMALY_GROUP"]).optional(), ...Paging }),
          input,
          "ListAnomalyGroupRelatedMetrics request",
        );
        const r = rt();
        const { group, metricSet } = await groupOf(r, req.AnomalyDetectorArn, req.AnomalyGroupId, request);
        const related = relatedMetrics(group, await groupsOf(r, req.AnomalyDetectorArn), intervalMs(metricSet.MetricSetFrequency)).filter((x) => !req.RelationshipTypeFilter || x.RelationshipType === req.RelationshipTypeFilter);
        const { items, NextToken } = page(related, req, `related:${req.AnomalyGroupId}:${req.RelationshipTypeFilter ?? ""}`);
        return { InterMetricImpactList: items, ...(NextToken ? { NextToken } : {}) };
      },
      DetectMetricSetConfig: async (input, request) => {
        const r = rt();
        await detectorOf(r.catalog, parseOrThrow(z.looseObject({ AnomalyDetectorArn: Arn }), input, "DetectMetricSetConfig request").AnomalyDetectorArn, request);
        return detectMetricSetConfig(r.blobs, input);
      },
      GetSampleData: async (input) => getSampleData(rt().blobs, input),

      // Runs and data quality
      DescribeAnomalyDetectionExecutions: async (input, request) => {
        const req = parseOrThrow(z.strictObject({ AnomalyDetectorArn: Arn, Timestamp: z.iso.datetime({ offset: true }).optional(), ...Paging }), input, "DescribeAnomalyDetectionExecutions request");
        const r = rt();
        await detectorOf(r.catalog, req.AnomalyDetectorArn, request);
        const sets = await r.catalog.listMetricSets(req.AnomalyDetectorArn);
        const runs = (await Promise.all(sets.map((m) => r.records.list<IntervalExecution>("executions", `${metricSetKey(m.MetricSetArn)}/`)))).flat();
        const wanted = req.Timestamp ? runs.filter((e) => Date.parse(e.Timestamp) === Date.parse(req.Timestamp!)) : runs;
        const newestFirst = wanted.sort((a, b) => Date.parse(b.Timestamp) - Date.parse(a.Timestamp));
        const { items, NextToken } = page(newestFirst, req, `executions:${req.AnomalyDetectorArn}:${req.Timestamp ?? ""}`);
        return { ExecutionList: items.map((e) => ({ Timestamp: e.Timestamp.replace(/\.\d{3}Z$/, "Z"), Status: e.Status, ...(e.FailureReason ? { FailureReason: e.FailureReason } : {}) })), ...(NextToken ? { NextToken } : {}) };
      },
      GetDataQualityMetrics: async (input, request) => {
        const req = parseOrThrow(z.strictObject({ AnomalyDetectorArn: Arn, MetricSetArn: Arn.optional() }), input, "GetDataQualityMetrics request");
        const r = rt();
        await detectorOf(r.catalog, req.AnomalyDetectorArn, request);
        const sets = (await r.catalog.listMetricSets(req.AnomalyDetectorArn)).filter((m) => !req.MetricSetArn || m.MetricSetArn === req.MetricSetArn);
        if (req.MetricSetArn && sets.length === 0) throw new ResourceNotFoundException(`No metric set ${req.MetricSetArn} in ${req.AnomalyDetectorArn}`, req.MetricSetArn, "MetricSet");
        return { AnomalyDetectorDataQualityMetricList: (await Promise.all(sets.map((m) => qualityOf(r, m)))).flat() };
      },

      // Feedback
      PutFeedback: async (input, request) => {
        const req = parseOrThrow(
          z.strictObject({ AnomalyDetectorArn: Arn, AnomalyGroupTimeSeriesFeedback: z.strictObject({ AnomalyGroupId: GroupId, TimeSeriesId: z.string().min(1).max(520), IsAnomaly: z.boolean() }) }),
          input,
          "PutFeedback request",
        );
        const r = rt();
        const f = req.AnomalyGroupTimeSeriesFeedback;
        const { group, metricSet } = await groupOf(r, req.AnomalyDetectorArn, f.AnomalyGroupId, request);
        await recordFeedback(r, metricSet, group, f.TimeSeriesId, f.IsAnomaly, now());
        return {};
      },
      GetFeedback: async (input, request) => {
        const req = parseOrThrow(
          z.strictObject({ AnomalyDetectorArn: Arn, AnomalyGroupTimeSeriesFeedback: z.strictObject({ AnomalyGroupId: GroupId, TimeSeriesId: z.string().min(1).max(520).optional() }), ...Paging }),
          input,
          "GetFeedback request",
        );
        const r = rt();
        const q = req.AnomalyGroupTimeSeriesFeedback;
        const { metricSet } = await groupOf(r, req.AnomalyDetectorArn, q.AnomalyGroupId, request);
        const all = await r.records.list<FeedbackRecord>("feedback", `${feedbackKey(metricSet, q.AnomalyGroupId, "")}`);
        const wanted = q.TimeSeriesId ? all.filter((f) => f.TimeSeriesId === q.TimeSeriesId) : all;
        const { items, NextToken } = page(wanted, req, `feedback:${q.AnomalyGroupId}:${q.TimeSeriesId ?? ""}`);
        return { AnomalyGroupTimeSeriesFeedback: items.map((f) => ({ TimeSeriesId: f.TimeSeriesId, IsAnomaly: f.IsAnomaly })), ...(NextToken ? { NextToken } : {}) };
      },
    },
    tags: {
      GET: async (arn, _, request) => {
        const r = rt();
        await taggableOf(r.catalog, arn, request);
        return { Tags: await r.catalog.tagsOf(arn) };
      },
      POST: async (arn, input, request) => {
        // L4M's wire name for TagResource's Tags is "tags".
        const req = parseOrThrow(z.strictObject({ tags: z.record(z.string().min(1).max(128), z.string().max(256)).refine((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= 50, "must hold 1 to 50 tags") }), input, "TagResource request");
        if (TENANT_TAG in req.tags) throw new ValidationException(`The tag ${TENANT_TAG} is Vigil's`, { fields: [{ Name: `Tags.${TENANT_TAG}`, Message: "cannot be set" }] });
        const r = rt();
        await taggableOf(r.catalog, arn, request);
        await r.catalog.setTags(arn, (tags) => ({ ...tags, ...req.tags }));
        return {};
      },
      DELETE: async (arn, _, request) => {
        const keys = new URLSearchParams(request.query ?? "").getAll("tagKeys");
        if (keys.length === 0) throw new ValidationException("UntagResource needs tagKeys", { fields: [{ Name: "TagKeys", Message: "must name at least one tag" }] });
        if (keys.includes(TENANT_TAG)) throw new ValidationException(`The tag ${TENANT_TAG} is Vigil's`, { fields: [{ Name: "TagKeys", Message: `cannot remove ${TENANT_TAG}` }] });
        const r = rt();
        await taggableOf(r.catalog, arn, request);
        await r.catalog.setTags(arn, (tags) => Object.fromEntries(Object.entries(tags).filter(([k]) => !keys.includes(k))));
        return {};
      },
    },
  };
}

/** L4M's backtest: the first 70% of the history teaches, the last 30% is scored and its groups kept. */
const BACKTEST_LEARN_SHARE = 0.7;

async function backTest(r: Runtime, detectorArn: string): Promise<void> {
  await r.catalog.setDetectorStatus(detectorArn, "BACK_TEST_ACTIVE");
  for (const metricSet of await r.catalog.listMetricSets(detectorArn)) {
    const readable = readableOf(metricSet, metricSetRoot(r.resultsRoot, metricSet));
    const data = await readHistory(r.blobs, readable);
    const starts = [...data.intervals.keys()].sort((a, b) => a - b);
    if (starts.length < 2) throw new ValidationException(`Metric set ${metricSet.MetricSetName} has no history to back-test: give it a HistoricalDataPathList with data`);
    const len = intervalMs(metricSet.MetricSetFrequency);
    const from = starts[0]! + Math.floor(((starts.at(-1)! - starts[0]!) / len) * BACKTEST_LEARN_SHARE) * len;
    for (const g of backtest(metricSet, data, { from }).groups) await r.records.put("groups", groupKey(metricSet, g.AnomalyGroupId), g);
  }
  await r.catalog.setDetectorStatus(detectorArn, "BACK_TEST_COMPLETE");
}

/** Intervals shown before a group in ListAnomalyGroupTimeSeries. */
const CONTEXT_INTERVALS = 24;

/** The group's series of one measure, read again from the interval files around the group, `null` where a series had no value. */
async function timeSeriesAround(r: Runtime, metricSet: MetricSet, group: AnomalyGroupRecord, measure: string, paging: { MaxResults?: number | undefined; NextToken?: string | undefined }) {
  const impact = group.impacts[measure];
  if (!impact) throw new ResourceNotFoundException(`Measure ${measure} is not in anomaly group ${group.AnomalyGroupId}`, measure, "Metric");
  const len = intervalMs(metricSet.MetricSetFrequency);
  const starts = Array.from({ length: CONTEXT_INTERVALS + (group.endMs - group.startMs) / len + 1 }, (_, i) => group.startMs - CONTEXT_INTERVALS * len + i * len);
  const readable = readableOf(metricSet, metricSetRoot(r.resultsRoot, metricSet));
  const m = metricSet.MetricList.findIndex((x) => x.MetricName === measure);
  const ids = Object.keys(impact.series).sort();
  const { items, NextToken } = page(ids, paging, `timeseries:${group.AnomalyGroupId}:${measure}`);
  const values = new Map<string, (number | null)[]>(items.map((id) => [id, []]));
  const dims = dimensionsOf(metricSet);
  for (const t of starts) {
    const cells = (await readInterval(r.blobs, readable, t)).intervals.get(t);
    const byId = new Map<string, number>();
    for (const cell of cells?.values() ?? []) {
      const v = cellValue(cell, m, metricSet.MetricList[m]!.AggregationFunction);
      if (v !== undefined) byId.set(timeSeriesId(metricSet.MetricSetArn, measure, dims.map((d, i) => [d, cell.dimensions[i]!] as const)), v);
    }
    for (const id of items) values.get(id)!.push(byId.get(id) ?? null);
  }
  return {
    AnomalyGroupId: group.AnomalyGroupId,
    MetricName: measure,
    TimestampList: starts.map((t) => new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z")),
    TimeSeriesList: items.map((id) => ({
      TimeSeriesId: id,
      DimensionList: Object.entries(impact.series[id]!).map(([DimensionName, DimensionValue]) => ({ DimensionName, DimensionValue })),
      MetricValueList: values.get(id)!,
    })),
    ...(NextToken ? { NextToken } : {}),
  };
}

/** Keeps a verdict on one series of a group, with the size of the deviation judged, for detection to hand to the engine. */
export async function recordFeedback(r: Runtime, metricSet: MetricSet, group: AnomalyGroupRecord, seriesId: string, isAnomaly: boolean, now: number): Promise<void> {
  const series = Object.values(group.impacts).find((i) => seriesId in i.series);
  if (!series) throw new ResourceNotFoundException(`Time series ${seriesId} is not in anomaly group ${group.AnomalyGroupId}`, seriesId, "TimeSeries");
  const z = await largestDeviation(r, metricSet, group, seriesId);
  const record: FeedbackRecord = { AnomalyGroupId: group.AnomalyGroupId, TimeSeriesId: seriesId, IsAnomaly: isAnomaly, measure: series.measure, dimensions: series.series[seriesId]!, z, givenAt: now };
  await r.records.put("feedback", feedbackKey(metricSet, group.AnomalyGroupId, seriesId), record);
}

/** A group by its id alone (ids are unique across detectors), as links name it. */
export async function findGroup(r: Runtime, groupId: string): Promise<{ group: AnomalyGroupRecord; metricSet: MetricSet } | undefined> {
  for (const d of await r.catalog.listDetectors()) {
    for (const metricSet of await r.catalog.listMetricSets(d.AnomalyDetectorArn)) {
      const group = await r.records.get<AnomalyGroupRecord>("groups", groupKey(metricSet, groupId));
      if (group) return { group, metricSet };
    }
  }
  return undefined;
}

/**
 * The series' largest deviation in the group (signed: above or below expected) in units of its scale then, from the anomalies
 * detection wrote (their band is expected ± BOUND_Z scales): what the person judged.
 */
async function largestDeviation(r: Runtime, metricSet: MetricSet, group: AnomalyGroupRecord, seriesId: string): Promise<number> {
  const root = metricSetRoot(r.resultsRoot, metricSet);
  let peak = 0;
  for (let t = group.startMs; t <= group.endMs; t += intervalMs(metricSet.MetricSetFrequency)) {
    const bytes = await r.blobs.get(joinUri(intervalUri(root, t), "anomalies.jsonl"));
    for (const line of new TextDecoder().decode(bytes ?? new Uint8Array()).split("\n")) {
      if (!line.includes(seriesId)) continue;
      const a = JSON.parse(line) as { timeSeriesId: string; actual: number; expected: number; lower: number; upper: number };
      const z = a.timeSeriesId === seriesId ? deviationOf(a) : 0;
      if (Math.abs(z) > Math.abs(peak)) peak = z;
    }
  }
  return peak;
}

interface QualityRecord {
  readonly intervalStart: string;
  readonly rowsRead: number;
  readonly rowsPartial: number;
  readonly rowsRejected: number;
  readonly columnCompleteness: Record<string, number>;
  readonly dimensionUniqueness: Record<string, number>;
  readonly timeSeriesCount: number;
}

/** L4M's data quality metrics, per interval, from what detection recorded of each. */
async function qualityOf(r: Runtime, metricSet: MetricSet) {
  const records = await r.records.list<QualityRecord>("quality", `${metricSetKey(metricSet.MetricSetArn)}/`);
  return records.map((q) => ({
    StartTimestamp: Date.parse(q.intervalStart) / 1000,
    MetricSetDataQualityMetricList: [
      {
        MetricSetArn: metricSet.MetricSetArn,
        DataQualityMetricList: [
          { MetricType: "ROWS_PROCESSED", MetricDescription: "Rows read", MetricValue: q.rowsRead },
          { MetricType: "ROWS_PARTIAL_COMPLIANCE", MetricDescription: "Rows with at least one unusable measure", MetricValue: q.rowsPartial },
          { MetricType: "INVALID_ROWS_COMPLIANCE", MetricDescription: "Rows that could not be used", MetricValue: q.rowsRejected },
          { MetricType: "TIME_SERIES_COUNT", MetricDescription: "Time series seen", MetricValue: q.timeSeriesCount },
          ...Object.entries(q.columnCompleteness).map(([c, v]) => ({ MetricType: "COLUMN_COMPLETENESS", MetricDescription: "Share of rows with a usable value", RelatedColumnName: c, MetricValue: v })),
          ...Object.entries(q.dimensionUniqueness).map(([c, v]) => ({ MetricType: "DIMENSION_UNIQUENESS", MetricDescription: "Distinct values", RelatedColumnName: c, MetricValue: v })),
        ],
      },
    ],
  }));
}
