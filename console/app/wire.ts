/**
 * The L4M operations the console calls, in their JSON as `vigil serve` answers them (the
 * rest-json wire, not the SDK's parsed shapes): timestamps of resources are epoch seconds,
 * those of anomaly groups ISO strings. Only the fields the console reads are named.
 */

export interface Paged {
  readonly MaxResults?: number;
  readonly NextToken?: string;
}

export interface DetectorSummary {
  readonly AnomalyDetectorArn: string;
  readonly AnomalyDetectorName: string;
  readonly AnomalyDetectorDescription?: string;
  readonly Status: string;
  readonly CreationTime: number;
  readonly LastModificationTime: number;
  /** Vigil's summaries carry it too; L4M's did not. */
  readonly AnomalyDetectorConfig?: { readonly AnomalyDetectorFrequency: string };
}

export interface Detector extends DetectorSummary {
  readonly AnomalyDetectorConfig: { readonly AnomalyDetectorFrequency: string };
  readonly FailureReason?: string;
}

export interface GroupSummary {
  readonly AnomalyGroupId: string;
  readonly AnomalyGroupScore: number;
  readonly PrimaryMetricName: string;
  readonly StartTime: string;
  readonly EndTime: string;
}

export interface DimensionContribution {
  readonly DimensionName: string;
  readonly DimensionValueContributionList: readonly { readonly DimensionValue: string; readonly ContributionScore: number }[];
}

export interface MetricImpact {
  readonly MetricName: string;
  readonly NumTimeSeries: number;
  readonly ContributionMatrix: { readonly DimensionContributionList: readonly DimensionContribution[] };
}

export interface AnomalyGroup extends GroupSummary {
  readonly MetricLevelImpactList: readonly MetricImpact[];
}

export interface DimensionValue {
  readonly DimensionName: string;
  readonly DimensionValue: string;
}

/** Vigil's band lists, beside a MetricValueList: what detection kept of each interval, null where nothing. */
export interface BandLists {
  readonly ExpectedValueList?: readonly (number | null)[];
  readonly LowerBoundList?: readonly (number | null)[];
  readonly UpperBoundList?: readonly (number | null)[];
  /** The score where the value was an anomaly, else null. */
  readonly AnomalyScoreList?: readonly (number | null)[];
  /** What detection did with each interval: found an anomaly, scored it below the floor (60), or learned it from history. */
  readonly ScoreKindList?: readonly (ScoreKind | null)[];
}

export type ScoreKind = "ANOMALY" | "BELOW_FLOOR" | "LEARNED";

export interface TimeSeries extends BandLists {
  readonly TimeSeriesId: string;
  readonly DimensionList: readonly DimensionValue[];
  readonly MetricValueList: readonly (number | null)[];
}

export type Relationship = "CAUSE_OF_INPUT_ANOMALY_GROUP" | "EFFECT_OF_INPUT_ANOMALY_GROUP";

export interface RelatedMetric {
  readonly MetricName: string;
  readonly AnomalyGroupId: string;
  readonly RelationshipType: Relationship;
  readonly ContributionPercentage: number;
}

export interface Feedback {
  readonly TimeSeriesId: string;
  readonly IsAnomaly: boolean;
  /** Vigil's: the deviation judged, in residual scales (signed), and the tolerance the verdict sets. */
  readonly Deviation?: number;
  readonly GivenTime?: string;
  readonly Tolerance?: { readonly Side: "ABOVE" | "BELOW"; readonly Before: number; readonly After: number };
}

export interface Execution {
  readonly Timestamp: string;
  readonly Status: string;
  readonly FailureReason?: string;
}

export interface QualityMetric {
  readonly MetricType: string;
  readonly MetricDescription?: string;
  readonly RelatedColumnName?: string;
  readonly MetricValue: number;
}

export interface IntervalQuality {
  readonly StartTimestamp: number;
  readonly MetricSetDataQualityMetricList: readonly { readonly MetricSetArn: string; readonly DataQualityMetricList: readonly QualityMetric[]; readonly RejectedRowsByReason?: Readonly<Record<string, number>>; readonly RejectedRowsNotKept?: number }[];
}

export interface RejectedRow {
  readonly File: string;
  readonly Line: number;
  readonly Reason: string;
  readonly Detail: string;
  readonly Partial: boolean;
  readonly Row: unknown;
  /** On a count of rows not kept (past the limits of what an interval keeps): how many, and the last line (Line is the first). */
  readonly NotKept?: number;
  readonly LastLine?: number;
}

export type DeliveryStatus = "PENDING" | "SENT" | "PARKED";

export interface Delivery {
  readonly DeliveryId: string;
  readonly AlertArn: string;
  readonly AlertName: string;
  readonly Channel?: string;
  readonly Target?: string;
  readonly AnomalyDetectorArn: string;
  readonly AnomalyGroupId: string;
  readonly Revision?: number;
  readonly Ended: boolean;
  readonly NotifyReason?: string;
  readonly Status: DeliveryStatus;
  readonly Attempts: number;
  readonly LastError?: string;
  readonly IntervalStart: string;
  readonly Time: string;
}

export interface Silence {
  readonly SilenceId: string;
  readonly AnomalyDetectorArn?: string;
  readonly MetricName?: string;
  readonly DimensionValues?: readonly DimensionValue[];
  readonly StartsAt: string;
  readonly EndsAt: string;
  readonly Reason: string;
  readonly CreatedBy?: string;
  readonly CreationTime: string;
}

export interface SilenceRequest {
  readonly AnomalyDetectorArn?: string;
  readonly MetricName?: string;
  readonly DimensionValues?: readonly DimensionValue[];
  readonly StartsAt?: string;
  readonly EndsAt: string;
  readonly Reason: string;
  readonly CreatedBy?: string;
}

export interface SeriesHistory extends BandLists {
  readonly MetricSetArn: string;
  readonly TimeSeriesId: string;
  readonly MetricName?: string;
  readonly DimensionList?: readonly DimensionValue[];
  readonly TimestampList: readonly string[];
  readonly MetricValueList: readonly (number | null)[];
}

export type AlertReason = "NOT_ANOMALOUS" | "NO_GROUP" | "ALERT_INACTIVE" | "BELOW_THRESHOLD" | "FILTERED_OUT" | "SILENCED" | "ALREADY_NOTIFIED" | "NOTIFIED" | "NOT_ROUTED";

export interface AlertExplanation {
  readonly AlertArn: string;
  readonly AlertName: string;
  readonly AlertSensitivityThreshold: number;
  readonly AlertStatus: string;
  readonly Reason: AlertReason;
  readonly EventTime?: string;
  readonly GroupScore?: number;
  readonly Outcome?: string;
  readonly SilenceId?: string;
  readonly SilenceReason?: string;
  readonly DeliveryId?: string;
  readonly DeliveryStatus?: DeliveryStatus;
  readonly NotifyReason?: string;
  readonly LastNotifiedTime?: string;
}

export interface Explanation {
  readonly Timestamp: string;
  readonly TimeSeriesId: string;
  readonly MetricSetArn: string;
  readonly MetricName?: string;
  readonly DimensionList?: readonly DimensionValue[];
  readonly ActualValue: number | null;
  readonly ExpectedValue: number | null;
  readonly LowerBound: number | null;
  readonly UpperBound: number | null;
  readonly AnomalyScore: number | null;
  readonly ScoreKind: ScoreKind | null;
  readonly MinAnomalyScore: number;
  readonly AnomalyGroup?: { readonly AnomalyGroupId: string; readonly StartTime: string; readonly EndTime: string; readonly AnomalyGroupScore: number; readonly PrimaryMetricName: string; readonly ContainsTimeSeries: boolean };
  readonly Alerts: readonly AlertExplanation[];
  readonly Silences: readonly Silence[];
  readonly RepeatIntervalSeconds: number;
}

export interface BackTestReport {
  readonly MetricSetArn: string;
  readonly StartTime: string;
  readonly EndTime: string;
  readonly IntervalSeconds: number;
  readonly IntervalsLearned: number;
  readonly IntervalsScored: number;
  readonly PeakList: readonly { readonly Timestamp: string; readonly Score: number }[];
  readonly AnomalyGroupList: readonly GroupSummary[];
}

export interface MetricSetSummary {
  readonly MetricSetArn: string;
  readonly MetricSetName: string;
}

export interface MetricSet extends MetricSetSummary {
  readonly AnomalyDetectorArn: string;
  readonly MetricSetDescription?: string;
  readonly MetricList: readonly { readonly MetricName: string; readonly AggregationFunction: string; readonly Namespace?: string }[];
  readonly DimensionList?: readonly string[];
  readonly DimensionFilterList?: readonly { readonly Name: string; readonly FilterList: readonly { readonly DimensionValue: string; readonly FilterOperation: string }[] }[];
  readonly TimestampColumn?: { readonly ColumnName?: string; readonly ColumnFormat?: string };
  readonly MetricSetFrequency?: string;
  readonly Offset?: number;
  readonly Timezone?: string;
  readonly MetricSource: Readonly<Record<string, unknown>>;
}

export interface AlertSummary {
  readonly AlertArn: string;
  readonly AlertName: string;
  readonly AlertSensitivityThreshold?: number;
  readonly AlertType?: string;
  readonly AlertStatus?: string;
}

/** Where an alert sends: exactly one channel (secrets come back hidden as `****`). */
export interface AlertAction {
  readonly WebhookConfiguration?: { readonly Url: string; readonly Secret?: string; readonly Headers?: Readonly<Record<string, string>> };
  readonly SlackConfiguration?: { readonly WebhookUrl: string };
  readonly EmailConfiguration?: { readonly To: readonly string[]; readonly From?: string };
  readonly SNSConfiguration?: { readonly SnsTopicArn: string; readonly RoleArn: string; readonly SnsFormat?: "JSON" | "LONG_TEXT" | "SHORT_TEXT" };
  readonly LambdaConfiguration?: { readonly LambdaArn: string; readonly RoleArn: string };
}

export interface AlertFilters {
  readonly MetricList?: readonly string[];
  readonly DimensionFilterList?: readonly { readonly DimensionName: string; readonly DimensionValueList: readonly string[] }[];
}

/** DescribeAlert's answer. */
export interface AlertDetail {
  readonly AlertArn: string;
  readonly AnomalyDetectorArn: string;
  readonly AlertName: string;
  readonly AlertDescription?: string;
  readonly AlertSensitivityThreshold: number;
  readonly AlertType: string;
  readonly AlertStatus: string;
  readonly Action: AlertAction;
  readonly AlertFilters?: AlertFilters;
}

export interface AlertRequest {
  readonly AlertDescription?: string;
  readonly AlertSensitivityThreshold: number;
  readonly Action?: AlertAction;
  readonly AlertFilters: AlertFilters;
}

/** Operation name → [request, response]. */
export interface Operations {
  ListAnomalyDetectors: [Paged, { AnomalyDetectorSummaryList: DetectorSummary[]; NextToken?: string }];
  DescribeAnomalyDetector: [{ AnomalyDetectorArn: string }, Detector];
  ListAnomalyGroupSummaries: [{ AnomalyDetectorArn: string; SensitivityThreshold: number } & Paged, { AnomalyGroupSummaryList: GroupSummary[]; NextToken?: string }];
  GetAnomalyGroup: [{ AnomalyDetectorArn: string; AnomalyGroupId: string }, { AnomalyGroup: AnomalyGroup }];
  ListAnomalyGroupTimeSeries: [{ AnomalyDetectorArn: string; AnomalyGroupId: string; MetricName: string } & Paged, { TimestampList: string[]; TimeSeriesList: TimeSeries[]; NextToken?: string }];
  ListAnomalyGroupRelatedMetrics: [{ AnomalyDetectorArn: string; AnomalyGroupId: string } & Paged, { InterMetricImpactList: RelatedMetric[]; NextToken?: string }];
  PutFeedback: [{ AnomalyDetectorArn: string; AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: string; TimeSeriesId: string; IsAnomaly: boolean } }, Record<string, never>];
  GetFeedback: [{ AnomalyDetectorArn: string; AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: string; TimeSeriesId?: string } } & Paged, { AnomalyGroupTimeSeriesFeedback: Feedback[]; NextToken?: string }];
  DescribeAnomalyDetectionExecutions: [{ AnomalyDetectorArn: string } & Paged, { ExecutionList: Execution[]; NextToken?: string }];
  GetDataQualityMetrics: [{ AnomalyDetectorArn: string; MetricSetArn?: string }, { AnomalyDetectorDataQualityMetricList: IntervalQuality[] }];
  ListMetricSets: [{ AnomalyDetectorArn?: string } & Paged, { MetricSetSummaryList: MetricSetSummary[]; NextToken?: string }];
  DescribeMetricSet: [{ MetricSetArn: string }, MetricSet];
  ListAlerts: [{ AnomalyDetectorArn?: string } & Paged, { AlertSummaryList: AlertSummary[]; NextToken?: string }];
  DescribeAlert: [{ AlertArn: string }, { Alert: AlertDetail }];
  CreateAlert: [AlertRequest & { AlertName: string; AnomalyDetectorArn: string; Action: AlertAction }, { AlertArn: string }];
  UpdateAlert: [Partial<AlertRequest> & { AlertArn: string }, { AlertArn: string }];
  DeleteAlert: [{ AlertArn: string }, Record<string, never>];
  BackTestAnomalyDetector: [{ AnomalyDetectorArn: string }, Record<string, never>];
  GetBackTestReport: [{ AnomalyDetectorArn: string }, { BackTestReportList: BackTestReport[] }];
  GetRejectedRows: [{ AnomalyDetectorArn: string; MetricSetArn: string } & ({ Timestamp: string } | { History: true }) & Paged, { RejectedRowList: RejectedRow[]; NextToken?: string }];
  ListDeliveries: [{ AnomalyDetectorArn?: string; AnomalyGroupId?: string; AlertArn?: string; Status?: DeliveryStatus } & Paged, { DeliveryList: Delivery[]; NextToken?: string }];
  ReplayDeliveries: [{ DeliveryIds?: readonly string[] }, { Retried: number; Remaining: number }];
  ListSilences: [{ AnomalyDetectorArn?: string; Active?: boolean } & Paged, { Silences: Silence[]; NextToken?: string }];
  CreateSilence: [SilenceRequest, { Silence: Silence }];
  UpdateSilence: [Partial<SilenceRequest> & { SilenceId: string }, { Silence: Silence }];
  ExpireSilence: [{ SilenceId: string }, { Silence: Silence }];
  GetTimeSeriesHistory: [{ MetricSetArn: string; TimeSeriesId: string; StartTime: string; EndTime: string }, SeriesHistory];
  ExplainAlerting: [{ AnomalyDetectorArn: string; MetricSetArn?: string; TimeSeriesId: string; Timestamp: string }, Explanation];
}

export type OperationName = keyof Operations;

/** What `GET /console/session` and a sign-in answer (locally); on AWS, what the Cognito ID token says. */
export interface SessionInfo {
  readonly Tenant: string;
  readonly AccessKeyId: string;
  readonly CsrfToken: string;
  readonly ExpiresAt: number;
  /** On AWS: the bearer token each call carries. */
  readonly IdToken?: string;
}

/** `GET /console/config.json`: how this console signs in. */
export type ConsoleConfig = { readonly SignIn: "keys" } | { readonly SignIn: "cognito"; readonly Domain: string; readonly ClientId: string };

/**
 * What the console's page is served with (console/server.ts), in a JSON script element of
 * this id: its sign-in configuration and, locally, the session the request's cookie named.
 */
export interface PageBoot {
  readonly Config: ConsoleConfig;
  readonly Session?: SessionInfo;
}
export const BOOT_ELEMENT = "vigil-boot";
