import type { Action, ActionIdentity, Alert, CreateAlertRequest } from "../model/alert.ts";
import { BUSY, CreateAnomalyDetectorRequest, UpdateAnomalyDetectorRequest, type AnomalyDetector, type AnomalyDetectorFailureType, type AnomalyDetectorStatus } from "../model/detector.ts";
import { ConflictException, ResourceNotFoundException, ServiceQuotaExceededException, ValidationException } from "../model/errors.ts";
import { alertArn, anomalyDetectorArn, arnAccount, metricSetArn, metricSetKey, resourceKey, type AnomalyDetectorArn, type ArnScope } from "../model/ids.ts";
import type * as z from "../model/zod.ts";
import { CreateMetricSetRequest, ownSourceRolesOnly, UpdateMetricSetRequest, type MetricSet } from "../model/metric-set.ts";
import { parseOrThrow } from "../model/validate.ts";
import { L4M_QUOTAS, QUOTA_CODES, type CountQuota, type Quotas } from "../model/quotas.ts";
import type { Silence } from "../model/silence.ts";
import { randomUUID } from "node:crypto";
import { RecordExists, type RecordStore, type Table } from "../store/records.ts";

/**
 * Detectors, metric sets and alerts of one account (a tenant's namespace, as an AWS
 * account is): L4M's create/describe/list rules over the record port. Records are filed
 * under their account, so one tenant's names neither collide with nor reveal another's.
 * Every input is validated before anything is written, and creation is a conditional
 * write, so a name is taken once even by racing callers.
 */
export interface CatalogDeps {
  readonly records: RecordStore;
  readonly scope: ArnScope;
  /** Epoch ms of "now", read once at the edge. */
  readonly now: () => number;
  /** L4M's quotas unless the deployment set higher ones. */
  readonly quotas?: Quotas;
  /** Who SNS and Lambda actions are sent as (model/alert.ts): Vigil itself unless said. */
  readonly actionsAs?: ActionIdentity;
}

/** What a status change may say besides the status. */
export interface StatusDetails {
  readonly FailureType?: AnomalyDetectorFailureType;
  readonly FailureReason?: string;
  readonly LearningUntil?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
/** How long a silence is kept once it has ended (it can be read, as Alertmanager keeps expired ones for a while), before it is dropped. */
export const SILENCE_KEPT_MS = 30 * 86_400_000;

/** Alerts' and silences' models, loaded by the first request that makes or changes one: detection and ingestion never load them. */
const alertModel = () => import("../model/alert.ts");
const silenceModel = () => import("../model/silence.ts");

/** Each record store's creates under one quota (its key), one after another in this process. */
const quotaTurns = new WeakMap<RecordStore, Map<string, Promise<unknown>>>();

/**
 * Runs `work` once the creates before it under the same quota (`key`) in this process have
 * ended: they count what is there one at a time, so a burst of creates is refused past the
 * quota exactly. Creates from other processes at once are held to it by the count after
 * the write (takenBackPastQuota).
 */
async function inTurn<T>(records: RecordStore, key: string, work: () => Promise<T>): Promise<T> {
  let turns = quotaTurns.get(records);
  if (!turns) quotaTurns.set(records, (turns = new Map()));
  const mine = (turns.get(key) ?? Promise.resolve()).then(work);
  const ended = mine.catch(() => undefined);
  turns.set(key, ended);
  try {
    return await mine;
  } finally {
    if (turns.get(key) === ended) turns.delete(key);
  }
}

/** The detector, unless it is being deleted (ConflictException: nothing may be made in it or changed). */
export function notDeleting(detector: AnomalyDetector): AnomalyDetector {
  if (detector.Status === "DELETING") throw new ConflictException(`Detector ${detector.AnomalyDetectorName} is being deleted: DeleteAnomalyDetector again finishes it`, detector.AnomalyDetectorArn, "AnomalyDetector");
  return detector;
}

export class Catalog {
  constructor(private readonly deps: CatalogDeps) {}

  async createDetector(input: unknown): Promise<AnomalyDetector> {
    const req = parseOrThrow(CreateAnomalyDetectorRequest, input, "CreateAnomalyDetector request");
    return inTurn(this.deps.records, `detectors/${this.deps.scope.accountId}`, () => this.createDetectorInTurn(req));
  }

  private async createDetectorInTurn(req: z.output<typeof CreateAnomalyDetectorRequest>): Promise<AnomalyDetector> {
    const held = (await this.listDetectors()).length;
    this.withinQuota("detectorsPerAccount", held + 1, `Account ${this.deps.scope.accountId} holds ${held} anomaly detectors`, this.deps.scope.accountId, "Account");
    const now = iso(this.deps.now());
    const detector: AnomalyDetector = { ...req, AnomalyDetectorArn: anomalyDetectorArn(this.deps.scope, req.AnomalyDetectorName), Status: "INACTIVE", CreationTime: now, LastModificationTime: now };
    await this.createOnce("detectors", resourceKey(detector.AnomalyDetectorArn), detector, "AnomalyDetector", req.AnomalyDetectorName);
    await this.takenBackPastQuota("detectorsPerAccount", async () => (await this.listDetectors()).length, "detectors", resourceKey(detector.AnomalyDetectorArn), `Account ${this.deps.scope.accountId} holds more anomaly detectors than its quota, made at once`, this.deps.scope.accountId, "Account");
    return detector;
  }

  async getDetector(arn: string): Promise<AnomalyDetector> {
    const found = this.mine(arn) ? await this.deps.records.get<AnomalyDetector>("detectors", resourceKey(arn)) : undefined;
    if (!found || found.AnomalyDetectorArn !== arn) throw new ResourceNotFoundException(`No anomaly detector ${arn}`, arn, "AnomalyDetector");
    return found;
  }

  /** This account's detectors. */
  listDetectors(): Promise<AnomalyDetector[]> {
    return this.deps.records.list<AnomalyDetector>("detectors", `${this.deps.scope.accountId}/`);
  }

  /** Every account's detectors: for the scheduled work that runs them all. */
  static allDetectors(records: RecordStore): Promise<AnomalyDetector[]> {
    return records.list<AnomalyDetector>("detectors");
  }

  /** Moves a detector to `status`; a failure's type and reason, or the end of learning, go with it and leave with the next change. */
  async setDetectorStatus(arn: string, status: AnomalyDetectorStatus, details: StatusDetails = {}): Promise<AnomalyDetector> {
    const detector = await this.getDetector(arn);
    if ((status === "ACTIVATING" || status === "BACK_TEST_ACTIVATING") && (await this.listMetricSets(detector.AnomalyDetectorArn)).length === 0) {
      throw new ValidationException(`Detector ${detector.AnomalyDetectorName} has no metric set to ${status === "ACTIVATING" ? "activate" : "back-test"}`, { fields: [{ Name: "AnomalyDetectorArn", Message: "names a detector without a metric set" }] });
    }
    return this.change<AnomalyDetector>("detectors", resourceKey(detector.AnomalyDetectorArn), detector.AnomalyDetectorArn, "AnomalyDetector", (current) => this.withStatus(notDeleting(current), status, details));
  }

  /** A detector at `status`: the failure and learning details of the status before go, `details` come. */
  private withStatus(current: AnomalyDetector, status: AnomalyDetectorStatus, details: StatusDetails): AnomalyDetector {
    const { FailureType: _t, FailureReason: _r, LearningUntil: _l, ...rest } = current;
    return { ...rest, Status: status, ...details, LastModificationTime: iso(this.deps.now()) };
  }

  /**
   * Sets a detector's status only while it is one of `from` (one atomic change of its record):
   * false, and nothing written, when it is not, or the detector is gone. Work that runs apart
   * from requests (a back-test, an activation) moves its detector so, and never over what a
   * request set since, nor a detector made again under its name (`detector`, as the work read it).
   */
  async moveDetectorStatus(detector: Pick<AnomalyDetector, "AnomalyDetectorArn" | "CreationTime">, from: readonly AnomalyDetectorStatus[], to: AnomalyDetectorStatus, details: StatusDetails = {}): Promise<boolean> {
    const arn = detector.AnomalyDetectorArn;
    if (!this.mine(arn)) return false;
    let moved = false;
    const id = resourceKey(arn);
    const updated = await this.deps.records.update<AnomalyDetector>("detectors", id, (current) => {
      moved = current.AnomalyDetectorArn === arn && current.CreationTime === detector.CreationTime && from.includes(current.Status);
      return moved ? this.withStatus(current, to, details) : current;
    });
    return updated !== undefined && moved;
  }

  /**
   * A quota is counted before a create, and again after it: creates at once each counted
   * before the others wrote, so each, once written, counts again (the store's listings are
   * consistent) and takes its own record back when the count is past the quota. Of records
   * made at once, the last to count sees all those kept: none stays past the quota (some may
   * be refused that would have fit, to be asked again).
   */
  private async takenBackPastQuota(quota: CountQuota, count: () => Promise<number>, table: "detectors" | "metricSets" | "alerts" | "silences", id: string, what: string, resourceId: string, resourceType: string): Promise<void> {
    const limit = (this.deps.quotas ?? L4M_QUOTAS)[quota];
    if ((await count()) <= limit) return;
    await this.deps.records.delete(table, id);
    this.withinQuota(quota, Infinity, what, resourceId, resourceType);
  }

  /** Throws L4M's ServiceQuotaExceededException, naming the quota, when `wanted` is over it. */
  private withinQuota(quota: CountQuota, wanted: number, what: string, resourceId: string, resourceType: string): void {
    const limit = (this.deps.quotas ?? L4M_QUOTAS)[quota];
    if (wanted > limit) throw new ServiceQuotaExceededException(`${what}: the quota ${QUOTA_CODES[quota]} is ${limit}`, resourceId, resourceType, QUOTA_CODES[quota]);
  }

  async createMetricSet(input: unknown): Promise<MetricSet> {
    const req = parseOrThrow(CreateMetricSetRequest, input, "CreateMetricSet request");
    ownSourceRolesOnly(req.MetricSource, this.deps.scope.accountId);
    const detector = notDeleting(await this.getDetector(req.AnomalyDetectorArn));
    const frequency = detector.AnomalyDetectorConfig.AnomalyDetectorFrequency;
    if (req.MetricSetFrequency && req.MetricSetFrequency !== frequency) {
      throw new ValidationException("MetricSetFrequency must match the detector's frequency", {
        fields: [{ Name: "MetricSetFrequency", Message: `is ${req.MetricSetFrequency}, the detector runs at ${frequency}` }],
      });
    }
    return inTurn(this.deps.records, `metricSets/${detector.AnomalyDetectorArn}`, () => this.createMetricSetInTurn(req, detector, frequency));
  }

  private async createMetricSetInTurn(req: z.output<typeof CreateMetricSetRequest>, detector: AnomalyDetector, frequency: AnomalyDetector["AnomalyDetectorConfig"]["AnomalyDetectorFrequency"]): Promise<MetricSet> {
    const sets = (await this.listMetricSets(detector.AnomalyDetectorArn)).length;
    this.withinQuota("metricSetsPerDetector", sets + 1, `Detector ${detector.AnomalyDetectorName} already has ${sets} metric set(s)`, detector.AnomalyDetectorArn, "AnomalyDetector");
    this.withinMetricSetQuotas(req, req.MetricSetName);
    const now = iso(this.deps.now());
    const arn = metricSetArn(this.deps.scope, detector.AnomalyDetectorName, req.MetricSetName);
    const metricSet: MetricSet = {
      ...req,
      AnomalyDetectorArn: detector.AnomalyDetectorArn,
      MetricSetArn: arn,
      MetricSetFrequency: frequency,
      Offset: req.Offset ?? 0,
      Timezone: req.Timezone ?? "UTC",
      CreationTime: now,
      LastModificationTime: now,
    };
    await this.createOnce("metricSets", metricSetKey(arn), metricSet, "MetricSet", req.MetricSetName);
    await this.takenBackUnlessDetector(detector, "metricSets", metricSetKey(arn), metricSet);
    await this.takenBackPastQuota("metricSetsPerDetector", async () => (await this.listMetricSets(detector.AnomalyDetectorArn)).length, "metricSets", metricSetKey(arn), `Detector ${detector.AnomalyDetectorName} holds more metric sets than its quota, made at once`, detector.AnomalyDetectorArn, "AnomalyDetector");
    return metricSet;
  }

  async getMetricSet(arn: string): Promise<MetricSet> {
    const found = this.mine(arn) ? await this.deps.records.get<MetricSet>("metricSets", metricSetKey(arn)) : undefined;
    if (!found || found.MetricSetArn !== arn) throw new ResourceNotFoundException(`No metric set ${arn}`, arn, "MetricSet");
    return found;
  }

  async listMetricSets(detectorArn: AnomalyDetectorArn | string): Promise<MetricSet[]> {
    if (!this.mine(detectorArn)) return [];
    return this.deps.records.list<MetricSet>("metricSets", `${resourceKey(detectorArn)}/`);
  }

  async createAlert(input: unknown): Promise<Alert> {
    const model = await alertModel();
    const req = parseOrThrow(model.CreateAlertRequest, input, "CreateAlert request");
    this.ownOnly(req.Action, model);
    const detector = notDeleting(await this.getDetector(req.AnomalyDetectorArn));
    return inTurn(this.deps.records, `alerts/${detector.AnomalyDetectorArn}`, () => this.createAlertInTurn(req, detector, model));
  }

  private async createAlertInTurn(req: z.output<typeof CreateAlertRequest>, detector: AnomalyDetector, { DEFAULT_ALERT_THRESHOLD, alertTypeOf }: Awaited<ReturnType<typeof alertModel>>): Promise<Alert> {
    const alerts = (await this.listAlerts(detector.AnomalyDetectorArn)).length;
    this.withinQuota("alertsPerDetector", alerts + 1, `Detector ${detector.AnomalyDetectorName} has ${alerts} alerts`, detector.AnomalyDetectorArn, "AnomalyDetector");
    const now = iso(this.deps.now());
    const alert: Alert = {
      ...req,
      AlertArn: alertArn(this.deps.scope, req.AlertName),
      AnomalyDetectorArn: detector.AnomalyDetectorArn,
      AlertSensitivityThreshold: req.AlertSensitivityThreshold ?? DEFAULT_ALERT_THRESHOLD,
      AlertType: alertTypeOf(req.Action),
      AlertStatus: "ACTIVE",
      CreationTime: now,
      LastModificationTime: now,
    };
    await this.createOnce("alerts", resourceKey(alert.AlertArn), alert, "Alert", req.AlertName);
    await this.takenBackUnlessDetector(detector, "alerts", resourceKey(alert.AlertArn));
    await this.takenBackPastQuota("alertsPerDetector", async () => (await this.listAlerts(detector.AnomalyDetectorArn)).length, "alerts", resourceKey(alert.AlertArn), `Detector ${detector.AnomalyDetectorName} holds more alerts than its quota, made at once`, detector.AnomalyDetectorArn, "AnomalyDetector");
    return alert;
  }

  async getAlert(arn: string): Promise<Alert> {
    const found = this.mine(arn) ? await this.deps.records.get<Alert>("alerts", resourceKey(arn)) : undefined;
    if (!found || found.AlertArn !== arn) throw new ResourceNotFoundException(`No alert ${arn}`, arn, "Alert");
    return found;
  }

  async listAlerts(detectorArn?: string): Promise<Alert[]> {
    const all = await this.deps.records.list<Alert>("alerts", `${this.deps.scope.accountId}/`);
    return detectorArn ? all.filter((a) => a.AnomalyDetectorArn === detectorArn) : all;
  }

  /** L4M's UpdateAnomalyDetector: description and KMS key; the frequency is fixed once a metric set exists. */
  async updateDetector(input: unknown): Promise<AnomalyDetector> {
    const req = parseOrThrow(UpdateAnomalyDetectorRequest, input, "UpdateAnomalyDetector request");
    const detector = await this.getDetector(req.AnomalyDetectorArn);
    const frequency = req.AnomalyDetectorConfig?.AnomalyDetectorFrequency;
    if (frequency && frequency !== detector.AnomalyDetectorConfig.AnomalyDetectorFrequency) await this.changeFrequency(detector, frequency);
    return this.change<AnomalyDetector>("detectors", resourceKey(detector.AnomalyDetectorArn), detector.AnomalyDetectorArn, "AnomalyDetector", (current) => ({
      ...notDeleting(current),
      ...(req.AnomalyDetectorDescription !== undefined ? { AnomalyDetectorDescription: req.AnomalyDetectorDescription } : {}),
      ...(req.KmsKeyArn !== undefined ? { KmsKeyArn: req.KmsKeyArn } : {}),
      // The frequency is written by changeFrequency alone: written again here, it could undo another update's since.
      LastModificationTime: iso(this.deps.now()),
    }));
  }

  /**
   * A detector's frequency changed while it has no metric set, written then read: a metric set
   * made meanwhile at the frequency before (CreateMetricSet reads it first) puts the frequency
   * back and refuses the change, and one made later reads the new one or takes itself back
   * (`takenBackUnlessFrequency`). Either way no metric set runs at another frequency than its
   * detector says, which no call could then change (it is fixed once a metric set exists).
   */
  private async changeFrequency(detector: AnomalyDetector, frequency: AnomalyDetector["AnomalyDetectorConfig"]["AnomalyDetectorFrequency"]): Promise<void> {
    const fixed = () => new ValidationException("The frequency of a detector with a metric set cannot change", { fields: [{ Name: "AnomalyDetectorConfig.AnomalyDetectorFrequency", Message: "is fixed once a metric set exists" }] });
    const arn = detector.AnomalyDetectorArn;
    if ((await this.listMetricSets(arn)).length) throw fixed();
    await this.change<AnomalyDetector>("detectors", resourceKey(arn), arn, "AnomalyDetector", (current) => ({ ...notDeleting(current), AnomalyDetectorConfig: { AnomalyDetectorFrequency: frequency } }));
    const made = (await this.listMetricSets(arn)).find((m) => m.MetricSetFrequency !== frequency);
    if (!made) return;
    await this.deps.records.update<AnomalyDetector>("detectors", resourceKey(arn), (current) =>
      current.CreationTime === detector.CreationTime && current.AnomalyDetectorConfig.AnomalyDetectorFrequency === frequency ? { ...current, AnomalyDetectorConfig: { AnomalyDetectorFrequency: made.MetricSetFrequency } } : current,
    );
    throw fixed();
  }

  /**
   * Marks a detector DELETING, first of what DeleteAnomalyDetector does (one atomic change of
   * its record): from then on nothing is made in it, and a create that checked it before
   * takes its own record back (`takenBackUnlessDetector`), so the cascade leaves nothing
   * behind for a detector made again under its name. L4M deletes only a detector that is not
   * running: this throws ConflictException while it is.
   */
  async markDeleting(arn: string): Promise<AnomalyDetector> {
    const detector = await this.getDetector(arn);
    return this.change<AnomalyDetector>("detectors", resourceKey(detector.AnomalyDetectorArn), detector.AnomalyDetectorArn, "AnomalyDetector", (current) => {
      if (BUSY.has(current.Status)) throw new ConflictException(`Detector ${current.AnomalyDetectorName} is ${current.Status}: deactivate it first`, arn, "AnomalyDetector");
      return this.withStatus(current, "DELETING", {});
    });
  }

  /** Deletes a detector marked DELETING with its alerts and metric sets (L4M's cascade); its results are purged before (detect/purge.ts). */
  async deleteDetector(arn: string): Promise<void> {
    const detector = await this.getDetector(arn);
    if (detector.Status !== "DELETING") throw new ConflictException(`Detector ${detector.AnomalyDetectorName} is ${detector.Status}, not DELETING`, arn, "AnomalyDetector");
    // An alert's notification state goes with it (deleteAlertRecords).
    for (const a of await this.listAlerts(arn)) await this.deleteAlertRecords(a.AlertArn);
    for (const m of await this.listMetricSets(arn)) await this.deps.records.delete("metricSets", metricSetKey(m.MetricSetArn));
    await this.deps.records.delete("detectors", resourceKey(detector.AnomalyDetectorArn));
  }

  /** L4M's UpdateMetricSet: what may change without a new model (description, offset, measures' list, filters, source). */
  async updateMetricSet(input: unknown): Promise<MetricSet> {
    const req = parseOrThrow(UpdateMetricSetRequest, input, "UpdateMetricSet request");
    ownSourceRolesOnly(req.MetricSource, this.deps.scope.accountId);
    const found = await this.getMetricSet(req.MetricSetArn);
    const { MetricSetArn: _, ...changes } = req;
    return this.change<MetricSet>("metricSets", metricSetKey(found.MetricSetArn), found.MetricSetArn, "MetricSet", (current) => this.updatedMetricSet(current, changes));
  }

  private updatedMetricSet(current: MetricSet, changes: Omit<z.infer<typeof UpdateMetricSetRequest>, "MetricSetArn">): MetricSet {
    // The frequency is the detector's, kept: one named otherwise is refused, as CreateMetricSet refuses it, not ignored.
    if (changes.MetricSetFrequency && changes.MetricSetFrequency !== current.MetricSetFrequency) {
      throw new ValidationException("MetricSetFrequency must match the detector's frequency", {
        fields: [{ Name: "MetricSetFrequency", Message: `is ${changes.MetricSetFrequency}, the detector runs at ${current.MetricSetFrequency}` }],
      });
    }
    const merged = { ...current, ...changes };
    const { AnomalyDetectorArn, MetricSetName, MetricSetDescription, MetricList, Offset, TimestampColumn, DimensionList, MetricSetFrequency, MetricSource, Timezone, Tags, DimensionFilterList } = merged;
    const checked = parseOrThrow(
      CreateMetricSetRequest,
      Object.fromEntries(Object.entries({ AnomalyDetectorArn, MetricSetName, MetricSetDescription, MetricList, Offset, TimestampColumn, DimensionList, MetricSetFrequency, MetricSource, Timezone, Tags, DimensionFilterList }).filter(([, v]) => v !== undefined)),
      "UpdateMetricSet request",
    );
    this.withinMetricSetQuotas(checked, current.MetricSetName);
    return { ...current, ...checked, MetricSetArn: current.MetricSetArn, AnomalyDetectorArn: current.AnomalyDetectorArn, MetricSetFrequency: current.MetricSetFrequency, LastModificationTime: iso(this.deps.now()) };
  }

  /** L4M's UpdateAlert: threshold, description, action and filters. */
  async updateAlert(input: unknown): Promise<Alert> {
    const model = await alertModel();
    const { alertTypeOf } = model;
    const req = parseOrThrow(model.UpdateAlertRequest, input, "UpdateAlert request");
    if (req.Action) this.ownOnly(req.Action, model);
    const alert = await this.getAlert(req.AlertArn);
    return this.change<Alert>("alerts", resourceKey(alert.AlertArn), alert.AlertArn, "Alert", (current) => ({
      ...current,
      ...(req.AlertDescription !== undefined ? { AlertDescription: req.AlertDescription } : {}),
      ...(req.AlertSensitivityThreshold !== undefined ? { AlertSensitivityThreshold: req.AlertSensitivityThreshold } : {}),
      ...(req.Action ? { Action: req.Action, AlertType: alertTypeOf(req.Action) } : {}),
      ...(req.AlertFilters ? { AlertFilters: req.AlertFilters } : {}),
      LastModificationTime: iso(this.deps.now()),
    }));
  }

  /** An action names only its account's own secrets and roles, and, sent as Vigil itself, topics and functions (model/alert.ts says why). */
  private ownOnly(action: Action, { foreignTarget, foreignSecrets, tenantSecretPrefix }: Awaited<ReturnType<typeof alertModel>>): void {
    const account = this.deps.scope.accountId;
    const target = foreignTarget(action, account, this.deps.actionsAs ?? "vigil");
    if (target) {
      const why =
        target.part === "role"
          ? "an alert's SNS and Lambda actions are sent as its RoleArn, which must be a role of the alert's own account"
          : "an alert may publish only to SNS topics and invoke only Lambda functions of its own account";
      throw new ValidationException(`The alert names ${target.arn}, which is not in this account (${account}): ${why}`, {
        fields: [{ Name: target.field, Message: `is in account ${arnAccount(target.arn) || "(none)"}, not ${account}` }],
      });
    }
    const foreign = foreignSecrets(action, this.deps.scope.accountId);
    if (foreign.length) {
      throw new ValidationException(`The alert names secrets that are not this account's: ${foreign.join(", ")}; an alert may name only ${tenantSecretPrefix(this.deps.scope.accountId)}… (Secrets Manager) and /${tenantSecretPrefix(this.deps.scope.accountId)}… (SSM)`, { fields: [{ Name: "Action", Message: "names a secret outside the account's own" }] });
    }
  }

  async deleteAlert(arn: string): Promise<void> {
    const alert = await this.getAlert(arn);
    await this.deleteAlertRecords(alert.AlertArn);
  }

  /**
   * An alert with its notification state, first (a deletion stopped between is finished by
   * deleting the alert again): groups keep their ids (their metric set and start), and an
   * alert made again under the name would read the state as its own, and never tell of a
   * group the one before told of.
   */
  private async deleteAlertRecords(arn: string): Promise<void> {
    await this.deps.records.deletePrefix("notifications", `${resourceKey(arn)}/`);
    await this.deps.records.delete("alerts", resourceKey(arn));
  }

  /** The tags of a detector, metric set or alert, by ARN. */
  async tagsOf(arn: string): Promise<Record<string, string>> {
    return { ...(await this.taggable(arn)).resource.Tags };
  }

  async setTags(arn: string, change: (tags: Record<string, string>) => Record<string, string>): Promise<void> {
    const { table, id, arn: owned, type } = await this.taggable(arn);
    await this.change<{ Tags?: Record<string, string> }>(table, id, owned, type, (resource) => {
      const tags = change({ ...resource.Tags });
      if (Object.keys(tags).length > 50) throw new ValidationException("A resource holds at most 50 tags", { fields: [{ Name: "Tags", Message: "would hold more than 50 tags" }] });
      const { Tags: _, ...rest } = resource;
      return Object.keys(tags).length ? { ...rest, Tags: tags } : rest;
    });
  }

  /** Whether `detector`, as read before, is still there, not marked for deletion nor made again since. */
  async stillStands(detector: AnomalyDetector): Promise<boolean> {
    return (await this.standing(detector)) !== undefined;
  }

  /** `detector` as it is now, when it still stands (stillStands). */
  private async standing(detector: AnomalyDetector): Promise<AnomalyDetector | undefined> {
    const now = await this.deps.records.get<AnomalyDetector>("detectors", resourceKey(detector.AnomalyDetectorArn));
    return now !== undefined && now.Status !== "DELETING" && now.CreationTime === detector.CreationTime ? now : undefined;
  }

  /**
   * A record made in `detector` is taken back (and NotFound answered) when the detector was
   * marked for deletion, deleted or made again since it was read: the deletion's cascade may
   * have listed its children before this record was written. A metric set (`made`) is taken
   * back too (ConflictException) when UpdateAnomalyDetector changed the detector's frequency
   * since it was read (`changeFrequency`). The detector is read once for both.
   */
  private async takenBackUnlessDetector(detector: AnomalyDetector, table: Table, id: string, made?: MetricSet): Promise<void> {
    const now = await this.standing(detector);
    if (!now) {
      await this.deps.records.delete(table, id);
      throw new ResourceNotFoundException(`Detector ${detector.AnomalyDetectorArn} was deleted meanwhile`, detector.AnomalyDetectorArn, "AnomalyDetector");
    }
    const frequency = now.AnomalyDetectorConfig.AnomalyDetectorFrequency;
    if (made === undefined || frequency === made.MetricSetFrequency) return;
    await this.deps.records.delete(table, id);
    throw new ConflictException(`The frequency of detector ${detector.AnomalyDetectorName} changed to ${frequency} while metric set ${made.MetricSetName} was made at ${made.MetricSetFrequency}: make it again`, detector.AnomalyDetectorArn, "AnomalyDetector");
  }

  /** One record changed atomically (no concurrent change is lost); gone meanwhile, it is not found. */
  private async change<T>(table: Table, id: string, arn: string, type: string, next: (current: T) => T): Promise<T> {
    const updated = await this.deps.records.update<T>(table, id, next);
    if (updated === undefined) throw new ResourceNotFoundException(`${type} ${arn} not found`, arn, type);
    return updated;
  }

  /** Where a taggable resource the scope owns is kept (getting it first: another's is not found). */
  /** A taggable resource the scope owns, as read, and where it is kept (another's is not found). */
  private async taggable(arn: string): Promise<{ resource: { Tags?: Record<string, string> }; table: Table; id: string; arn: string; type: string }> {
    if (/:AnomalyDetector:[^:/]+$/.test(arn)) {
      const resource = await this.getDetector(arn);
      return { resource, table: "detectors", id: resourceKey(resource.AnomalyDetectorArn), arn: resource.AnomalyDetectorArn, type: "AnomalyDetector" };
    }
    if (/:MetricSet\/[^/]+\/[^/]+$/.test(arn)) {
      const resource = await this.getMetricSet(arn);
      return { resource, table: "metricSets", id: metricSetKey(resource.MetricSetArn), arn: resource.MetricSetArn, type: "MetricSet" };
    }
    if (/:Alert:[^:/]+$/.test(arn)) {
      const resource = await this.getAlert(arn);
      return { resource, table: "alerts", id: resourceKey(resource.AlertArn), arn: resource.AlertArn, type: "Alert" };
    }
    throw new ResourceNotFoundException(`No taggable resource ${arn}`, arn);
  }

  /** A silence: validated, and its window checked against now (one that already ended is refused). */
  async createSilence(input: unknown, newId: () => string = randomUUID): Promise<Silence> {
    const req = parseOrThrow((await silenceModel()).CreateSilenceRequest, input, "CreateSilence request");
    const now = this.deps.now();
    if (Date.parse(req.EndsAt) <= now) throw new ValidationException("The silence would already be over", { fields: [{ Name: "EndsAt", Message: `is not after now (${iso(now)})` }] });
    if (req.AnomalyDetectorArn) await this.getDetector(req.AnomalyDetectorArn);
    const held = await this.silencesKept(now);
    this.withinQuota("silencesPerAccount", held + 1, `Account ${this.deps.scope.accountId} holds ${held} silences`, this.deps.scope.accountId, "Account");
    const silence: Silence = { ...req, SilenceId: newId(), StartsAt: req.StartsAt ?? iso(now), CreationTime: iso(now) };
    await this.deps.records.create("silences", this.silenceKey(silence.SilenceId), silence);
    await this.takenBackPastQuota("silencesPerAccount", async () => (await this.listSilences()).length, "silences", this.silenceKey(silence.SilenceId), `Account ${this.deps.scope.accountId} holds more silences than its quota, made at once`, this.deps.scope.accountId, "Account");
    return silence;
  }

  /**
   * The account's silences once those that ended more than SILENCE_KEPT_MS ago are dropped
   * (they mute nothing, and every alert's routing reads the account's silences): how many.
   */
  private async silencesKept(now: number): Promise<number> {
    let kept = 0;
    for (const s of await this.listSilences()) {
      if (Date.parse(s.EndsAt) + SILENCE_KEPT_MS < now) await this.deps.records.delete("silences", this.silenceKey(s.SilenceId));
      else kept++;
    }
    return kept;
  }

  listSilences(): Promise<Silence[]> {
    return this.deps.records.list<Silence>("silences", `${this.deps.scope.accountId}/`);
  }

  /** Changes a silence that has not ended; one that has is kept as it was (create another). */
  async updateSilence(input: unknown): Promise<Silence> {
    const { CreateSilenceRequest, UpdateSilenceRequest } = await silenceModel();
    const { SilenceId, ...change } = parseOrThrow(UpdateSilenceRequest, input, "UpdateSilence request");
    const found = await this.deps.records.get<Silence>("silences", this.silenceKey(SilenceId));
    if (!found) throw new ResourceNotFoundException(`No silence ${SilenceId}`, SilenceId, "Silence");
    const now = this.deps.now();
    const updatedFrom = (latest: Silence): Silence => {
      if (Date.parse(latest.EndsAt) <= now) throw new ConflictException(`Silence ${SilenceId} has ended; create another`, SilenceId, "Silence");
      const { SilenceId: _, CreationTime, ...current } = latest;
      const req = parseOrThrow(CreateSilenceRequest, { ...current, ...change }, "UpdateSilence request");
      if (Date.parse(req.EndsAt) <= now) throw new ValidationException("The silence would already be over", { fields: [{ Name: "EndsAt", Message: `is not after now (${iso(now)})` }] });
      return { ...req, SilenceId, StartsAt: req.StartsAt ?? latest.StartsAt, CreationTime };
    };
    const detector = updatedFrom(found).AnomalyDetectorArn;
    if (detector) await this.getDetector(detector);
    return this.change<Silence>("silences", this.silenceKey(SilenceId), SilenceId, "Silence", updatedFrom);
  }

  /** Ends a silence now (one already over keeps its end). */
  async expireSilence(id: string): Promise<Silence> {
    return this.change<Silence>("silences", this.silenceKey(id), id, "Silence", (found) => ({ ...found, EndsAt: iso(Math.min(this.deps.now(), Date.parse(found.EndsAt))) }));
  }

  private withinMetricSetQuotas(req: Pick<MetricSet, "MetricList" | "DimensionList">, name: string): void {
    this.withinQuota("measuresPerMetricSet", req.MetricList.length, `Metric set ${name} names ${req.MetricList.length} measures`, name, "MetricSet");
    this.withinQuota("dimensionsPerMetricSet", req.DimensionList?.length ?? 0, `Metric set ${name} names ${req.DimensionList?.length ?? 0} dimensions`, name, "MetricSet");
  }

  /** Another account's resource answers exactly as a missing one. */
  private mine(arn: string): boolean {
    return arnAccount(arn) === this.deps.scope.accountId;
  }

  /** Silences are the account's too: one tenant's silence mutes only its own alerts. */
  private silenceKey(id: string): string {
    return `${this.deps.scope.accountId}/${id}`;
  }

  private async createOnce(table: "detectors" | "metricSets" | "alerts", id: string, value: unknown, type: string, name: string): Promise<void> {
    try {
      await this.deps.records.create(table, id, value);
    } catch (e) {
      if (e instanceof RecordExists) throw new ConflictException(`${type} ${name} already exists`, name, type);
      throw e;
    }
  }
}
