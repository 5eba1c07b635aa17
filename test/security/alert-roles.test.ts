import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { alertMessage } from "../../shared/alerts/message.ts";
import { createAlert, createDetector, listAlerts, updateAlert, type Scope, type Services } from "../../shared/app/index.ts";
import { ValidationException } from "../../shared/model/errors.ts";
import type { AlertArn } from "../../shared/model/ids.ts";
import { awsServices } from "../../shared/runtime/aws.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { anomalyGroupEvent, localAt } from "../builders.ts";
import { startFakeLambda } from "../fakes/lambda-server.ts";
import { startFakeSns } from "../fakes/sns-server.ts";
import { startFakeSts, type Role } from "../fakes/sts-server.ts";
import { tempDirOnce } from "../servers.ts";

/**
 * In AWS, an alert's SNS and Lambda actions are sent as the role they name, as L4M did: Vigil
 * assumes it (STS AssumeRole) with the alert's account as ExternalId and publishes or invokes
 * with the credentials STS hands out; Vigil's own function role publishes and invokes nothing.
 * Through awsServices, its SDK clients against a local STS, SNS and Lambda speaking the AWS
 * protocols: each checks who signed each request. When credentials are renewed:
 * test/shared/runtime/role-credentials.test.ts.
 */
const FUNCTION_KEY = "AKIAVIGILDELIVER0000";
const [A, B] = ["111111111111", "222222222222"];
const ROLE_A = `arn:aws:iam::${A}:role/vigil-alerts`;
/** A role of A's whose trust policy does not (yet) name Vigil. */
const UNTRUSTING_ROLE_A = `arn:aws:iam::${A}:role/vigil-alerts-untrusting`;
const FAILING_ROLE_A = `arn:aws:iam::${A}:role/vigil-alerts-sts-down`;
const THROTTLED_ROLE_A = `arn:aws:iam::${A}:role/vigil-alerts-sts-busy`;
/** B's role, carelessly trusting A's ExternalId: only Vigil's own check keeps A from it. */
const CARELESS_ROLE_B = `arn:aws:iam::${B}:role/vigil-alerts`;
const TOPIC_A = `arn:aws:sns:us-east-1:${A}:oncall`;
/** A topic of another account that may let A's role publish to it (its topic policy's to say). */
const SHARED_TOPIC = "arn:aws:sns:us-east-1:333333333333:all-oncall";
const FUNCTION_A = `arn:aws:lambda:us-east-1:${A}:function:on-anomaly`;
const scopeA: Scope = { tenant: A, accountId: A };

const message = (account: string) => alertMessage({ AlertName: "a", AlertArn: `arn:aws:lookoutmetrics:us-east-1:${account}:Alert:a` as AlertArn }, anomalyGroupEvent(), "first", "https://vigil.example.com");
const topic = (topicArn: string, roleArn: string) => ({ kind: "sns" as const, topicArn, roleArn, format: "JSON" as const });
const fn = (functionArn: string, roleArn: string) => ({ kind: "lambda" as const, functionArn, roleArn });
const signal = new AbortController().signal;

describe("sending an alert's SNS and Lambda actions in AWS", () => {
  const trusted: Role = { trusts: [FUNCTION_KEY], externalId: A };
  const roles: Record<string, Role> = {
    [ROLE_A]: trusted,
    [FAILING_ROLE_A]: { ...trusted, fails: { status: 503, code: "ServiceUnavailable" } },
    [THROTTLED_ROLE_A]: { ...trusted, fails: { status: 400, code: "Throttling" } },
    [CARELESS_ROLE_B]: trusted,
  };
  let sts: Awaited<ReturnType<typeof startFakeSts>>;
  let sns: Awaited<ReturnType<typeof startFakeSns>>;
  let lambda: Awaited<ReturnType<typeof startFakeLambda>>;
  let services: Services;
  const issuedFor = (roleArn: string) => sts.calls.filter((c) => c.roleArn === roleArn && c.issued).map((c) => c.issued!);

  beforeAll(async () => {
    [sts, sns, lambda] = await Promise.all([startFakeSts(roles), startFakeSns([TOPIC_A, SHARED_TOPIC]), startFakeLambda([FUNCTION_A])]);
    for (const [k, v] of Object.entries({ AWS_ENDPOINT_URL_STS: sts.endpoint, AWS_ENDPOINT_URL_SNS: sns.endpoint, AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint, AWS_ACCESS_KEY_ID: FUNCTION_KEY, AWS_SECRET_ACCESS_KEY: "function-secret" })) vi.stubEnv(k, v);
    const config = configFromEnv({ VIGIL_MODE: "aws", VIGIL_TABLE: "vigil", VIGIL_RESULTS_ROOT: "s3://vigil-data/results", AWS_REGION: "us-east-1" });
    if (config.VIGIL_MODE !== "aws") throw new Error("not aws");
    // Records on local disk: DynamoDB is not what is checked here.
    services = { ...awsServices(config), records: localAt(await tempDirOnce()).records };
  });
  afterAll(() => vi.unstubAllEnvs());

  it("publishes and invokes as the action's role, assumed once for sends at once and kept across sends, with the alert's account as ExternalId", async () => {
    const sent = await Promise.all([
      ...[1, 2, 3].map(() => services.senders.sns.send(message(A), topic(TOPIC_A, ROLE_A), signal)),
      ...[1, 2].map(() => services.senders.lambda.send(message(A), fn(FUNCTION_A, ROLE_A), signal)),
    ]);
    expect(sent).toEqual(Array(5).fill({ ok: true }));
    expect(await services.senders.sns.send(message(A), topic(TOPIC_A, ROLE_A), signal)).toEqual({ ok: true });
    expect(sts.calls.filter((c) => c.roleArn === ROLE_A)).toEqual([{ roleArn: ROLE_A, externalId: A, sessionName: `vigil-${A}`, caller: FUNCTION_KEY, issued: expect.anything() }]);
    const [issued] = issuedFor(ROLE_A);
    const signers = [...sns.published, ...lambda.invocations].map((r) => [r.accessKeyId, r.sessionToken]);
    expect(signers).toEqual(Array(6).fill([issued!.accessKeyId, issued!.sessionToken]));
  });

  it("reaches a topic of another account as the role: what the role may reach is AWS's to decide", async () => {
    expect(await services.senders.sns.send(message(A), topic(SHARED_TOPIC, ROLE_A), signal)).toEqual({ ok: true });
    expect(sns.published.at(-1)).toMatchObject({ topicArn: SHARED_TOPIC, accessKeyId: issuedFor(ROLE_A)[0]!.accessKeyId });
  });

  it("parks a send whose role STS refuses, saying what its trust policy needs, and asks again next time", async () => {
    const before = [sns.published.length, lambda.invocations.length];
    const refused = {
      ok: false,
      retryable: false,
      reason: "ROLE",
      detail: `Vigil could not assume the role ${UNTRUSTING_ROLE_A} for account ${A}: its trust policy must let Vigil assume it with sts:ExternalId ${A}`,
    };
    expect(await services.senders.sns.send(message(A), topic(TOPIC_A, UNTRUSTING_ROLE_A), signal)).toEqual(refused);
    expect(await services.senders.lambda.send(message(A), fn(FUNCTION_A, UNTRUSTING_ROLE_A), signal)).toEqual(refused);
    expect([sns.published.length, lambda.invocations.length]).toEqual(before);
    expect(sts.calls.filter((c) => c.roleArn === UNTRUSTING_ROLE_A)).toHaveLength(2);
    // Its trust policy now names Vigil: the refusal was not kept.
    roles[UNTRUSTING_ROLE_A] = trusted;
    expect(await services.senders.sns.send(message(A), topic(TOPIC_A, UNTRUSTING_ROLE_A), signal)).toEqual({ ok: true });
    expect(sns.published.at(-1)!.accessKeyId).toBe(issuedFor(UNTRUSTING_ROLE_A)[0]!.accessKeyId);
  });

  it("keeps a send worth another try when STS fails or throttles", async () => {
    for (const role of [FAILING_ROLE_A, THROTTLED_ROLE_A]) {
      expect(await services.senders.sns.send(message(A), topic(TOPIC_A, role), signal), role).toMatchObject({ ok: false, retryable: true, reason: "AWS" });
      expect(issuedFor(role)).toEqual([]);
    }
  }, 60_000);

  it("never sends as another account's role, even one whose trust policy would let Vigil in for this account: STS is not asked", async () => {
    const before = [sns.published.length, lambda.invocations.length];
    for (const sent of [services.senders.sns.send(message(A), topic(TOPIC_A, CARELESS_ROLE_B), signal), services.senders.lambda.send(message(A), fn(FUNCTION_A, CARELESS_ROLE_B), signal)]) {
      expect(await sent).toMatchObject({ ok: false, retryable: false, reason: "FOREIGN_TARGET", detail: expect.stringContaining(`the role ${CARELESS_ROLE_B} is not in the alert's account (${A})`) });
    }
    expect(sts.calls.filter((c) => c.roleArn === CARELESS_ROLE_B)).toEqual([]);
    expect([sns.published.length, lambda.invocations.length]).toEqual(before);
  });

  it("refuses an alert naming another account's role when made or changed, and takes another account's topic", async () => {
    const d = await createDetector(services, scopeA, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const action = (RoleArn: string, SnsTopicArn: string) => ({ SNSConfiguration: { RoleArn, SnsTopicArn, SnsFormat: "JSON" as const } });
    const refused = await createAlert(services, scopeA, { AlertName: "as-b", AnomalyDetectorArn: d.AnomalyDetectorArn, Action: action(CARELESS_ROLE_B, TOPIC_A) }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationException);
    expect((refused as ValidationException).fields).toEqual([{ Name: "Action.SNSConfiguration.RoleArn", Message: `is in account ${B}, not ${A}` }]);
    const shared = await createAlert(services, scopeA, { AlertName: "shared", AnomalyDetectorArn: d.AnomalyDetectorArn, Action: action(ROLE_A, SHARED_TOPIC) });
    await expect(updateAlert(services, scopeA, { AlertArn: shared.AlertArn, Action: action(CARELESS_ROLE_B, SHARED_TOPIC) })).rejects.toMatchObject({ fields: [{ Name: "Action.SNSConfiguration.RoleArn" }] });
    expect((await listAlerts(services, scopeA)).map((a) => [a.AlertName, a.Action])).toEqual([["shared", action(ROLE_A, SHARED_TOPIC)]]);
  });

  it("never publishes nor invokes with Vigil's own credentials", () => {
    const issued = new Set(sts.calls.flatMap((c) => (c.issued ? [c.issued.accessKeyId] : [])));
    expect(sns.published.length + lambda.invocations.length).toBeGreaterThan(0);
    expect([...sns.published, ...lambda.invocations].filter((r) => !issued.has(r.accessKeyId))).toEqual([]);
  });
});
