import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { describe, expect, it } from "vitest";
import { createAlert, createDetector, updateAlert, type Scope } from "../../shared/app/index.ts";
import { AwsSecrets, SecretUnavailable } from "../../shared/channels/common/secrets.ts";
import { ValidationException } from "../../shared/model/errors.ts";
import { localAt, tempDir } from "../builders.ts";
import { startFakeSecrets } from "../fakes/secrets-server.ts";

/**
 * Finding: the role that resolves alerts' `{{resolve:…}}` references may read every `vigil/`
 * secret, so a tenant's webhook header naming the operator's SMTP secret (or another
 * tenant's) sent that secret to the tenant's own URL. An alert may name only its account's
 * secrets: refused when made or changed, and again when sending (for alerts made before).
 */
const TENANT: Scope = { tenant: "111111111111", accountId: "111111111111" };
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

describe("an alert names only its own account's secrets", () => {
  it("is refused when made or changed to name the operator's or another tenant's secret", async () => {
    const services = localAt(await tempDir(), Date.now);
    const detector = await createDetector(services, TENANT, { AnomalyDetectorName: "d", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const hook = (headers: Record<string, string>, secret?: string) => ({ WebhookConfiguration: { Url: "https://hooks.example/x", Headers: headers, ...(secret ? { Secret: secret } : {}) } });
    const made = (name: string, Action: unknown) => createAlert(services, TENANT, { AlertName: name, AnomalyDetectorArn: detector.AnomalyDetectorArn, Action });
    for (const [name, action] of [
      ["smtp-in-header", hook({ "X-Leak": "{{resolve:secretsmanager:vigil/smtp}}" })],
      ["other-tenant-secret", hook({}, "{{resolve:secretsmanager:vigil/222222222222/hook-key}}")],
      ["climbs-out", hook({ "X-Leak": "{{resolve:ssm:/vigil/111111111111/../smtp}}" })],
      ["by-arn", hook({ "X-Leak": "{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:000000000000:secret:vigil/smtp-AbCdEf}}" })],
      ["slack-url", { SlackConfiguration: { WebhookUrl: "{{resolve:secretsmanager:vigil/slack}}" } }],
    ] as const) {
      await expect(made(name, action), name).rejects.toThrow(ValidationException);
    }
    const ours = await made("ours", hook({ Authorization: "{{resolve:ssm:/vigil/111111111111/token}}" }, "{{resolve:secretsmanager:vigil/111111111111/hook-key}}"));
    await expect(updateAlert(services, TENANT, { AlertArn: ours.AlertArn, Action: hook({ "X-Leak": "{{resolve:secretsmanager:vigil/smtp}}" }) })).rejects.toThrow(/not this account's/);
  });

  it("is refused again when sending: a reference not the alert's account's is not read", async () => {
    const { endpoint, calls } = await startFakeSecrets({ "vigil/smtp": "smtps://user:pass@smtp.example:465", "vigil/111111111111/hook-key": "k3y" }, {});
    const secrets = new AwsSecrets({ secretsManager: () => new SecretsManagerClient({ endpoint, region: "us-east-1", credentials }), ssm: () => new SSMClient({ endpoint, region: "us-east-1", credentials }) }, Date.now);
    await expect(secrets.resolve("{{resolve:secretsmanager:vigil/smtp}}", TENANT.accountId)).rejects.toThrow(SecretUnavailable);
    expect(calls).toEqual([]);
    expect(await secrets.resolve("{{resolve:secretsmanager:vigil/111111111111/hook-key}}", TENANT.accountId)).toBe("k3y");
  });
});
