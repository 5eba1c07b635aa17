import { callAll } from "./api.ts";
import { rejectsCsv } from "./csv.ts";

/** Saves the rejected rows of one interval (its start, epoch ms) or of the history last learned (every page of GetRejectedRows) as a CSV file. */
export async function downloadRejects(detectorArn: string, metricSetArn: string, at: number | "history"): Promise<void> {
  const stamp = at === "history" ? "history" : new Date(at).toISOString().replace(".000", "");
  const which = at === "history" ? { History: true as const } : { Timestamp: stamp };
  const { items } = await callAll("GetRejectedRows", { AnomalyDetectorArn: detectorArn, MetricSetArn: metricSetArn, ...which, MaxResults: 1000 }, (p) => p.RejectedRowList, 100_000);
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
