import { startFakeAwsServer } from "./aws-server.ts";

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

/** The endpoint, the operations called in order, and the span [start, end) in epoch ms each GetMetricData asked for. */
export async function startFakeCloudWatch(series: FakeSeries[]): Promise<{ endpoint: string; calls: string[]; spans: [number, number][] }> {
  const calls: string[] = [];
  const spans: [number, number][] = [];
  const json = (status: number, body: unknown) => ({ status, contentType: "application/x-amz-json-1.0", body: JSON.stringify(body) });
  const endpoint = await startFakeAwsServer(
    (headers, body) => {
      const operation = String(headers["x-amz-target"] ?? "").split(".")[1] ?? "";
      calls.push(operation);
      const input = JSON.parse(body || "{}") as Record<string, unknown>;
      if (operation === "ListMetrics") return json(200, listMetrics(series, input));
      if (operation === "GetMetricData") spans.push([Number(input["StartTime"]) * 1000, Number(input["EndTime"]) * 1000]);
      if (operation === "GetMetricData") return json(200, getMetricData(series, input));
      return json(400, { __type: "UnknownOperationException", message: operation });
    },
    () => json(403, { __type: "MissingAuthenticationToken", message: "unsigned request" }),
  );
  return { endpoint, calls, spans };
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
