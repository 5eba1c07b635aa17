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
type WebhookAlert = { Action: { WebhookConfiguration: { Url: string } } };

/** An alert made with webhook `url`: the URL DescribeAlert answers (and its whole answer), and the URL kept for sending. */
async function answeredAndKept(url: string): Promise<{ described: string; answered: string; kept: string[] }> {
  const s = localAt(await tempDir(), () => T0);
  const call = async (name: string, body: unknown) => JSON.parse((await router(s)({ method: "POST", path: `/${name}`, body: JSON.stringify(body), requestId: "r", scope: OPERATOR })).body) as Record<string, unknown>;
  const detector = await createDetector(s, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const { AlertArn } = await call("CreateAlert", { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 50, Action: { WebhookConfiguration: { Url: url } } });
  const described = await call("DescribeAlert", { AlertArn });
  const kept = await s.records.list<WebhookAlert>("alerts");
  return { described: JSON.stringify(described), answered: (described["Alert"] as WebhookAlert).Action.WebhookConfiguration.Url, kept: kept.map((a) => a.Action.WebhookConfiguration.Url) };
}

describe("a webhook URL holding credentials", () => {
  it("is answered with its password and query values hidden, and kept whole for sending", async () => {
    const url = "https://hooks:p4ssw0rd-s3cret@hooks.example.com/in/shop?token=t0ken-s3cret&channel=ops";
    const { described, answered, kept } = await answeredAndKept(url);
    expect(described).not.toMatch(/p4ssw0rd-s3cret|t0ken-s3cret/);
    expect(answered).toBe("https://hooks:****@hooks.example.com/in/shop?token=****&channel=****");
    // What is sent to is the URL as given.
    expect(kept).toEqual([url]);
  });

  it("is answered with its user name hidden when that is the credential alone (`https://token@host`, sent as Basic authorization)", async () => {
    const url = "https://sk_live_t0ken-s3cret@hooks.example.com/in/shop";
    const { described, answered, kept } = await answeredAndKept(url);
    expect(described).not.toMatch(/t0ken-s3cret/);
    expect(answered).toBe("https://****@hooks.example.com/in/shop");
    expect(kept).toEqual([url]);
  });
});
