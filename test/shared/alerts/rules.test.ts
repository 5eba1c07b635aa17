import { describe, expect, it } from "vitest";
import { alertMatches } from "../../../shared/alerts/rules.ts";
import { silenceFor } from "../../../shared/alerts/silences.ts";
import type { Alert } from "../../../shared/model/alert.ts";
import type { Silence } from "../../../shared/model/silence.ts";
import { anomalyGroupEvent, HOUR, T0 } from "../../builders.ts";

const event = anomalyGroupEvent({ score: 91.5, measures: ["revenue", "views"] });

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    AlertName: "a",
    AlertArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:Alert:a" as Alert["AlertArn"],
    AnomalyDetectorArn: event.anomalyDetectorArn as Alert["AnomalyDetectorArn"],
    AlertSensitivityThreshold: 70,
    AlertType: "SLACK",
    AlertStatus: "ACTIVE",
    Action: { SlackConfiguration: { WebhookUrl: "https://hooks.slack.com/services/T/B/x" } },
    CreationTime: "",
    LastModificationTime: "",
    ...overrides,
  };
}

describe("alertMatches", () => {
  it.each([
    ["an active alert of the detector under the score", alert(), true],
    ["a threshold equal to the score is met", alert({ AlertSensitivityThreshold: 91.5 }), true],
    ["a threshold above the score", alert({ AlertSensitivityThreshold: 92 }), false],
    ["an inactive alert", alert({ AlertStatus: "INACTIVE" }), false],
    ["another detector's alert", alert({ AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:other" as Alert["AnomalyDetectorArn"] }), false],
    ["a measure filter naming one of the group's measures", alert({ AlertFilters: { MetricList: ["views"] } }), true],
    ["a measure filter naming none", alert({ AlertFilters: { MetricList: ["orders"] } }), false],
    ["a dimension filter on an affected value", alert({ AlertFilters: { DimensionFilterList: [{ DimensionName: "marketplace", DimensionValueList: ["fr", "de"] }] } }), true],
    ["a dimension filter on an unaffected value", alert({ AlertFilters: { DimensionFilterList: [{ DimensionName: "marketplace", DimensionValueList: ["fr"] }] } }), false],
    [
      "every dimension filter must match",
      alert({ AlertFilters: { DimensionFilterList: [{ DimensionName: "marketplace", DimensionValueList: ["de"] }, { DimensionName: "platform", DimensionValueList: ["mobile_app"] }] } }),
      false,
    ],
  ])("%s", (_, a, want) => {
    expect(alertMatches(a, event)).toBe(want);
  });
});

describe("silences", () => {
  const now = T0 + 30 * HOUR;
  const silence = (s: Partial<Silence>): Silence => ({ SilenceId: "s1", StartsAt: new Date(now - HOUR).toISOString(), EndsAt: new Date(now + HOUR).toISOString(), Reason: "planned migration", CreationTime: "", ...s });
  it.each([
    ["by detector", silence({ AnomalyDetectorArn: event.anomalyDetectorArn }), true],
    ["another detector", silence({ AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:other" }), false],
    ["by measure", silence({ MetricName: "views" }), true],
    ["another measure", silence({ MetricName: "orders" }), false],
    ["by dimension value", silence({ DimensionValues: [{ DimensionName: "marketplace", DimensionValue: "de" }] }), true],
    ["an unaffected dimension value", silence({ DimensionValues: [{ DimensionName: "marketplace", DimensionValue: "jp" }] }), false],
    ["all matchers together", silence({ AnomalyDetectorArn: event.anomalyDetectorArn, MetricName: "revenue", DimensionValues: [{ DimensionName: "platform", DimensionValue: "pc_web" }] }), true],
    ["before its window", silence({ MetricName: "views", StartsAt: new Date(now + 1).toISOString() }), false],
    ["after its window", silence({ MetricName: "views", EndsAt: new Date(now).toISOString() }), false],
  ])("%s", (_, s, want) => {
    expect(silenceFor([s], event, now) === s).toBe(want);
  });
});
