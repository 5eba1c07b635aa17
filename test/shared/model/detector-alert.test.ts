import { describe, expect, it } from "vitest";
import { channelOf, CreateAlertRequest } from "../../../shared/model/alert.ts";
import { CreateAnomalyDetectorRequest } from "../../../shared/model/detector.ts";
import { ConflictException, ResourceNotFoundException, ValidationException } from "../../../shared/model/errors.ts";
import { parseOrThrow } from "../../../shared/model/validate.ts";

const detector = { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } };
const alert = {
  AlertName: "severe",
  AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop",
  Action: { SNSConfiguration: { RoleArn: "arn:aws:iam::000000000000:role/r", SnsTopicArn: "arn:aws:sns:us-east-1:000000000000:t", SnsFormat: "JSON" } },
};

const fieldNames = (schema: Parameters<typeof parseOrThrow>[0], input: unknown) => {
  try {
    parseOrThrow(schema, input, "request");
    return [];
  } catch (e) {
    if (!(e instanceof ValidationException)) throw e;
    return e.fields.map((f) => f.Name);
  }
};

describe("CreateAnomalyDetectorRequest", () => {
  it("accepts L4M's four frequencies only", () => {
    for (const f of ["PT5M", "PT10M", "PT1H", "P1D"]) expect(fieldNames(CreateAnomalyDetectorRequest, { ...detector, AnomalyDetectorConfig: { AnomalyDetectorFrequency: f } })).toEqual([]);
    expect(fieldNames(CreateAnomalyDetectorRequest, { ...detector, AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT15M" } })).toEqual(["AnomalyDetectorConfig.AnomalyDetectorFrequency"]);
  });

  it("takes a KMS key's ARN as KmsKeyArn, as L4M does, and refuses any other ARN", () => {
    const key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(fieldNames(CreateAnomalyDetectorRequest, { ...detector, KmsKeyArn: key })).toEqual([]);
    expect(fieldNames(CreateAnomalyDetectorRequest, { ...detector, KmsKeyArn: key.replace("arn:aws:", "arn:aws-cn:") })).toEqual([]);
    for (const other of ["arn:aws:iam::000000000000:role/r", "arn:aws:kms:us-east-1:000000000000:alias/mine", key.toUpperCase(), "no ARN, though long enough to be one"]) {
      expect(fieldNames(CreateAnomalyDetectorRequest, { ...detector, KmsKeyArn: other }), other).toEqual(["KmsKeyArn"]);
    }
  });

  it("names a missing name and a too-long one", () => {
    expect(fieldNames(CreateAnomalyDetectorRequest, { AnomalyDetectorConfig: detector.AnomalyDetectorConfig })).toEqual(["AnomalyDetectorName"]);
    expect(fieldNames(CreateAnomalyDetectorRequest, { ...detector, AnomalyDetectorName: "x".repeat(64) })).toEqual(["AnomalyDetectorName"]);
  });
});

describe("CreateAlertRequest", () => {
  it("accepts an SNS alert and bounds the threshold to 0–100", () => {
    expect(fieldNames(CreateAlertRequest, alert)).toEqual([]);
    expect(fieldNames(CreateAlertRequest, { ...alert, AlertSensitivityThreshold: 101 })).toEqual(["AlertSensitivityThreshold"]);
  });

  it("needs exactly one action", () => {
    expect(fieldNames(CreateAlertRequest, { ...alert, Action: {} })).toEqual(["Action"]);
    expect(fieldNames(CreateAlertRequest, { ...alert, Action: { ...alert.Action, SlackConfiguration: { WebhookUrl: "https://hooks.slack.com/services/T/B/x" } } })).toEqual(["Action"]);
  });

  it.each([
    [{ SlackConfiguration: { WebhookUrl: "https://hooks.slack.com/services/T/B/x" } }, []],
    [{ SlackConfiguration: { WebhookUrl: "{{resolve:secretsmanager:vigil/slack}}" } }, []],
    [{ SlackConfiguration: { WebhookUrl: "ftp://example.com" } }, ["Action.SlackConfiguration.WebhookUrl"]],
    [{ WebhookConfiguration: { Url: "https://example.com/h", Secret: "{{resolve:ssm:/vigil/k}}", Headers: { "X-Team": "growth" } } }, []],
    [{ WebhookConfiguration: { Url: "https://example.com/h", Headers: { "bad header": "x" } } }, ["Action.WebhookConfiguration.Headers.bad header"]],
    [{ WebhookConfiguration: { Url: "https://example.com/h", Headers: { Expect: "100-continue" } } }, ["Action.WebhookConfiguration.Headers.Expect"]],
    [{ WebhookConfiguration: { Url: "https://example.com/h", Headers: { "Vigil-Delivery-Id": "x" } } }, ["Action.WebhookConfiguration.Headers.Vigil-Delivery-Id"]],
    [{ WebhookConfiguration: { Url: "https://example.com/h", Headers: { "vigil-signature": "x" } } }, ["Action.WebhookConfiguration.Headers.vigil-signature"]],
    [{ WebhookConfiguration: { Url: "not a url" } }, ["Action.WebhookConfiguration.Url"]],
    [{ EmailConfiguration: { To: ["oncall@example.com"], From: "vigil@example.com" } }, []],
    [{ EmailConfiguration: { To: [] } }, ["Action.EmailConfiguration.To"]],
    [{ EmailConfiguration: { To: ["not-an-address"] } }, ["Action.EmailConfiguration.To[0]"]],
  ])("checks Vigil's channels: %j", (Action, fields) => {
    expect(fieldNames(CreateAlertRequest, { ...alert, Action })).toEqual(fields);
  });
});

describe("channelOf", () => {
  it("sends an alert stored before a header name became reserved without that header, and keeps its others", () => {
    const Headers = { "X-Team": "growth", Expect: "100-continue", "vigil-signature": "forged", "X-Vigil-Delivery-Id": "x" };
    expect(channelOf({ WebhookConfiguration: { Url: "https://example.com/h", Headers } })).toEqual({ kind: "webhook", url: "https://example.com/h", headers: { "X-Team": "growth" } });
    expect(channelOf({ WebhookConfiguration: { Url: "https://example.com/h", Headers: { "X-Team": "growth" } } })).toEqual({ kind: "webhook", url: "https://example.com/h", headers: { "X-Team": "growth" } });
  });
});

describe("errors", () => {
  it("answer in L4M's shape, with their HTTP status", () => {
    const conflict = new ConflictException("Alert x already exists", "x", "Alert");
    expect(conflict).toMatchObject({ code: "ConflictException", httpStatus: 409, name: "ConflictException" });
    expect(conflict.toJSON()).toEqual({ __type: "ConflictException", Message: "Alert x already exists", ResourceId: "x", ResourceType: "Alert" });
    expect(new ResourceNotFoundException("No detector d", "d", "AnomalyDetector").httpStatus).toBe(400);
    const v = new ValidationException("bad", { fields: [{ Name: "Offset", Message: "too big" }] });
    expect(v.toJSON()).toEqual({ __type: "ValidationException", Message: "bad", Reason: "FIELD_VALIDATION_FAILED", Fields: [{ Name: "Offset", Message: "too big" }] });
  });
});
