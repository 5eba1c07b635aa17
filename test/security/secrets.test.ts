import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, tenantsFromConfig, type Tenants } from "../../cli/serve.ts";
import { signedQuery } from "../../shared/alerts/links.ts";
import { operations, TAG_OPERATIONS } from "../../shared/api/l4m/index.ts";
import { activateDetector, createAlert, createDetector, createMetricSet, detectDue, type Scope, type Services } from "../../shared/app/index.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { csvOf, HOUR, metricSetRequest, shopPoints, T0, type ShopPoint, liveFolder } from "../builders.ts";
import { HttpReceiver } from "../receivers/http-receiver.ts";
import { tempDirOnce } from "../servers.ts";
import { runVigil, signedHeaders, type Key } from "./wire.ts";

/**
 * Secrets stay secret: no operation answers a webhook's secret or headers, a Slack URL's
 * path or the link key, whatever it is asked (finding 1 read them from Vigil's own files);
 * the links in alert messages name the account that owns the group and open that account's
 * groups only; a leaked link key is rotated with `vigil links rotate`, after which every
 * link it signed is refused, in a server that was running all along. The web console's calls
 * (`/console/api/<Operation>`, a session's) are the same operations, swept the same way.
 */
const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const LIVE = T0 + 14 * 24 * HOUR;
const dip = (p: ShopPoint): ShopPoint => (p.marketplace === "de" && p.t >= LIVE + 4 * HOUR && p.t < LIVE + 6 * HOUR ? { ...p, views: Math.round(Number(p.views) / 5) } : p);
/** The default tenant's key, with a secret of the operator's own: the public default is refused beside other tenants. */
const DEFAULT: Key = { accessKeyId: "VIGILLOCALKEY", secretAccessKey: "the-operator-own-secret" };
const B: Key = { accessKeyId: "BKEY", secretAccessKey: "tenant-b-access-secret" };
const secretsOf = (tenant: string) => ({ webhook: `whsec-${tenant}-0a1b2c3d4e5f`, header: `hdr-${tenant}-9f8e7d6c5b4a`, slack: `slackpath${tenant}7g6h5i4j` });

describe("secrets and the links in alert messages", () => {
  let base: string;
  let dataDir: string;
  let receiver: HttpReceiver;
  let tenants: Tenants;
  let detection: Services;
  let server: Server;
  let url: string;
  let now = LIVE;
  const made: Record<string, { detector: string; metricSet: string; alert: string; slack: string }> = {};
  const scope = (tenant: string): Scope => tenants.scopes.get(tenant)!;
  /** The messages a tenant's webhook received, newest last. */
  const messages = (tenant: string) => receiver.requests.filter((r) => r.path === `/${tenant}`).map((r) => JSON.parse(r.body) as { anomalyGroup: { id: string }; reason: string; links: { anomalyGroup: string; feedback: string } });
  const open = (link: string, init?: RequestInit) => fetch(link.replace("http://localhost:8087", url), init);
  const linkKey = () => readFile(join(dataDir, "state", "link-secret"), "utf8").then((k) => k.trim());
  const detectThrough = async (hours: number) => {
    for (; now < LIVE + hours * HOUR; ) {
      now += HOUR;
      await detectDue(detection, now);
    }
  };

  beforeAll(async () => {
    base = await tempDirOnce();
    dataDir = join(base, "vigil");
    receiver = await HttpReceiver.start();
    // Tenant b's webhook is the receiver on loopback: the operator lets it reach private addresses.
    tenants = await tenantsFromConfig({ dataDir, secretAccessKey: DEFAULT.secretAccessKey, tenants: [{ name: "b", ...B }], dataRoots: { b: [join(base, "b-files")] }, privateTargets: ["b"] });
    detection = localServices(dataDir, { clock: () => now, linkClock: Date.now, dataRootsOf: tenants.dataRootsOf, privateTargets: tenants.privateTargets });
    for (const [tenant, files] of [
      ["default", join(dataDir, "files")],
      ["b", join(base, "b-files")],
    ] as const) {
      await detection.blobs.put(join(files, "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES)));
      for (let h = 0; h < 10; h++) await detection.blobs.put(join(files, "live", liveFolder(LIVE + h * HOUR), "part.csv"), csvOf(shopPoints(LIVE + h * HOUR, 1, SERIES, dip)));
      const s = secretsOf(tenant);
      const detector = await createDetector(detection, scope(tenant), { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
      const metricSet = await createMetricSet(detection, scope(tenant), metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(files, "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(files, "history")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } } }));
      const alert = await createAlert(detection, scope(tenant), { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 0, Action: { WebhookConfiguration: { Url: `${receiver.url}/${tenant}`, Secret: s.webhook, Headers: { Authorization: `Bearer ${s.header}` } } } });
      const slack = await createAlert(detection, scope(tenant), { AlertName: "slack", AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 0, Action: { SlackConfiguration: { WebhookUrl: `${receiver.url}/services/T0/B0/${s.slack}` } } });
      await activateDetector(detection, scope(tenant), detector.AnomalyDetectorArn);
      made[tenant] = { detector: detector.AnomalyDetectorArn, metricSet: metricSet.MetricSetArn, alert: alert.AlertArn, slack: slack.AlertArn };
    }
    await detectThrough(6);
    // The server runs over the same data directory, as `vigil serve` would, at detection's
    // clock (the store judges records' expiry by it), on the real one for links.
    ({ server, url } = await serve({ port: 0, services: localServices(dataDir, { clock: () => now, linkClock: Date.now, dataRootsOf: tenants.dataRootsOf, privateTargets: tenants.privateTargets }), tenants }));
  }, 120_000);
  afterAll(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
    await receiver?.stop();
  });

  /** The raw answer of an operation through the console's path, as a page signed in with `key` calls it. */
  async function consoleCaller(key: Key): Promise<(operation: string, body: unknown) => Promise<{ status: number; text: string }>> {
    const signIn = await fetch(`${url}/console/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ AccessKeyId: key.accessKeyId, SecretAccessKey: key.secretAccessKey }) });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const { CsrfToken } = (await signIn.json()) as { CsrfToken: string };
    return async (operation, body) => {
      const res = await fetch(`${url}/console/api/${operation}`, { method: "POST", headers: { "content-type": "application/json", cookie, "x-vigil-csrf": CsrfToken }, body: JSON.stringify(body) });
      return { status: res.status, text: await res.text() };
    };
  }

  /** The raw answer of an operation, signed as `key`. */
  async function call(key: Key, operation: string, body: unknown): Promise<{ status: number; text: string }> {
    const text = JSON.stringify(body);
    const res = await fetch(`${url}/${operation}`, { method: "POST", headers: await signedHeaders(url, "POST", `/${operation}`, text, key), body: text });
    return { status: res.status, text: await res.text() };
  }

  it("answers no webhook secret, header value, Slack URL path or link key through any operation, asked by any tenant", async () => {
    const d = made["default"]!;
    const group = messages("default")[0]!.anomalyGroup.id;
    const csv = { CsvFormatDescriptor: { ContainsHeader: false, HeaderList: ["x"], Delimiter: "\u0000" } };
    const own = [join(dataDir, "state", "link-secret"), join(dataDir, "state"), dataDir, join(dataDir, "state", "alerts"), join(dataDir, "events")];
    const ref = { AnomalyDetectorArn: d.detector, AnomalyGroupId: group };
    const series = { MetricName: "views", DimensionList: [{ DimensionName: "platform", DimensionValue: "web" }, { DimensionName: "marketplace", DimensionValue: "de" }] };
    const iso = (t: number) => new Date(t).toISOString();
    const throwaway = await call(DEFAULT, "CreateAnomalyDetector", { AnomalyDetectorName: "throwaway", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const throwawayArn = (JSON.parse(throwaway.text) as { AnomalyDetectorArn: string }).AnomalyDetectorArn;
    const bodies: Record<string, unknown[]> = {
      CreateAnomalyDetector: [{ AnomalyDetectorName: "another", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }],
      DescribeAnomalyDetector: [{ AnomalyDetectorArn: d.detector }],
      ListAnomalyDetectors: [{}],
      UpdateAnomalyDetector: [{ AnomalyDetectorArn: d.detector, AnomalyDetectorDescription: "shop" }],
      ActivateAnomalyDetector: [{ AnomalyDetectorArn: d.detector }],
      DeactivateAnomalyDetector: [{ AnomalyDetectorArn: throwawayArn }],
      DeleteAnomalyDetector: [{ AnomalyDetectorArn: throwawayArn }],
      CreateMetricSet: [{ ...metricSetRequest({ AnomalyDetectorArn: d.detector, MetricSetName: "second" }), MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dataDir, "state")] } } }],
      DescribeMetricSet: [{ MetricSetArn: d.metricSet }],
      ListMetricSets: [{ AnomalyDetectorArn: d.detector }, {}],
      UpdateMetricSet: [{ MetricSetArn: d.metricSet, Offset: 0 }, { MetricSetArn: d.metricSet, MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dataDir, "state")] } } }],
      CreateAlert: [{ AlertName: "third", AnomalyDetectorArn: d.detector, Action: { WebhookConfiguration: { Url: `${receiver.url}/x`, Secret: secretsOf("default").webhook } } }],
      DescribeAlert: [{ AlertArn: d.alert }, { AlertArn: d.slack }],
      ListAlerts: [{ AnomalyDetectorArn: d.detector }, {}],
      UpdateAlert: [{ AlertArn: d.alert, AlertDescription: "hook" }],
      DeleteAlert: [{ AlertArn: d.alert.replace(":Alert:hook", ":Alert:third") }],
      ListAnomalyGroupSummaries: [{ AnomalyDetectorArn: d.detector, SensitivityThreshold: 0 }],
      GetAnomalyGroup: [ref],
      ListAnomalyGroupTimeSeries: [{ ...ref, MetricName: "views" }],
      ListAnomalyGroupRelatedMetrics: [ref],
      PutFeedback: [{ AnomalyDetectorArn: d.detector, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: group, TimeSeriesId: "0".repeat(128), IsAnomaly: true } }],
      GetFeedback: [{ AnomalyDetectorArn: d.detector, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: group } }],
      GetDataQualityMetrics: [{ AnomalyDetectorArn: d.detector }],
      DescribeAnomalyDetectionExecutions: [{ AnomalyDetectorArn: d.detector }],
      BackTestAnomalyDetector: [{ AnomalyDetectorArn: d.detector }],
      GetSampleData: own.map((p) => ({ S3SourceConfig: { RoleArn: "arn:aws:iam::000000000000:role/r", HistoricalDataPathList: [p], FileFormatDescriptor: csv } })),
      DetectMetricSetConfig: own.map((p) => ({ AnomalyDetectorArn: d.detector, AutoDetectionMetricSource: { S3SourceConfig: { HistoricalDataPathList: [p] } } })),
      PutMetricRows: [{ MetricSetArn: d.metricSet, Rows: [{}] }],
      // Vigil's own, the console's calls: a series' history and why it was (not) alerted, the
      // deliveries (channel and target), their replay, silences, rejected rows, the back-test.
      GetTimeSeriesHistory: [{ MetricSetArn: d.metricSet, ...series, StartTime: iso(LIVE), EndTime: iso(LIVE + 6 * HOUR) }],
      ExplainAlerting: [{ AnomalyDetectorArn: d.detector, ...series, Timestamp: iso(LIVE + 4 * HOUR) }],
      ListDeliveries: [{}, { AnomalyDetectorArn: d.detector, AnomalyGroupId: group }],
      ReplayDeliveries: [{}],
      // Over before detection's next interval, so it silences nothing the rotation test waits for.
      CreateSilence: [{ AnomalyDetectorArn: d.detector, EndsAt: iso(now + 10 * 60_000), Reason: "sweep" }],
      ListSilences: [{}],
      UpdateSilence: [{ SilenceId: "0".repeat(32), Reason: "sweep" }],
      ExpireSilence: [{ SilenceId: "0".repeat(32) }],
      GetRejectedRows: [{ AnomalyDetectorArn: d.detector, MetricSetArn: d.metricSet, Timestamp: iso(LIVE + 4 * HOUR) }],
      GetBackTestReport: [{ AnomalyDetectorArn: d.detector }],
      ListTagsForResource: [],
      TagResource: [],
      UntagResource: [],
    };
    // Every operation served is asked: one added later must be added here.
    expect(Object.keys(bodies).sort()).toEqual(Object.keys(operations).sort());
    const answers: string[] = [];
    const consoleOf = { DEFAULT: await consoleCaller(DEFAULT), B: await consoleCaller(B) };
    for (const [operation, list] of Object.entries(bodies)) {
      for (const body of list) {
        for (const key of [DEFAULT, B]) answers.push(`${operation} ${(await call(key, operation, body)).text}`);
        if (TAG_OPERATIONS.has(operation)) continue;
        for (const console of [consoleOf.DEFAULT, consoleOf.B]) answers.push(`${operation} ${(await console(operation, body)).text}`);
      }
    }
    for (const arn of [d.alert, d.slack, d.detector]) {
      const path = `/tags/${encodeURIComponent(arn)}`;
      answers.push((await (await fetch(`${url}${path}`, { headers: await signedHeaders(url, "GET", path, "") })).text()));
    }
    // BackTestAnomalyDetector left the detector BACK_TEST_COMPLETE: it runs on.
    await call(DEFAULT, "ActivateAnomalyDetector", { AnomalyDetectorArn: d.detector });
    const link = messages("default")[0]!.links;
    answers.push(await (await open(link.anomalyGroup)).text(), await (await open(link.feedback)).text());
    // Asked: the secrets were there to be answered (alerts describe with their settings, paths point at Vigil's own files).
    expect(answers.some((a) => a.startsWith("DescribeAlert") && a.includes('"WebhookConfiguration"') && a.includes('"Secret":"****"'))).toBe(true);
    expect(answers.some((a) => a.startsWith("GetAnomalyGroup") && a.includes(`"AnomalyGroupId":"${group}"`))).toBe(true);
    // The console's: the deliveries name both channels' targets, and the explanation the alerts.
    expect(answers.some((a) => a.startsWith("ListDeliveries") && a.includes('"Channel":"SLACK"') && a.includes('"Channel":"WEBHOOK"'))).toBe(true);
    expect(answers.some((a) => a.startsWith("ExplainAlerting") && a.includes('"AlertName":"slack"') && a.includes('"AlertName":"hook"'))).toBe(true);
    const key = await linkKey();
    for (const tenant of ["default", "b"]) {
      const s = secretsOf(tenant);
      for (const secret of [s.webhook, s.header, s.slack, key]) expect(answers.filter((a) => a.includes(secret)).map((a) => a.slice(0, 300))).toEqual([]);
    }
  });

  it("signs the owning account into each link, which opens that account's group and no other's", async () => {
    for (const tenant of ["default", "b"]) {
      const m = messages(tenant)[0]!;
      expect(new URL(m.links.anomalyGroup).searchParams.get("account")).toBe(scope(tenant).accountId);
      const answer = await open(m.links.anomalyGroup);
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { AnomalyDetectorArn: string }).AnomalyDetectorArn).toBe(made[tenant]!.detector);
    }
    // A link signed (with the key) for the default tenant's account, naming b's group: b's group is not there for it.
    const bGroup = messages("b")[0]!.anomalyGroup.id;
    const path = `/anomaly-groups/${bGroup}`;
    const forDefault = await open(`${url}${path}?${signedQuery(await linkKey(), path, scope("default").accountId, Date.now())}`);
    expect(forDefault.status).toBe(404);
    const feedback = await open(`${url}${path}/feedback?${signedQuery(await linkKey(), `${path}/feedback`, scope("default").accountId, Date.now())}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `TimeSeriesId=${"0".repeat(128)}&IsAnomaly=false` });
    expect(feedback.status).toBe(404);
    expect(await detection.records.list("feedback", `${scope("b").accountId}/`)).toEqual([]);
    expect((await open(`${url}${path}?${signedQuery(await linkKey(), path, scope("b").accountId, Date.now())}`)).status).toBe(200);
  });

  it("rotates a leaked key: the links it signed stop working in the running server, and new messages carry links that open", async () => {
    const old = messages("default")[0]!.links;
    expect((await open(old.feedback)).status).toBe(200);
    const before = await linkKey();

    const refused = runVigil(["links", "rotate", "--data-dir", dataDir], { VIGIL_LINK_SECRET: "x".repeat(40) });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/comes from VIGIL_LINK_SECRET here: set a new value there/);
    const rotated = runVigil(["links", "rotate", "--data-dir", dataDir]);
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(/a new key \(id [0-9a-f]{16}\) signs links from now on/);
    expect(await linkKey()).not.toBe(before);

    for (const link of [old.anomalyGroup, old.feedback, messages("b")[0]!.links.anomalyGroup]) {
      const answer = await open(link);
      expect(answer.status).toBe(403);
      expect(await answer.text()).toContain("signed with a key that has since been replaced");
    }
    // The group ends: its message carries links signed with the new key.
    const count = messages("default").length;
    await detectThrough(9);
    const fresh = messages("default").slice(count);
    expect(fresh.map((m) => m.reason)).toContain("ended");
    for (const m of fresh) expect((await open(m.links.anomalyGroup)).status).toBe(200);
  });
});
