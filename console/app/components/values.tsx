import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { number, utc } from "../format.ts";
import { beganBefore, type SeriesChart } from "../series.ts";
import { Table } from "./common.tsx";

const cell = (x: number | null | undefined) => (x === null || x === undefined ? "–" : number(x));
const scoreCell = (chart: SeriesChart, i: number) => (chart.kinds[i] === "BELOW_FLOOR" ? "below 60" : chart.kinds[i] === "LEARNED" ? "learned" : cell(chart.scores[i]));

/** A chart's values as a table, for screen readers and keyboards: value, expected, band and score per interval. */
export function ValuesTable(props: { chart: SeriesChart; measure: string; dims: string }): JSX.Element {
  const { chart } = props;
  // Made when first opened: a page of charts need not format every value it may never show.
  const [open, setOpen] = useState(false);
  return (
    <details class="values" onToggle={(e) => setOpen(open || e.currentTarget.open)}>
      <summary>Values</summary>
      {open ? <Table
        label={`${props.measure} values for ${props.dims}`}
        columns={["Interval (UTC)", props.measure, "Expected", "Band", "Score"]}
        rows={chart.times.map((t, i) => ({
          cells: [
            `${utc(t * 1000)}${i === chart.onsetIndex && chart.onset !== undefined && !beganBefore(chart) ? " (onset)" : ""}`,
            chart.values[i] === null ? "no value" : number(chart.values[i]!),
            cell(chart.expected[i]),
            chart.lower[i] === null || chart.upper[i] === null ? "–" : `${number(chart.lower[i]!)} to ${number(chart.upper[i]!)}`,
            scoreCell(chart, i),
          ],
          marked: chart.onset !== undefined ? i >= chart.onsetIndex : chart.kinds[i] === "ANOMALY",
        }))}
      /> : null}
    </details>
  );
}
