import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountOf, tenantsFromConfig } from "../../cli/serve.ts";
import { startServing, type ServingService } from "../../cli/service.ts";
import { alertMessage } from "../../shared/alerts/message.ts";
import { createAlert, listDeliveries, OPERATOR, type Scope } from "../../shared/app/index.ts";
import { ValidationException } from "../../shared/model/errors.ts";
import type { AlertArn } from "../../shared/model/ids.ts";
import { loadServeConfig, ServeConfig } from "../../shared/runtime/service/config.ts";
import { anomalyGroupEvent, tempDir } from "../builders.ts";
import { quietObserver } from "../clock.ts";
import { HttpReceiver } from "../receivers/http-receiver.ts";
import { shop } from "../shared/app/shop.ts";

/**
 * Finding: `vigil serve` let every tenant's Slack and webhook URLs reach loopback and the
 * private network (the address check held in AWS only), and ListDeliveries showed the tenant
 * Node's error ("connect ECONNREFUSED 127.0.0.1:6379"): a port scanner of the host and its
 * network. Now any tenant's but the operator's (the default tenant) is held to public
 * addresses as in AWS, unless the operator allows it (`privateTargets`), and what a tenant is
 * told of a refused or failed connection is its kind, never an address.
 */
const TEAM_A: Scope = { tenant: "team-a", accountId: "111111111111" };
const INTERNAL = /127\.0\.0\.1|::1|\[::/;

describe("a tenant of vigil serve naming a loopback webhook or Slack URL", () => {
  let other: HttpReceiver;
  beforeAll(async () => void (other = await HttpReceiver.start()));
  afterAll(() => other?.stop());

  it("is refused without a connection, and its LastError names the kind of refusal, not an address", async () => {
    // By name too: localhost resolves to loopback, and the refusal does not say to what.
    const named = `http://localhost:${new URL(other.url).port}`;
    const s = await shop(8, {
      scope: TEAM_A,
      beforeRun: async (services, detectorArn) => {
        await createAlert(services, TEAM_A, { AlertName: "to-slack", AnomalyDetectorArn: detectorArn, AlertSensitivityThreshold: 50, Action: { SlackConfiguration: { WebhookUrl: `${named}/services/T0/B0/x` } } });
        await createAlert(services, TEAM_A, { AlertName: "to-named-hook", AnomalyDetectorArn: detectorArn, AlertSensitivityThreshold: 50, Action: { WebhookConfiguration: { Url: `${named}/hook` } } });
      },
    });
    expect([s.receiver.requests, other.requests]).toEqual([[], []]);
    const told = (await listDeliveries(s.services, TEAM_A, {})).filter((n) => n.Target?.includes("localhost") || n.Target?.startsWith(s.receiver.url));
    expect(new Set(told.map((n) => n.AlertName))).toEqual(new Set(["to-hook", "to-slack", "to-named-hook"]));
    for (const n of told) {
      expect(n).toMatchObject({ Status: "PARKED", Attempts: 1, LastError: expect.stringContaining("does not resolve to public addresses only") });
      // It names the host the alert names (the shop's webhook names 127.0.0.1 itself), and no address beside.
      expect(n.LastError!.replace(/^127\.0\.0\.1 /, ""), n.AlertName).not.toMatch(INTERNAL);
    }
    expect(told.find((n) => n.AlertName === "to-named-hook")!.LastError).toMatch(/^localhost does not resolve to public addresses only/);
  }, 120_000);

  it("the operator's own alerts still reach loopback, and a tenant the operator allows does too", async () => {
    const operator = await shop(8, { scope: OPERATOR });
    expect(operator.receiver.requests.length).toBeGreaterThan(0);
    const allowed = await shop(8, { scope: TEAM_A, local: { privateTargets: (account) => account === TEAM_A.accountId } });
    expect(allowed.receiver.requests.length).toBeGreaterThan(0);
    // The receiver refused (410): the tenant is told so, as ever.
    expect((await listDeliveries(allowed.services, TEAM_A, { AlertArn: allowed.webhook.AlertArn }))[0]).toMatchObject({ Status: "PARKED", LastError: "HTTP 410" });
  }, 120_000);
});

describe("vigil serve's privateTargets setting", () => {
  let receiver: HttpReceiver;
  let serving: ServingService;
  beforeAll(async () => {
    receiver = await HttpReceiver.start();
    const config = ServeConfig.parse({
      dataDir: join(await tempDir(), "data"),
      port: 0,
      secretAccessKey: "the-operator-own-secret",
      tenants: [
        { name: "team-a", accessKeyId: "TEAMAKEY01", secretAccessKey: "team-a-secret-key" },
        { name: "team-b", accessKeyId: "TEAMBKEY01", secretAccessKey: "team-b-secret-key" },
      ],
      privateTargets: ["team-b"],
    });
    serving = await startServing(config, { observer: quietObserver(), watch: false });
  });
  afterAll(async () => {
    await serving?.stop();
    await receiver?.stop();
  });

  it("lets the default tenant and the tenants it names reach loopback, and holds the others to public addresses", async () => {
    const signal = new AbortController().signal;
    const sendAs = (account: string) => {
      const message = alertMessage({ AlertName: "hook", AlertArn: `arn:aws:lookoutmetrics:us-east-1:${account}:Alert:hook` as AlertArn }, anomalyGroupEvent(), "first", "http://localhost:8087");
      return serving.service.services.senders.webhook.send(message, { kind: "webhook", url: `${receiver.url}/${account}` }, signal);
    };
    expect(await sendAs(accountOf("team-a"))).toMatchObject({ ok: false, retryable: false, reason: "BLOCKED_URL" });
    expect(await sendAs(accountOf("default"))).toEqual({ ok: true });
    expect(await sendAs(accountOf("team-b"))).toEqual({ ok: true });
    expect(receiver.requests.map((r) => r.path)).toEqual([`/${accountOf("default")}`, `/${accountOf("team-b")}`]);
  });

  it("is read from VIGIL_PRIVATE_TARGETS too, and refuses a tenant that does not exist", async () => {
    const dataDir = join(await tempDir(), "data");
    const fromEnv = loadServeConfig({ env: { VIGIL_TENANTS: "team-a:TEAMAKEY01:team-a-secret-key", VIGIL_PRIVATE_TARGETS: " team-a ,", VIGIL_DATA_DIR: dataDir } as NodeJS.ProcessEnv });
    expect(fromEnv.privateTargets).toEqual(["team-a"]);
    expect((await tenantsFromConfig(fromEnv)).privateTargets(accountOf("team-a"))).toBe(true);
    await expect(tenantsFromConfig({ ...fromEnv, privateTargets: ["team-z"] })).rejects.toThrow(ValidationException);
    await expect(tenantsFromConfig({ ...fromEnv, privateTargets: ["team-z"] })).rejects.toThrow(/privateTargets.*team-z/);
  });
});
