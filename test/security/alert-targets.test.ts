import { join } from "node:path";
import type { Server } from "node:http";
import { readFile } from "node:fs/promises";
import { CreateAlertCommand, CreateAnomalyDetectorCommand, LookoutMetricsClient, ValidationException as L4mValidationException } from "@aws-sdk/client-lookoutmetrics";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { SNSClient } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, tenantsFromConfig } from "../../cli/serve.ts";
import { alertMessage } from "../../shared/alerts/message.ts";
import { createAlert, createDetector, listAlerts, listDeliveries, updateAlert, type Scope } from "../../shared/app/index.ts";
import { literalSecrets } from "../../shared/channels/common/secrets.ts";
import { LambdaSender } from "../../shared/channels/lambda/sender.ts";
import { SnsSender } from "../../shared/channels/sns/sender.ts";
import type { Alert } from "../../shared/model/alert.ts";
import { ValidationException } from "../../shared/model/errors.ts";
import { resourceKey, type AlertArn } from "../../shared/model/ids.ts";
import { senders } from "../../shared/runtime/senders.ts";
import { DEFAULT_ALERT_SETTINGS } from "../../shared/runtime/settings.ts";
import { LocalDeadLetters } from "../../shared/store/local-dead-letters.ts";
import { anomalyGroupEvent, localAt, tempDir } from "../builders.ts";
import { startFakeLambda } from "../fakes/lambda-server.ts";
import { startFakeSns } from "../fakes/sns-server.ts";
import { shop } from "../shared/app/shop.ts";

/**
 * Finding: an alert could name any SNS topic or Lambda function. Where Vigil publishes and
 * invokes as itself (the local mode, which has no STS), it reaches every topic and function
 * of its account: a tenant could publish to another tenant's topic or Vigil's own anomaly
 * group topic, or invoke Vigil's own functions. There an alert names only its own account's
 * topics and functions. In AWS, actions are sent as their RoleArn (alert-roles.test.ts), and
 * the role must be the tenant's own in both modes. Refused when made or changed, and an alert
 * stored before is parked when sending, not sent.
 */
/** A tenant reading where its metric sets point (the shop's files). */
const TEAM_A: Scope = { tenant: "team-a", accountId: "111111111111" };
const role = "arn:aws:iam::111111111111:role/r";
const OTHER_TENANTS_ROLE = "arn:aws:iam::222222222222:role/r";
const OWN_TOPIC = "arn:aws:sns:us-east-1:111111111111:team-a-oncall";
const OTHER_TENANTS_TOPIC = "arn:aws:sns:us-east-1:222222222222:team-b-oncall";
const VIGILS_TOPIC = "arn:aws:sns:us-east-1:000000000000:vigil-prod-anomaly-groups";
const OWN_FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:on-anomaly";
const VIGILS_FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:vigil-prod-shard";
const sns = (SnsTopicArn: string) => ({ SNSConfiguration: { RoleArn: role, SnsTopicArn, SnsFormat: "JSON" as const } });
const lambda = (LambdaArn: string) => ({ LambdaConfiguration: { RoleArn: role, LambdaArn } });
const asRole = <A extends { SNSConfiguration?: object; LambdaConfiguration?: object }>(RoleArn: string, action: A): A =>
  action.SNSConfiguration ? { ...action, SNSConfiguration: { ...action.SNSConfiguration, RoleArn } } : { ...action, LambdaConfiguration: { ...action.LambdaConfiguration, RoleArn } };

describe("an alert's SNS topic and Lambda function", () => {
  it("must be its own account's when the alert is made or changed: ValidationException naming the field, nothing written", async () => {
    const services = localAt(await tempDir(), () => Date.UTC(2021, 0, 1));
    const d = await createDetector(services, TEAM_A, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const made = (name: string, Action: unknown) => createAlert(services, TEAM_A, { AlertName: name, AnomalyDetectorArn: d.AnomalyDetectorArn, Action });
    for (const [name, action, field] of [
      ["other-tenants-topic", sns(OTHER_TENANTS_TOPIC), "Action.SNSConfiguration.SnsTopicArn"],
      ["vigils-topic", sns(VIGILS_TOPIC), "Action.SNSConfiguration.SnsTopicArn"],
      ["vigils-function", lambda(VIGILS_FUNCTION), "Action.LambdaConfiguration.LambdaArn"],
      ["other-tenants-role-topic", asRole(OTHER_TENANTS_ROLE, sns(OWN_TOPIC)), "Action.SNSConfiguration.RoleArn"],
      ["other-tenants-role-function", asRole(OTHER_TENANTS_ROLE, lambda(OWN_FUNCTION)), "Action.LambdaConfiguration.RoleArn"],
    ] as const) {
      const refused = await made(name, action).catch((e: unknown) => e);
      expect(refused, name).toBeInstanceOf(ValidationException);
      expect((refused as ValidationException).fields, name).toEqual([{ Name: field, Message: expect.stringMatching(/^is in account \d{12}, not 111111111111$/) }]);
    }
    expect(await listAlerts(services, TEAM_A)).toEqual([]);

    const topic = await made("own-topic", sns(OWN_TOPIC));
    const fn = await made("own-function", lambda(OWN_FUNCTION));
    await expect(updateAlert(services, TEAM_A, { AlertArn: topic.AlertArn, Action: sns(VIGILS_TOPIC) })).rejects.toMatchObject({ fields: [{ Name: "Action.SNSConfiguration.SnsTopicArn" }] });
    await expect(updateAlert(services, TEAM_A, { AlertArn: fn.AlertArn, Action: lambda(VIGILS_FUNCTION) })).rejects.toMatchObject({ fields: [{ Name: "Action.LambdaConfiguration.LambdaArn" }] });
    expect((await listAlerts(services, TEAM_A)).map((a) => a.Action).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([lambda(OWN_FUNCTION), sns(OWN_TOPIC)]);
  });

  it("sent as the role (AWS), may reach another account's topic or function, but the role must be its own account's, when made and changed", async () => {
    const services = { ...localAt(await tempDir(), () => Date.UTC(2021, 0, 1)), actionsAs: "role" as const };
    const d = await createDetector(services, TEAM_A, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const made = (name: string, Action: unknown) => createAlert(services, TEAM_A, { AlertName: name, AnomalyDetectorArn: d.AnomalyDetectorArn, Action });
    // What the tenant's role may reach is AWS's to decide: a topic another account shares with it.
    const shared = await made("shared-topic", sns(OTHER_TENANTS_TOPIC));
    for (const [name, action, field] of [
      ["other-tenants-role-topic", asRole(OTHER_TENANTS_ROLE, sns(OWN_TOPIC)), "Action.SNSConfiguration.RoleArn"],
      ["other-tenants-role-function", asRole(OTHER_TENANTS_ROLE, lambda(OWN_FUNCTION)), "Action.LambdaConfiguration.RoleArn"],
    ] as const) {
      const refused = await made(name, action).catch((e: unknown) => e);
      expect(refused, name).toBeInstanceOf(ValidationException);
      expect((refused as ValidationException).fields, name).toEqual([{ Name: field, Message: "is in account 222222222222, not 111111111111" }]);
      expect((refused as Error).message, name).toMatch(/sent as its RoleArn, which must be a role of the alert's own account/);
    }
    await expect(updateAlert(services, TEAM_A, { AlertArn: shared.AlertArn, Action: asRole(OTHER_TENANTS_ROLE, sns(OWN_TOPIC)) })).rejects.toMatchObject({ fields: [{ Name: "Action.SNSConfiguration.RoleArn" }] });
    expect((await listAlerts(services, TEAM_A)).map((a) => a.Action)).toEqual([sns(OTHER_TENANTS_TOPIC)]);
  });

  describe("through the official client against vigil serve", () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      const dir = await tempDir();
      ({ server, url } = await serve({ port: 0, services: localAt(join(dir, "vigil"), Date.now), tenants: await tenantsFromConfig({ dataDir: join(dir, "vigil"), secretAccessKey: "the-operator-own-secret", tenants: [{ name: "team-a", accessKeyId: "TEAMAKEY01", secretAccessKey: "team-a-secret-key", accountId: "111111111111" }] }) }));
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it("answers L4M's ValidationException with the field in Fields", async () => {
      const l4m = new LookoutMetricsClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId: "TEAMAKEY01", secretAccessKey: "team-a-secret-key" }, maxAttempts: 1 });
      const { AnomalyDetectorArn } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }));
      const refused = await l4m.send(new CreateAlertCommand({ AlertName: "to-vigil", AnomalyDetectorArn, Action: sns(VIGILS_TOPIC) })).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(L4mValidationException);
      expect((refused as L4mValidationException).Fields).toEqual([{ Name: "Action.SNSConfiguration.SnsTopicArn", Message: "is in account 000000000000, not 111111111111" }]);
      expect((refused as Error).message).toContain(VIGILS_TOPIC);
    });
  });

  it("an alert stored before the rule is not sent: its delivery is parked at once, saying why, and not retried", async () => {
    // Alerts written as they were kept before CreateAlert checked the account.
    let stored: Alert[] = [];
    const s = await shop(8, {
      scope: TEAM_A,
      beforeRun: async (services, detectorArn) => {
        const now = new Date().toISOString();
        stored = [
          ["old-to-vigils-topic", sns(VIGILS_TOPIC)],
          ["old-to-vigils-function", lambda(VIGILS_FUNCTION)],
          ["old-as-other-tenants-role-topic", asRole(OTHER_TENANTS_ROLE, sns(OWN_TOPIC))],
        ].map(([name, Action]) => ({
          AlertName: name as string,
          AlertArn: `arn:aws:lookoutmetrics:us-east-1:111111111111:Alert:${name as string}` as AlertArn,
          AnomalyDetectorArn: detectorArn as Alert["AnomalyDetectorArn"],
          AlertSensitivityThreshold: 50,
          AlertType: (name as string).endsWith("topic") ? "SNS" : "LAMBDA",
          AlertStatus: "ACTIVE",
          Action: Action as Alert["Action"],
          CreationTime: now,
          LastModificationTime: now,
        }));
        for (const a of stored) await services.records.put("alerts", resourceKey(a.AlertArn), a);
      },
    });
    const outbox = (kind: string) => readFile(join(s.dir, "vigil", "outbox", `${kind}.jsonl`), "utf8").then((t) => t.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>), () => []);
    // The tenant's own topic got its messages; Vigil's topic and function got none.
    expect((await outbox("sns")).map((l) => l["TopicArn"])).toContain(s.sns.Action.SNSConfiguration!.SnsTopicArn);
    expect((await outbox("sns")).map((l) => l["TopicArn"])).not.toContain(VIGILS_TOPIC);
    expect((await outbox("sns")).filter((l) => String(l["deliveryId"]).startsWith("old-"))).toEqual([]);
    expect(await outbox("lambda")).toEqual([]);

    const parked = (await new LocalDeadLetters(join(s.dir, "vigil", "dead-letters")).list()).filter((p) => stored.some((a) => a.AlertArn === p.delivery.alertArn));
    expect(new Set(parked.map((p) => p.delivery.alertArn)).size).toBe(3);
    for (const p of parked) expect(p).toMatchObject({ reason: "FOREIGN_TARGET", attempts: 1, detail: expect.stringMatching(/is not in the alert's account \(111111111111\)/) });
    const notices = (await listDeliveries(s.services, TEAM_A, {})).filter((n) => stored.some((a) => a.AlertArn === n.AlertArn));
    expect(notices.length).toBe(parked.length);
    for (const n of notices) expect(n).toMatchObject({ Status: "PARKED", Attempts: 1, LastError: expect.stringContaining("not in the alert's account") });
  }, 120_000);

  it("sent as the role or as Vigil, Publish and Invoke are never called with another account's role, and as Vigil never for another account's topic or function", async () => {
    const [topics, functions] = await Promise.all([startFakeSns([OWN_TOPIC, OTHER_TENANTS_TOPIC, VIGILS_TOPIC]), startFakeLambda([OWN_FUNCTION, VIGILS_FUNCTION])]);
    const credentials = { accessKeyId: "local", secretAccessKey: "local" };
    const snsSender = new SnsSender(() => new SNSClient({ endpoint: topics.endpoint, region: "us-east-1", credentials }));
    const lambdaSender = new LambdaSender(() => new LambdaClient({ endpoint: functions.endpoint, region: "us-east-1", credentials }));
    const sendersAs = (actionsAs: "role" | "vigil") =>
      senders({ settings: DEFAULT_ALERT_SETTINGS, secrets: literalSecrets, blockPrivateAddresses: true, wallClock: Date.now, actionsAs, aws: { send: (m, c, signal) => (c.kind === "sns" ? snsSender.send(m, c, signal) : lambdaSender.send(m, c, signal)) } });
    const message = alertMessage({ AlertName: "a", AlertArn: "arn:aws:lookoutmetrics:us-east-1:111111111111:Alert:a" as AlertArn }, anomalyGroupEvent(), "first", "https://vigil.example.com");
    const signal = new AbortController().signal;
    const topic = (topicArn: string, roleArn = role) => ({ kind: "sns" as const, topicArn, roleArn, format: "JSON" as const });
    const fn = (functionArn: string, roleArn = role) => ({ kind: "lambda" as const, functionArn, roleArn });
    const refused = { ok: false, retryable: false, reason: "FOREIGN_TARGET" };

    const asVigil = sendersAs("vigil");
    expect(await asVigil.sns.send(message, topic(VIGILS_TOPIC), signal)).toMatchObject(refused);
    expect(await asVigil.lambda.send(message, fn(VIGILS_FUNCTION), signal)).toMatchObject(refused);
    for (const all of [asVigil, sendersAs("role")]) {
      expect(await all.sns.send(message, topic(OWN_TOPIC, OTHER_TENANTS_ROLE), signal)).toMatchObject({ ...refused, detail: expect.stringContaining(`the role ${OTHER_TENANTS_ROLE} is not in the alert's account (111111111111)`) });
      expect(await all.lambda.send(message, fn(OWN_FUNCTION, OTHER_TENANTS_ROLE), signal)).toMatchObject(refused);
    }
    expect(topics.published).toEqual([]);
    expect(functions.invocations).toEqual([]);
    // The alert's own account's are sent as ever; as the role, so is a topic of another account, which the role may be granted.
    expect(await asVigil.sns.send(message, topic(OWN_TOPIC), signal)).toEqual({ ok: true });
    expect(await asVigil.lambda.send(message, fn(OWN_FUNCTION), signal)).toEqual({ ok: true });
    expect(await sendersAs("role").sns.send(message, topic(OTHER_TENANTS_TOPIC), signal)).toEqual({ ok: true });
    expect([topics.published.map((p) => p.topicArn), functions.invocations.map((i) => i.functionName)]).toEqual([[OWN_TOPIC, OTHER_TENANTS_TOPIC], [OWN_FUNCTION]]);
  });
});
