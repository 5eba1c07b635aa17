import { createServer, type Server } from "node:http";

/**
 * A local CloudWatch speaking the AWS JSON 1.0 protocol the SDK v3 client uses, for the two
 * operations Vigil calls: ListMetrics (paged two at a time, to exercise paging) and
 * GetMetricData (one value per query: the datapoint at the query's start). It refuses
 * requests that are not SigV4-signed.
 */
export interface FakeSeries {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  /** Epoch ms → value at the period starting then. */
  readonly points: Map<number, number>;
}

interface Dim {
  Name: string;
  Value?: string;
}

export async function startFakeCloudWatch(series: FakeSeries[]): Promise<{ endpoint: string; calls: string[] }> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify(body));
      };
      if (!String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) return reply(403, { __type: "MissingAuthenticationToken", message: "unsigned request" });
      const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
      calls.push(operation);
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
      if (operation === "ListMetrics") return reply(200, listMetrics(series, input));
      if (operation === "GetMetricData") return reply(200, getMetricData(series, input));
      return reply(400, { __type: "UnknownOperationException", message: operation });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref(); // in-process: it ends with the test process
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no address");
  return { endpoint: `http://127.0.0.1:${address.port}`, calls };
}

const PAGE = 2;

function listMetrics(all: FakeSeries[], input: Record<string, unknown>) {
  const wanted = (input["Dimensions"] as Dim[] | undefined) ?? [];
  const matches = all.filter((s) => s.namespace === input["Namespace"] && s.metricName === input["MetricName"] && wanted.every((d) => d.Name in s.dimensions));
  const start = Number(input["NextToken"] ?? 0);
  const page = matches.slice(start, start + PAGE).map((s) => ({ Namespace: s.namespace, MetricName: s.metricName, Dimensions: Object.entries(s.dimensions).map(([Name, Value]) => ({ Name, Value })) }));
  return { Metrics: page, ...(start + PAGE < matches.length ? { NextToken: String(start + PAGE) } : {}) };
}

function getMetricData(all: FakeSeries[], input: Record<string, unknown>) {
  const startMs = Number(input["StartTime"]) * 1000;
  const queries = input["MetricDataQueries"] as { Id: string; MetricStat: { Metric: { Namespace: string; MetricName: string; Dimensions: Dim[] } } }[];
  return {
    MetricDataResults: queries.map((q) => {
      const m = q.MetricStat.Metric;
      const s = all.find((x) => x.namespace === m.Namespace && x.metricName === m.MetricName && m.Dimensions.every((d) => x.dimensions[d.Name] === d.Value));
      const value = s?.points.get(startMs);
      return { Id: q.Id, Label: m.MetricName, StatusCode: "Complete", Timestamps: value === undefined ? [] : [startMs / 1000], Values: value === undefined ? [] : [value] };
    }),
  };
}
