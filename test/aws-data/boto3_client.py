"""Drives vigil serve through boto3 with the model in aws-data/ (AWS_DATA_PATH): prints what it saw as JSON."""
import json
import os
import sys

import boto3

endpoint, history, live = sys.argv[1], sys.argv[2], sys.argv[3]
client = boto3.client(
    "lookoutmetrics",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="VIGILLOCALKEY",
    aws_secret_access_key="vigil-local-secret",
)
paged = ["describe_anomaly_detection_executions", "get_feedback", "list_alerts", "list_anomaly_detectors", "list_anomaly_group_related_metrics", "list_anomaly_group_summaries", "list_anomaly_group_time_series", "list_metric_sets"]
out = {"can_paginate": {name: client.can_paginate(name) for name in paged}}
for i in range(3):
    client.create_anomaly_detector(AnomalyDetectorName=f"shop{i}", AnomalyDetectorConfig={"AnomalyDetectorFrequency": "PT1H"})
arn = client.list_anomaly_detectors()["AnomalyDetectorSummaryList"][0]["AnomalyDetectorArn"]
client.create_metric_set(
    AnomalyDetectorArn=arn,
    MetricSetName="orders",
    MetricList=[{"MetricName": "views", "AggregationFunction": "SUM"}],
    DimensionList=["platform", "marketplace"],
    TimestampColumn={"ColumnName": "timestamp", "ColumnFormat": "yyyy-MM-dd HH:mm:ss"},
    MetricSource={"S3SourceConfig": {"TemplatedPathList": [live], "HistoricalDataPathList": [history], "FileFormatDescriptor": {"CsvFormatDescriptor": {"ContainsHeader": True}}}},
)
pages = client.get_paginator("list_anomaly_detectors").paginate(PaginationConfig={"PageSize": 2})
out["pages"] = [[d["AnomalyDetectorName"] for d in page["AnomalyDetectorSummaryList"]] for page in pages]
out["described"] = client.describe_anomaly_detector(AnomalyDetectorArn=arn)["Status"]
try:
    client.create_anomaly_detector(AnomalyDetectorName="shop0", AnomalyDetectorConfig={"AnomalyDetectorFrequency": "PT1H"})
except client.exceptions.ConflictException as e:
    out["conflict"] = e.response["Error"]["Code"]
try:
    client.create_anomaly_detector(AnomalyDetectorName="bad name", AnomalyDetectorConfig={"AnomalyDetectorFrequency": "PT1H"})
except client.exceptions.ValidationException as e:
    out["validation"] = str(e)
out["data_path"] = os.environ.get("AWS_DATA_PATH", "")
print(json.dumps(out))
