import { callAll } from "./api.ts";
import type { RejectedRow } from "./wire.ts";

/** A CSV cell: quoted when it holds a comma, quote or line break. */
const csvCell = (v: unknown) => {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The rows kept aside as CSV: file, line, reason, detail, partial, and the row as read. */
export function rejectsCsv(rows: readonly RejectedRow[]): string {
  return ["file,line,reason,detail,partial,row", ...rows.map((r) => [r.File, r.Line, r.Reason, r.Detail, r.Partial, r.Row].map(csvCell).join(","))].join("\n") + "\n";
}

/** Saves one interval's rejected rows (every page of GetRejectedRows) as a CSV file. */
export async function downloadRejects(detectorArn: string, metricSetArn: string, at: number): Promise<void> {
  const stamp = new Date(at).toISOString().replace(".000", "");
  const { items } = await callAll("GetRejectedRows", { AnomalyDetectorArn: detectorArn, MetricSetArn: metricSetArn, Timestamp: stamp, MaxResults: 1000 }, (p) => p.RejectedRowList, 100_000);
  if (!items.length) return;
  const url = URL.createObjectURL(new Blob([rejectsCsv(items)], { type: "text/csv" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `rejected-rows-${metricSetArn.slice(metricSetArn.lastIndexOf("/") + 1)}-${stamp.replace(/[:]/g, "")}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
