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
