import { callAll } from "./api.ts";
import { rejectsCsv } from "./csv.ts";

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
