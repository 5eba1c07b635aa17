import type { RejectedRow } from "./wire.ts";

/**
 * A CSV cell: quoted when it holds a comma, quote or line break. Text from the data that a
 * spreadsheet would run as a formula (=, +, -, @, tab, carriage return first) is kept as text
 * with a leading apostrophe, as OWASP advises for CSV downloads.
 */
const csvCell = (v: unknown) => {
  const raw = typeof v === "string" ? v : JSON.stringify(v);
  const s = typeof v === "string" && /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The rows kept aside as CSV: file, line, reason, detail, partial, and the row as read. */
export function rejectsCsv(rows: readonly RejectedRow[]): string {
  return ["file,line,reason,detail,partial,row", ...rows.map((r) => [r.File, r.Line, r.Reason, r.Detail, r.Partial, r.Row].map(csvCell).join(","))].join("\n") + "\n";
}
