import { ValidationException } from "../model/errors.ts";
import { zoneGridProblem } from "../model/interval-time.ts";
import { CreateMetricSetRequest, UpdateMetricSetRequest, type MetricSet, type MetricSource } from "../model/metric-set.ts";
import { parseOrThrow } from "../model/validate.ts";
import { checkSource } from "./data.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** L4M's metric set operations, in the scope's account. */

/** A source the scope may not read is refused (AccessDeniedException) before anything is kept. */
export async function createMetricSet(services: Services, scope: Scope, request: unknown): Promise<MetricSet> {
  const req = parseOrThrow(CreateMetricSetRequest, request, "CreateMetricSet request");
  // At the detector's frequency, the metric set's own; a request naming another is refused by the catalog, for that.
  const frequency = (await catalogOf(services, scope).getDetector(req.AnomalyDetectorArn)).AnomalyDetectorConfig.AnomalyDetectorFrequency;
  if ((req.MetricSetFrequency ?? frequency) === frequency) checkFolderGrid({ MetricSetFrequency: frequency, Timezone: req.Timezone, MetricSource: req.MetricSource }, services.clock());
  await checkSource(services, scope, req.MetricSource);
  return catalogOf(services, scope).createMetricSet(req);
}

export const describeMetricSet = (services: Services, scope: Scope, arn: string): Promise<MetricSet> => catalogOf(services, scope).getMetricSet(arn);

/** The metric sets of one detector, or of all the scope's detectors. */
export async function listMetricSets(services: Services, scope: Scope, detectorArn?: string): Promise<MetricSet[]> {
  const catalog = catalogOf(services, scope);
  const detectors = detectorArn ? [await catalog.getDetector(detectorArn)] : await catalog.listDetectors();
  return (await Promise.all(detectors.map((d) => catalog.listMetricSets(d.AnomalyDetectorArn)))).flat();
}

/** A new source is checked as a new metric set's is. */
export async function updateMetricSet(services: Services, scope: Scope, request: unknown): Promise<MetricSet> {
  const req = parseOrThrow(UpdateMetricSetRequest, request, "UpdateMetricSet request");
  const catalog = catalogOf(services, scope);
  const before = await catalog.getMetricSet(req.MetricSetArn);
  // A new source is checked at the metric set's frequency and zone, which an update keeps; a metric set made before the check may still have its description or measures changed.
  if (req.MetricSource) checkFolderGrid({ MetricSetFrequency: before.MetricSetFrequency, Timezone: before.Timezone, MetricSource: req.MetricSource }, services.clock());
  await checkSource(services, scope, req.MetricSource);
  return catalog.updateMetricSet(req);
}

/** A templated path whose folders the metric set's zone would name off its intervals' grid is refused (interval-time.ts, zoneGridProblem). */
function checkFolderGrid(m: Pick<MetricSet, "MetricSetFrequency" | "Timezone"> & { readonly MetricSource: MetricSource }, now: number): void {
  const template = m.MetricSource.S3SourceConfig?.TemplatedPathList?.[0];
  const problem = template === undefined ? undefined : zoneGridProblem(m, template, now);
  if (problem) throw new ValidationException(`TemplatedPathList cannot be read in this Timezone: ${problem}`, { fields: [{ Name: "MetricSource.S3SourceConfig.TemplatedPathList", Message: problem }] });
}
