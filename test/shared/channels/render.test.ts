import { describe, expect, it } from "vitest";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { textChart } from "../../../shared/channels/common/chart.ts";
import { emailMessage } from "../../../shared/channels/email/render.ts";
import { l4mAlertJson } from "../../../shared/channels/common/l4m-alert.ts";
import { slackMessage } from "../../../shared/channels/slack/render.ts";
import { longText, shortText } from "../../../shared/channels/common/text.ts";
import { webhookBody, WEBHOOK_SCHEMA } from "../../../shared/channels/webhook/render.ts";
import { alertNamed, anomalyGroupEvent, HOUR } from "../../builders.ts";

const ALERT = alertNamed("shop-severe", "Revenue alerts");
const event = anomalyGroupEvent({ revision: 3, score: 91.5 });
const message = alertMessage(ALERT, event, "first", "https://vigil.example.com/");
/**
 * Every field of L4M's alert document and its JSON type, as in the example of L4M's
 * developer guide ("Anomaly alert document", detectors-alerts.md) and the alert a real
 * detector sent to a Lambda function (aws-samples, readable_alerts/input.json).
 */
const L4M_ALERT_SHAPE: [string, string][] = [
  ["$", "object"],
  ["$.alertName", "string"],
  ["$.alertEventId", "string"],
  ["$.anomalyDetectorArn", "string"],
  ["$.alertArn", "string"],
  ["$.alertDescription", "string"],
  ["$.impactedMetric", "object"],
  ["$.impactedMetric.metricName", "string"],
  ["$.impactedMetric.dimensionContribution", "array"],
  ["$.impactedMetric.dimensionContribution[]", "object"],
  ["$.impactedMetric.dimensionContribution[].dimensionName", "string"],
  ["$.impactedMetric.dimensionContribution[].dimensionValueContributions", "array"],
  ["$.impactedMetric.dimensionContribution[].dimensionValueContributions[]", "object"],
  ["$.impactedMetric.dimensionContribution[].dimensionValueContributions[].dimensionValue", "string"],
  ["$.impactedMetric.dimensionContribution[].dimensionValueContributions[].valueContribution", "number"],
  ["$.impactedMetric.relevantTimeSeries", "array"],
  ["$.impactedMetric.relevantTimeSeries[]", "object"],
  ["$.impactedMetric.relevantTimeSeries[].timeSeriesId", "string"],
  ["$.impactedMetric.relevantTimeSeries[].dimensions", "array"],
  ["$.impactedMetric.relevantTimeSeries[].dimensions[]", "object"],
  ["$.impactedMetric.relevantTimeSeries[].dimensions[].dimensionName", "string"],
  ["$.impactedMetric.relevantTimeSeries[].dimensions[].dimensionValue", "string"],
  ["$.impactedMetric.relevantTimeSeries[].metricValue", "number"],
  ["$.timestamp", "string"],
  ["$.anomalyScore", "number"],
];

/** Every path of keys in a JSON value, with the JSON type found there (arrays by their first element). */
function shape(value: unknown, path = "$"): Map<string, string> {
  const out = new Map<string, string>();
  const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  out.set(path, type);
  if (Array.isArray(value) && value.length) for (const [k, v] of shape(value[0], `${path}[]`)) out.set(k, v);
  if (type === "object") for (const [key, v] of Object.entries(value as object)) for (const [k, t] of shape(v, `${path}.${key}`)) out.set(k, t);
  return out;
}

describe("the L4M alert document (SNS JSON and Lambda)", () => {
  it("has every field of L4M's, with the same JSON types, and Vigil's beside them", () => {
    const ours = shape(l4mAlertJson(message));
    for (const [path, type] of L4M_ALERT_SHAPE) expect([path, ours.get(path)]).toEqual([path, type]);
    expect(l4mAlertJson(message)).toMatchObject({ anomalyGroupId: event.anomalyGroup.AnomalyGroupId, severity: "SEVERE", changePercent: -60, links: message.links });
  });

  it("uses L4M's forms for ids, timestamps and contributions", () => {
    const doc = l4mAlertJson(message);
    expect(doc.alertEventId).toMatch(/^arn:aws:lookoutmetrics:us-east-1:000000000000:Alert:shop-severe:event\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(doc.timestamp).toBe(`${new Date(event.intervalStart).toISOString().slice(0, 16)}Z[UTC]`);
    expect(doc.impactedMetric.dimensionContribution).toEqual([
      { dimensionName: "marketplace", dimensionValueContributions: [{ dimensionValue: "de", valueContribution: 100 }] },
      { dimensionName: "platform", dimensionValueContributions: [{ dimensionValue: "pc_web", valueContribution: 55 }, { dimensionValue: "mobile_web", valueContribution: 45 }] },
    ]);
    // The same alert and event give the same event id; another revision another.
    expect(l4mAlertJson(alertMessage(ALERT, event, "first", "x")).alertEventId).toBe(doc.alertEventId);
    expect(l4mAlertJson(alertMessage(ALERT, anomalyGroupEvent({ revision: 4 }), "grew", "x")).alertEventId).not.toBe(doc.alertEventId);
  });
});

describe("text messages", () => {
  const facts = [event.anomalyGroup.AnomalyGroupId, "91.5", "SEVERE", "revenue", "1,234.5", "3,086.3", "−60%", "2021-01-04 20:00 UTC", "marketplace=de", "100%", "platform=pc_web", "55%", message.links.feedback, message.links.anomalyGroup];

  it("LONG_TEXT carries every fact and the chart", () => {
    const text = longText(message);
    for (const fact of facts) expect(text).toContain(fact);
    for (const line of textChart(message.chart)) expect(text).toContain(line);
    expect(text).toContain("lasting 3 h");
  });

  it("says when a daily group started by its date (a zone's day is a date there, not a UTC midnight)", () => {
    const hourly = anomalyGroupEvent({ revision: 3 });
    const DAY = 24 * HOUR;
    const daily = { ...hourly, intervalMs: DAY, summary: { ...hourly.summary, chart: { ...hourly.summary.chart, intervalMs: DAY } } };
    const m = alertMessage(ALERT, daily, "first", "https://vigil.example.com/");
    const date = new Date(m.start).toISOString().slice(0, 10);
    for (const text of [shortText(m), longText(m), emailMessage(m).text, JSON.stringify(slackMessage(m))]) {
      expect(text).toContain(date);
      expect(text).not.toContain(" UTC");
    }
  });

  it("SHORT_TEXT is one line a phone shows whole", () => {
    const text = shortText(message);
    expect(text).not.toContain("\n");
    expect(text.length).toBeLessThanOrEqual(240);
    for (const fact of ["revenue", "−60%", "marketplace=de", "91.5", message.links.anomalyGroup]) expect(text).toContain(fact);
  });

  it("says when a group ended, and why a message comes again", () => {
    const ended = alertMessage(ALERT, anomalyGroupEvent({ type: "AnomalyGroupEnded" }), "ended", "x");
    expect(shortText(ended)).toMatch(/^\[ENDED\]/);
    expect(longText(ended)).toContain("lasted");
    expect(shortText(alertMessage(ALERT, event, "grew", "x"))).toContain("(spreading)");
  });
});

describe("the text chart", () => {
  it("draws actual over expected on one scale, blanks for gaps, marks outside the band", () => {
    const [actual, expected, outside] = textChart({ start: 0, intervalMs: 1, actual: [1, null, 5, 0], expected: [1, 2, 3, 4], lower: [0, 1, 2, 3], upper: [2, 3, 4, 5] });
    expect(actual).toBe("actual   ▂ █▁");
    expect(expected).toBe("expected ▂▄▅▇");
    expect(outside).toBe("outside  · ↑↓");
    expect(textChart({ start: 0, intervalMs: 1, actual: [null], expected: [null], lower: [null], upper: [null] })).toEqual([]);
  });
});

describe("Slack", () => {
  it("is Block Kit in an attachment of the severity's colour, with contributors, chart and links", () => {
    const body = slackMessage(message);
    const json = JSON.stringify(body);
    expect(body.attachments[0]!.color).toBe("#e8912d");
    expect(body.text).toContain("revenue");
    for (const fact of ["marketplace=de", "platform=pc_web", "actual ", "outside ", message.links.feedback, event.anomalyGroup.AnomalyGroupId]) expect(json).toContain(fact);
    expect(body.attachments[0]!.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "section", "actions", "context"]);
  });
});

describe("webhook body", () => {
  it("is the versioned schema with the same facts", () => {
    const body = webhookBody(message);
    expect(body.schema).toBe(WEBHOOK_SCHEMA);
    expect(body).toMatchObject({ deliveryId: message.deliveryId, anomalyGroup: { id: event.anomalyGroup.AnomalyGroupId, score: 91.5, severity: "SEVERE", ended: false }, measure: "revenue", changePercent: -60 });
    expect(body.chart.actual).toHaveLength(24);
  });
});

describe("email", () => {
  it("has the same content in HTML and text, with the chart in both", () => {
    const mail = emailMessage(message);
    expect(mail.subject).toContain("revenue");
    for (const fact of ["91.5", "marketplace=de", "55%", "−60%"]) {
      expect(mail.text).toContain(fact);
      expect(mail.html).toContain(fact);
    }
    expect(mail.html).toContain(message.links.feedback.replace(/&/g, "&amp;"));
    expect(mail.html).toContain(textChart(message.chart)[0]);
    expect(mail.html.match(/<td style="vertical-align:bottom/g)).toHaveLength(24);
  });
});
