declare module "parse-prometheus-text-format" {
  /** prom2json's shape: one family per metric name, its samples (histograms: buckets, count and sum). */
  export interface MetricFamily {
    readonly name: string;
    readonly help: string;
    readonly type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
    readonly metrics: readonly { readonly value?: string; readonly labels?: Record<string, string>; readonly buckets?: Record<string, string>; readonly count?: string; readonly sum?: string }[];
  }
  export default function parsePrometheusTextFormat(text: string): MetricFamily[];
}
