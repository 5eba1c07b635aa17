import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { CreateAlertCommand, CreateAnomalyDetectorCommand, CreateMetricSetCommand, LookoutMetricsClient, type CreateAlertCommandInput, type CreateMetricSetCommandInput } from "@aws-sdk/client-lookoutmetrics";
import fc from "fast-check";
import { operations, TAG_OPERATIONS } from "../../shared/api/l4m/index.ts";

/**
 * Signed requests over every route of `vigil serve`, as a hostile or careless client sends
 * them: any operation with any body (strings, JSON, L4M's fields holding anything, valid
 * requests with one field spoiled), wrong methods, tags and link pages, odd paths and
 * queries; most signed by a known tenant, some unsigned, expired, or with a body changed
 * after signing. The same seed gives the same requests. The CI test runs a sample, the
 * bench (`npm run bench -- fuzz`) the long run.
 */

export interface Tenant {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** What the requests may name: a tenant's own resources, built by `seedFuzzData`. */
export interface FuzzWorld {
  readonly detectorArn: string;
  readonly metricSetArn: string;
  readonly alertArn: string;
  readonly groupId: string;
  readonly dataDir: string;
}

export interface FuzzRequest {
  readonly method: string;
  /** As sent, percent-encoded. */
  readonly path: string;
  readonly query: string;
  readonly body: string;
  /** Which route this exercises (the operation, `tags`, `page`, `health` or `unknown`). */
  readonly route: string;
  readonly signing: "tenant" | "other-tenant" | "unsigned" | "wrong-secret" | "expired" | "body-changed";
}

export interface FuzzFigures {
  readonly requests: number;
  readonly signed: number;
  readonly routes: readonly string[];
  readonly byStatus: Readonly<Record<string, number>>;
  /** Answers of 500 or more, with the request that got them (at most 20 kept). */
  readonly serverErrors: readonly { request: FuzzRequest; status: number; body: string }[];
  /** Error answers that are not `{__type, Message}` JSON with a matching x-amzn-errortype (link pages answer HTML). */
  readonly malformed: readonly { request: FuzzRequest; status: number; body: string }[];
  readonly ms: number;
}

/** Every operation `vigil serve` routes as `POST /<Operation>` (the tag operations go through `/tags/{arn}`, the route `tags`). */
export const OPERATIONS = Object.keys(operations).filter((name) => !TAG_OPERATIONS.has(name)).sort();

const FIELDS = [
  "AnomalyDetectorArn", "AnomalyDetectorName", "AnomalyDetectorConfig", "AnomalyDetectorDescription", "MetricSetArn", "MetricSetName", "MetricList", "DimensionList",
  "TimestampColumn", "MetricSource", "MetricSetFrequency", "Offset", "Timezone", "DimensionFilterList", "AlertArn", "AlertName", "Action", "AlertSensitivityThreshold",
  "AlertFilters", "AnomalyGroupId", "AnomalyGroupTimeSeriesFeedback", "SensitivityThreshold", "MetricName", "MaxResults", "NextToken", "Tags", "tags", "TagKeys",
  "Rows", "ClientToken", "S3SourceConfig", "AutoDetectionMetricSource", "RelationshipTypeFilter", "Timestamps", "KmsKeyArn", "Extra",
];

const PATHS = ["/", "/{{yyyyMMdd}}/{{HHmm}}", "{{yyyy}}", "/proc/self/environ", "s3://bucket/{{yyyyMMdd}}", "../../etc", "file:///", "x".repeat(2000)];

/** Requests with bodies that reach each operation's checks, one field of which the fuzz spoils. */
function validRequests(w: FuzzWorld): Record<string, Record<string, unknown>> {
  const csv = { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } };
  const source = { S3SourceConfig: { RoleArn: "arn:aws:iam::000000000000:role/r", HistoricalDataPathList: [join(w.dataDir, "files", "history")], FileFormatDescriptor: csv } };
  return {
    CreateAnomalyDetector: { AnomalyDetectorName: "fuzzed", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } },
    DescribeAnomalyDetector: { AnomalyDetectorArn: w.detectorArn },
    UpdateAnomalyDetector: { AnomalyDetectorArn: w.detectorArn, AnomalyDetectorDescription: "d" },
    ListMetricSets: { AnomalyDetectorArn: w.detectorArn, MaxResults: 5 },
    DescribeMetricSet: { MetricSetArn: w.metricSetArn },
    CreateMetricSet: { AnomalyDetectorArn: w.detectorArn, MetricSetName: "fuzzed", MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }], DimensionList: ["platform"], TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" }, MetricSetFrequency: "PT1H", MetricSource: source },
    UpdateMetricSet: { MetricSetArn: w.metricSetArn, Offset: 60 },
    DescribeAlert: { AlertArn: w.alertArn },
    UpdateAlert: { AlertArn: w.alertArn, AlertDescription: "d" },
    CreateAlert: { AlertName: "fuzzed", AnomalyDetectorArn: w.detectorArn, AlertSensitivityThreshold: 50, Action: { SNSConfiguration: { RoleArn: "arn:aws:iam::000000000000:role/r", SnsTopicArn: "arn:aws:sns:us-east-1:000000000000:t" } } },
    ListAlerts: { AnomalyDetectorArn: w.detectorArn },
    ListAnomalyGroupSummaries: { AnomalyDetectorArn: w.detectorArn, SensitivityThreshold: 0 },
    GetAnomalyGroup: { AnomalyDetectorArn: w.detectorArn, AnomalyGroupId: w.groupId },
    ListAnomalyGroupTimeSeries: { AnomalyDetectorArn: w.detectorArn, AnomalyGroupId: w.groupId, MetricName: "views" },
    ListAnomalyGroupRelatedMetrics: { AnomalyDetectorArn: w.detectorArn, AnomalyGroupId: w.groupId },
    PutFeedback: { AnomalyDetectorArn: w.detectorArn, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: w.groupId, TimeSeriesId: "a".repeat(64), IsAnomaly: true } },
    GetFeedback: { AnomalyDetectorArn: w.detectorArn, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: w.groupId } },
    GetDataQualityMetrics: { AnomalyDetectorArn: w.detectorArn },
    DescribeAnomalyDetectionExecutions: { AnomalyDetectorArn: w.detectorArn },
    GetSampleData: { S3SourceConfig: source.S3SourceConfig },
    DetectMetricSetConfig: { AnomalyDetectorArn: w.detectorArn, AutoDetectionMetricSource: { S3SourceConfig: { HistoricalDataPathList: source.S3SourceConfig.HistoricalDataPathList } } },
    PutMetricRows: { MetricSetArn: w.metricSetArn, Rows: [{ timestamp: "2021-01-04 00:00:00", platform: "web", views: 1 }] },
  };
}

export function fuzzRequests(w: FuzzWorld, seed: number, count: number): FuzzRequest[] {
  const arn = fc.constantFrom(w.detectorArn, w.metricSetArn, w.alertArn, `${w.detectorArn}x`, "arn:aws:lookoutmetrics:us-east-1:000000000000:Alert:other", "not an arn", `arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:${"a".repeat(300)}`);
  const value = fc.oneof(fc.anything(), arn, fc.constantFrom(...PATHS), fc.constant(w.groupId), fc.array(fc.constantFrom(...PATHS), { maxLength: 2 }), fc.integer(), fc.string());
  const fields = fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 6 }).map((o) => JSON.stringify(o));
  const valid = validRequests(w);
  const spoiled = fc.constantFrom(...Object.keys(valid)).chain((op) =>
    fc.record({ op: fc.constant(op), key: fc.constantFrom(...Object.keys(valid[op]!), "Extra"), v: value, drop: fc.boolean() }).map(({ op, key, v, drop }) => {
      const body: Record<string, unknown> = { ...valid[op] };
      if (drop) delete body[key];
      else body[key] = v;
      return { op, body: JSON.stringify(body) };
    }),
  );
  const body = fc.oneof({ weight: 1, arbitrary: fc.string() }, { weight: 1, arbitrary: fc.json() }, { weight: 3, arbitrary: fields }, { weight: 1, arbitrary: fc.constant("{}") });
  const signing = fc.constantFrom<FuzzRequest["signing"]>("tenant", "tenant", "tenant", "tenant", "tenant", "tenant", "tenant", "tenant", "other-tenant", "other-tenant", "unsigned", "wrong-secret", "expired", "body-changed");
  const query = fc.oneof(fc.constant(""), fc.constant("tagKeys=team"), fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s)), fc.constant("a=%zz&b"));
  const oddPath = fc.oneof(fc.constantFrom("/%", "/%zz", "//", "/..%2f..%2fetc", "/tags/", "/tags/%E0%A4%A", "/anomaly-groups/", "/health/", "/valueOf", "/__proto__", "/constructor", `/${"a".repeat(4000)}`), fc.string({ maxLength: 40 }).map((s) => `/${encodeURIComponent(s)}`));
  const uuid = fc.oneof(fc.constant(w.groupId), fc.uuid(), fc.string({ maxLength: 12 }).map(encodeURIComponent));

  const request = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constantFrom(...OPERATIONS), body, signing }).map(({ op, body, signing }): FuzzRequest => ({ method: "POST", path: `/${op}`, query: "", body, route: op, signing })) },
    { weight: 4, arbitrary: fc.record({ s: spoiled, signing }).map(({ s, signing }): FuzzRequest => ({ method: "POST", path: `/${s.op}`, query: "", body: s.body, route: s.op, signing })) },
    { weight: 1, arbitrary: fc.record({ op: fc.constantFrom(...OPERATIONS), method: fc.constantFrom("GET", "DELETE", "PUT", "PATCH"), signing }).map(({ op, method, signing }): FuzzRequest => ({ method, path: `/${op}`, query: "", body: "", route: op, signing })) },
    { weight: 2, arbitrary: fc.record({ method: fc.constantFrom("GET", "POST", "DELETE", "PUT"), target: fc.oneof(arn, fc.string({ maxLength: 20 })), query, body, signing }).map(({ method, target, query, body, signing }): FuzzRequest => ({ method, path: `/tags/${encodeURIComponent(target)}`, query, body: method === "POST" ? body : "", route: "tags", signing })) },
    { weight: 1, arbitrary: fc.record({ method: fc.constantFrom("GET", "POST"), id: uuid, feedback: fc.boolean(), query, body: fc.string({ maxLength: 60 }) }).map(({ method, id, feedback, query, body }): FuzzRequest => ({ method, path: `/anomaly-groups/${id}${feedback ? "/feedback" : ""}`, query, body: method === "POST" ? body : "", route: "page", signing: "unsigned" })) },
    { weight: 1, arbitrary: fc.record({ method: fc.constantFrom("GET", "POST"), signing }).map(({ method, signing }): FuzzRequest => ({ method, path: "/health", query: "", body: "", route: "health", signing })) },
    { weight: 1, arbitrary: fc.record({ method: fc.constantFrom("GET", "POST", "DELETE"), path: oddPath, query, body, signing }).map(({ method, path, query, body, signing }): FuzzRequest => ({ method, path, query, body, route: "unknown", signing })) },
  );
  return fc.sample(request, { seed, numRuns: count });
}

/** The headers a request goes with, signed (or not) as its `signing` says, at `now`. */
async function headersFor(r: FuzzRequest, url: URL, tenants: readonly [Tenant, Tenant], now: number): Promise<{ headers: Record<string, string>; body: string }> {
  const base = { host: url.host, "content-type": "application/json" };
  if (r.signing === "unsigned") return { headers: base, body: r.body };
  const who = r.signing === "other-tenant" ? tenants[1] : tenants[0];
  const secretAccessKey = r.signing === "wrong-secret" ? `${who.secretAccessKey}x` : who.secretAccessKey;
  const signer = new SignatureV4({ credentials: { accessKeyId: who.accessKeyId, secretAccessKey }, region: "us-east-1", service: "lookoutmetrics", sha256: Hash.bind(null, "sha256") });
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(r.query)) query[k] = k in query ? [...[query[k]!].flat(), v] : v;
  const at = r.signing === "expired" ? now - 10 * 60_000 : now;
  const signed = await signer.sign(new HttpRequest({ method: r.method, protocol: "http:", hostname: url.hostname, port: Number(url.port), path: r.path, query, headers: base, body: r.body }), { signingDate: new Date(at) });
  return { headers: signed.headers, body: r.signing === "body-changed" ? `${r.body} ` : r.body };
}

/** Sends `requests` to `vigil serve` at `url`, `concurrency` at a time, and says how it answered. */
export async function runFuzz(url: string, requests: readonly FuzzRequest[], tenants: readonly [Tenant, Tenant], concurrency = 8): Promise<FuzzFigures> {
  const target = new URL(url);
  const byStatus: Record<string, number> = {};
  const serverErrors: { request: FuzzRequest; status: number; body: string }[] = [];
  const malformed: { request: FuzzRequest; status: number; body: string }[] = [];
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < requests.length; i = next++) {
      const r = requests[i]!;
      const { headers, body } = await headersFor(r, target, tenants, Date.now());
      const res = await fetch(`${url}${r.path}${r.query ? `?${r.query}` : ""}`, { method: r.method, headers, ...(r.method === "GET" ? {} : { body }) });
      const text = await res.text();
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
      if (res.status >= 500 && serverErrors.length < 20) serverErrors.push({ request: r, status: res.status, body: text });
      if (res.status >= 400 && !r.path.startsWith("/anomaly-groups/") && !wellFormedError(res, text) && malformed.length < 20) malformed.push({ request: r, status: res.status, body: text });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    requests: requests.length,
    signed: requests.filter((r) => r.signing === "tenant" || r.signing === "other-tenant").length,
    routes: [...new Set(requests.map((r) => r.route))].sort(),
    byStatus,
    serverErrors,
    malformed,
    ms: performance.now() - started,
  };
}

function wellFormedError(res: Response, text: string): boolean {
  try {
    const parsed = JSON.parse(text) as { __type?: unknown; Message?: unknown };
    return typeof parsed.__type === "string" && typeof parsed.Message === "string" && res.headers.get("x-amzn-errortype") === parsed.__type;
  } catch {
    return false;
  }
}

/** Through the official client: a detector with a metric set over local files, and an alert, for the requests to name. */
export async function seedFuzzData(url: string, tenant: Tenant, dataDir: string): Promise<FuzzWorld> {
  const history = join(dataDir, "files", "history");
  await mkdir(history, { recursive: true });
  const rows = Array.from({ length: 48 }, (_, h) => `${new Date(Date.UTC(2021, 0, 4, h)).toISOString().slice(0, 19).replace("T", " ")},web,${100 + (h % 24)}`);
  await writeFile(join(history, "all.csv"), ["timestamp,platform,views", ...rows].join("\n"));
  const l4m = new LookoutMetricsClient({ endpoint: url, region: "us-east-1", credentials: tenant, maxAttempts: 1 });
  const { AnomalyDetectorArn } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "fuzz", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }));
  const world = { detectorArn: AnomalyDetectorArn!, metricSetArn: "", alertArn: "", groupId: "4f1c2d3e-aaaa-4bbb-8ccc-0123456789ab", dataDir };
  const valid = validRequests(world);
  const { MetricSetArn } = await l4m.send(new CreateMetricSetCommand({ ...(valid["CreateMetricSet"] as unknown as CreateMetricSetCommandInput), MetricSetName: "fuzz" }));
  const { AlertArn } = await l4m.send(new CreateAlertCommand({ ...(valid["CreateAlert"] as unknown as CreateAlertCommandInput), AlertName: "fuzz" }));
  return { ...world, metricSetArn: MetricSetArn!, alertArn: AlertArn! };
}
