import { describe, expect, it } from "vitest";
import { createDetector, OPERATOR } from "../../shared/app/index.ts";
import { router } from "../../shared/api/router.ts";
import { localAt, T0, tempDir } from "../builders.ts";

/**
 * A webhook's URL may carry its credentials, as HTTP lets it (`https://user:password@host`,
 * which the request sends as Basic authorization) or as many receivers take them (`?token=`):
 * the API answers the URL with them hidden, as it hides the Secret, the header values and a
 * Slack URL's path, while the alert keeps sending to the URL as given.
 */
describe("a webhook URL holding credentials", () => {
  it("is answered with its password and query values hidden, and kept whole for sending", async () => {
    const s = localAt(await tempDir(), () => T0);
    const call = async (name: string, body: unknown) => JSON.parse((await router(s)({ method: "POST", path: `/${name}`, body: JSON.stringify(body), requestId: "r", scope: OPERATOR })).body) as Record<string, unknown>;
    const detector = await createDetector(s, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const url = "https://hooks:p4ssw0rd-s3cret@hooks.example.com/in/shop?token=t0ken-s3cret&channel=ops";
    const { AlertArn } = await call("CreateAlert", { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 50, Action: { WebhookConfiguration: { Url: url } } });
    const described = await call("DescribeAlert", { AlertArn });
    expect(JSON.stringify(described)).not.toMatch(/p4ssw0rd-s3cret|t0ken-s3cret/);
    expect((described["Alert"] as { Action: { WebhookConfiguration: { Url: string } } }).Action.WebhookConfiguration.Url).toBe("https://hooks:****@hooks.example.com/in/shop?token=****&channel=****");
    // What is sent to is the URL as given.
    const kept = await s.records.list<{ Action: { WebhookConfiguration: { Url: string } } }>("alerts");
    expect(kept.map((a) => a.Action.WebhookConfiguration.Url)).toEqual([url]);
  });

  it("is answered with its user name hidden when that is the credential alone (`https://token@host`, sent as Basic authorization)", async () => {
    const s = localAt(await tempDir(), () => T0);
    const call = async (name: string, body: unknown) => JSON.parse((await router(s)({ method: "POST", path: `/${name}`, body: JSON.stringify(body), requestId: "r", scope: OPERATOR })).body) as Record<string, unknown>;
    const detector = await createDetector(s, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const url = "https://sk_live_t0ken-s3cret@hooks.example.com/in/shop";
    const { AlertArn } = await call("CreateAlert", { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 50, Action: { WebhookConfiguration: { Url: url } } });
    const described = await call("DescribeAlert", { AlertArn });
    expect(JSON.stringify(described)).not.toMatch(/t0ken-s3cret/);
    expect((described["Alert"] as { Action: { WebhookConfiguration: { Url: string } } }).Action.WebhookConfiguration.Url).toBe("https://****@hooks.example.com/in/shop");
    const kept = await s.records.list<{ Action: { WebhookConfiguration: { Url: string } } }>("alerts");
    expect(kept.map((a) => a.Action.WebhookConfiguration.Url)).toEqual([url]);
  });
});
