import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { actionOf, CHANNELS, EMPTY_FORM, filtersOf, filterText, formOf, targetText, thresholdOf, type AlertForm } from "../../console/app/alerts.ts";
import type { AlertDetail } from "../../console/app/wire.ts";
import { Action, AlertFilters } from "../../shared/model/alert.ts";

const ROLE = "arn:aws:iam::000000000000:role/vigil";
const alertOf = (form: AlertForm): AlertDetail => ({ AlertArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:Alert:a", AnomalyDetectorArn: "arn:d", AlertName: form.name, AlertSensitivityThreshold: thresholdOf(form), AlertType: form.channel, AlertStatus: "ACTIVE", Action: actionOf(form), AlertFilters: filtersOf(form) });

describe("the alert form", () => {
  it("makes each channel's Action as the server's schema takes it", () => {
    const forms: AlertForm[] = [
      { ...EMPTY_FORM, channel: "WEBHOOK", target: " https://hooks.example/x ", secret: "s3cret" },
      { ...EMPTY_FORM, channel: "SLACK", target: "https://hooks.slack.com/services/T/B/x" },
      { ...EMPTY_FORM, channel: "EMAIL", target: "ana@shop.example, , ops@shop.example" },
      { ...EMPTY_FORM, channel: "SNS", target: "arn:aws:sns:us-east-1:000000000000:t", role: ROLE, snsFormat: "SHORT_TEXT" },
      { ...EMPTY_FORM, channel: "LAMBDA", target: "arn:aws:lambda:us-east-1:000000000000:function:f", role: ROLE },
    ];
    expect(forms.map((f) => Action.safeParse(actionOf(f)).success)).toEqual([true, true, true, true, true]);
    expect(actionOf(forms[0]!)).toEqual({ WebhookConfiguration: { Url: "https://hooks.example/x", Secret: "s3cret" } });
    expect(actionOf({ ...forms[0]!, secret: "" })).toEqual({ WebhookConfiguration: { Url: "https://hooks.example/x" } });
    expect(actionOf(forms[2]!)).toEqual({ EmailConfiguration: { To: ["ana@shop.example", "ops@shop.example"] } });
    // A webhook's headers, a line each; blank lines left out, a value may hold colons.
    const withHeaders = actionOf({ ...forms[0]!, headers: "Authorization: Bearer a:b\n\n  X-Team : ops \n" });
    expect(withHeaders).toEqual({ WebhookConfiguration: { Url: "https://hooks.example/x", Secret: "s3cret", Headers: { Authorization: "Bearer a:b", "X-Team": "ops" } } });
    expect(Action.safeParse(withHeaders).success).toBe(true);
    expect(() => actionOf({ ...forms[0]!, headers: "Authorization Bearer x" })).toThrow(/A header is a line "Name: value": "Authorization Bearer x" is not/);
    // A name the server does not take is its ValidationException to tell.
    expect(Action.safeParse(actionOf({ ...forms[0]!, headers: "Bad Name: x" })).success).toBe(false);
    expect(Action.safeParse({ WebhookConfiguration: { Url: "https://hooks.example/x", Headers: { "X-Team": "ops\r\nX-Injected: 1" } } }).success).toBe(false);
    expect(CHANNELS).toHaveLength(forms.length);
  });

  it("names filters only when chosen, and {} (every incident) otherwise, which the schema takes", () => {
    expect(filtersOf(EMPTY_FORM)).toEqual({});
    expect(filtersOf({ ...EMPTY_FORM, dimension: "marketplace", values: " " })).toEqual({});
    const both = filtersOf({ ...EMPTY_FORM, measures: ["views"], dimension: "marketplace", values: "de, fr" });
    expect(both).toEqual({ MetricList: ["views"], DimensionFilterList: [{ DimensionName: "marketplace", DimensionValueList: ["de", "fr"] }] });
    expect(AlertFilters.safeParse(both).success && AlertFilters.safeParse({}).success).toBe(true);
    expect(filterText(both)).toBe("measure views; marketplace de or fr");
    expect(filterText({})).toBe("every incident");
  });

  it("takes a severity from 0 to 100 and says what is wrong with another", () => {
    expect(thresholdOf({ ...EMPTY_FORM, threshold: "0" })).toBe(0);
    expect(thresholdOf({ ...EMPTY_FORM, threshold: "100" })).toBe(100);
    for (const bad of ["", "101", "-1", "7.5", "high"]) expect(() => thresholdOf({ ...EMPTY_FORM, threshold: bad })).toThrow(/whole number from 0 to 100/);
  });

  it("reads an alert back into the form it was made with (secrets aside, which the server hides)", () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
    fc.assert(
      fc.property(fc.constantFrom(...CHANNELS), word, fc.integer({ min: 0, max: 100 }), fc.uniqueArray(word, { maxLength: 3 }), fc.option(fc.tuple(word, fc.uniqueArray(word, { minLength: 1, maxLength: 3 })), { nil: undefined }), (channel, name, threshold, measures, dimension) => {
        const target = channel === "EMAIL" ? `${name}@shop.example` : channel === "SNS" || channel === "LAMBDA" ? `arn:aws:${channel.toLowerCase()}:us-east-1:000000000000:${name}` : `https://hooks.example/${name}`;
        const form: AlertForm = { ...EMPTY_FORM, name, threshold: String(threshold), channel, target, role: channel === "SNS" || channel === "LAMBDA" ? ROLE : "", measures, dimension: dimension?.[0] ?? "", values: dimension?.[1].join(", ") ?? "" };
        const back = formOf(alertOf(form));
        expect(back).toEqual(form);
        expect(targetText(alertOf(form))).toBe(target);
      }),
    );
  });
});
