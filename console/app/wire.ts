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

export interface TimeSeries {
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
  readonly MetricSetDataQualityMetricList: readonly { readonly MetricSetArn: string; readonly DataQualityMetricList: readonly QualityMetric[] }[];
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
}

export type OperationName = keyof Operations;

/** What `GET /console/session` and a sign-in answer. */
export interface SessionInfo {
  readonly Tenant: string;
  readonly AccessKeyId: string;
  readonly CsrfToken: string;
  readonly ExpiresAt: number;
}
