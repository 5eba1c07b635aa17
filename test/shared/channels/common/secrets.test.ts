import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { describe, expect, it } from "vitest";
import { AwsSecrets, literalSecrets, SecretUnavailable } from "../../../../shared/channels/common/secrets.ts";
import { CreateAlertRequest, redactAlert } from "../../../../shared/model/alert.ts";
import { startFakeSecrets } from "../../../fakes/secrets-server.ts";

const credentials = { accessKeyId: "local", secretAccessKey: "local" };

describe("secret references", () => {
  it("resolve from Secrets Manager and SSM (decrypted) through the SDK, cached for a while", async () => {
    const { endpoint, calls } = await startFakeSecrets({ "vigil/slack": "https://hooks.slack.com/services/T/B/real" }, { "/vigil/hook-key": "k3y" });
    let now = 0;
    const secrets = new AwsSecrets(
      { secretsManager: () => new SecretsManagerClient({ endpoint, region: "us-east-1", credentials }), ssm: () => new SSMClient({ endpoint, region: "us-east-1", credentials }) },
      () => now,
    );
    expect(await secrets.resolve("{{resolve:secretsmanager:vigil/slack}}")).toBe("https://hooks.slack.com/services/T/B/real");
    expect(await secrets.resolve("{{resolve:ssm:/vigil/hook-key}}")).toBe("k3y");
    expect(await secrets.resolve("a literal")).toBe("a literal");
    await secrets.resolve("{{resolve:ssm:/vigil/hook-key}}");
    expect(calls).toHaveLength(2);
    now += 10 * 60_000;
    await secrets.resolve("{{resolve:ssm:/vigil/hook-key}}");
    expect(calls).toHaveLength(3);
    await expect(secrets.resolve("{{resolve:secretsmanager:vigil/none}}")).rejects.toThrow(SecretUnavailable);
    // Named by the error's kind, not in the service's words (which name Vigil's account and role, and the alert's owner reads them).
    await expect(secrets.resolve("{{resolve:secretsmanager:vigil/none}}")).rejects.toThrow(/^cannot read secretsmanager secret vigil\/none \(ResourceNotFoundException\)$/);
  });

  it("are refused by the local mode, which has no secret store", async () => {
    await expect(literalSecrets.resolve("{{resolve:ssm:/x}}")).rejects.toThrow(/AWS mode only/);
  });
});

describe("redactAlert", () => {
  const alert = CreateAlertRequest.parse({
    AlertName: "hook",
    AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop",
    Action: { WebhookConfiguration: { Url: "https://example.com/hook", Secret: "s3cret", Headers: { Authorization: "Bearer t0ken", "X-Ref": "{{resolve:ssm:/vigil/h}}" } } },
  });

  it("hides literal secrets and keeps references, which are not secret", () => {
    const shown = JSON.stringify(redactAlert(alert));
    expect(shown).not.toContain("s3cret");
    expect(shown).not.toContain("t0ken");
    expect(shown).toContain("{{resolve:ssm:/vigil/h}}");
    expect(shown).toContain("https://example.com/hook");
  });

  it("hides a Slack webhook URL's path, which is its credential", () => {
    const slack = redactAlert({ ...alert, Action: { SlackConfiguration: { WebhookUrl: "https://hooks.slack.com/services/T0/B0/abcdef" } } });
    expect(slack.Action.SlackConfiguration?.WebhookUrl).toBe("https://hooks.slack.com/****");
  });
});
