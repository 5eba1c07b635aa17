import type { JSX } from "preact";
import { useLayoutEffect, useMemo, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { utc } from "../format.ts";
import type { SeriesChart } from "../series.ts";

/** Colours the charts draw with (and the browser tests look for): AA contrast on white. */
export const CHART_COLOURS = {
  actual: "#1d4ed8",
  expected: "#4b5563",
  band: "rgba(37, 99, 235, 0.16)",
  onset: "#b91c1c",
  incident: "rgba(185, 28, 28, 0.10)",
  score: "#7c2d12",
  threshold: "#b91c1c",
  floor: "#6b7280",
  belowFloor: "rgba(107, 114, 128, 0.14)",
} as const;
const HEIGHT = 180;
export const FIRST_CHART = "vigil:first-chart";

type Plugin = uPlot.Plugin;
const xPos = (u: uPlot, t: number) => u.valToPos(t, "x", true);

/** Shades the incident's window and draws its onset as a vertical line, under and over the values. */
function incidentPlugin(onset: number, end: number): Plugin {
  return {
    hooks: {
      drawClear: (u) => {
        const { top, height, left, width } = u.bbox;
        const from = Math.max(left, xPos(u, onset));
        const to = Math.min(left + width, xPos(u, end));
        if (to <= from) return;
        u.ctx.save();
        u.ctx.fillStyle = CHART_COLOURS.incident;
        u.ctx.fillRect(from, top, to - from, height);
        u.ctx.restore();
      },
      draw: (u) => {
        const at = Math.round(xPos(u, onset));
        const { top, height, left, width } = u.bbox;
        if (at < left || at > left + width) return;
        u.ctx.save();
        u.ctx.strokeStyle = CHART_COLOURS.onset;
        u.ctx.lineWidth = 2 * devicePixelRatio;
        u.ctx.beginPath();
        u.ctx.moveTo(at, top);
        u.ctx.lineTo(at, top + height);
        u.ctx.stroke();
        u.ctx.restore();
      },
    },
  };
}

/** Horizontal lines at given values of the y scale (alert thresholds, the anomaly floor), over the plot. */
function levelsPlugin(levels: readonly { readonly value: number; readonly colour: string; readonly dash?: number[] }[]): Plugin {
  return {
    hooks: {
      draw: (u) => {
        const { left, width } = u.bbox;
        u.ctx.save();
        for (const l of levels) {
          const y = Math.round(u.valToPos(l.value, "y", true));
          u.ctx.strokeStyle = l.colour;
          u.ctx.lineWidth = 1.5 * devicePixelRatio;
          u.ctx.setLineDash((l.dash ?? []).map((d) => d * devicePixelRatio));
          u.ctx.beginPath();
          u.ctx.moveTo(left, y);
          u.ctx.lineTo(left + width, y);
          u.ctx.stroke();
        }
        u.ctx.restore();
      },
    },
  };
}

/** A tick of the time axis: the date at midnight, the hour otherwise (UTC, 24-hour). */
function tick(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return iso.slice(11, 16) === "00:00" ? iso.slice(5, 10) : iso.slice(11, 16);
}

const timeAxis: uPlot.Axis = { stroke: "#374151", grid: { stroke: "#e5e7eb" }, values: (_u, splits) => splits.map(tick) };
const valueAxis: uPlot.Axis = { stroke: "#374151", grid: { stroke: "#e5e7eb" }, size: 56 };
const timeSeries: uPlot.Series = { value: (_u, v) => (v === null ? "–" : utc(v * 1000)) };
// The data's intervals are UTC; so are the axis and the values shown on hover.
const tzDate = (ts: number) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");

/**
 * One uPlot chart on a canvas sized to its box (and redrawn when the box is resized, as on
 * a phone turned sideways). The canvas is one picture for a screen reader, described by
 * `description`; pages put the values as a table beside it. The chart's data is kept on
 * the element (`uplotData`), so a test can read what was drawn as well as the pixels.
 */
function UPlot(props: { options: (width: number) => uPlot.Options; data: uPlot.AlignedData; description: string; class?: string; redraw?: unknown }): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  // Drawn as soon as its box is in the page, before the browser paints it.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot(props.options(Math.max(240, el.clientWidth)), props.data, el);
    // When this page first drew a chart: what `npm run bench` reports as the time to the first chart.
    if (performance.getEntriesByName(FIRST_CHART).length === 0) performance.mark(FIRST_CHART);
    (el as HTMLDivElement & { uplotData?: uPlot.AlignedData }).uplotData = props.data;
    const resized = new ResizeObserver(() => {
      const width = Math.max(240, el.clientWidth);
      if (width !== plot.width) plot.setSize({ width, height: plot.height });
    });
    resized.observe(el);
    return () => {
      resized.disconnect();
      plot.destroy();
    };
  }, [props.data, props.redraw]);
  return <div class={`chart ${props.class ?? ""}`} ref={box} role="img" aria-label={props.description} />;
}

/**
 * A series against its expected band: the values, the expected value (dashed) and the band
 * of values that would score below the default alert threshold (shaded), with the incident's
 * span and onset when there is one.
 */
export function Chart(props: { measure: string; chart: SeriesChart; description: string }): JSX.Element {
  const { chart } = props;
  const data = useMemo((): uPlot.AlignedData => [chart.times as number[], chart.values as (number | null)[], chart.expected as (number | null)[], chart.lower as (number | null)[], chart.upper as (number | null)[]], [chart]);
  const options = (width: number): uPlot.Options => {
    const last = chart.times.at(-1) ?? chart.end ?? 0;
    return {
      width,
      height: HEIGHT,
      tzDate,
      scales: { x: { time: true, range: [chart.times[0] ?? chart.onset ?? 0, Math.max(last, chart.end ?? last)] } },
      series: [
        timeSeries,
        { label: props.measure, stroke: CHART_COLOURS.actual, width: 2, spanGaps: false, points: { show: chart.times.length <= 60 } },
        { label: "expected", stroke: CHART_COLOURS.expected, width: 1, dash: [4, 3], spanGaps: false, points: { show: false } },
        { label: "lower", stroke: "transparent", width: 0, points: { show: false } },
        { label: "upper", stroke: "transparent", width: 0, points: { show: false } },
      ],
      bands: [{ series: [4, 3], fill: CHART_COLOURS.band }],
      axes: [timeAxis, valueAxis],
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      plugins: chart.onset !== undefined && chart.end !== undefined ? [incidentPlugin(chart.onset, chart.end)] : [],
    };
  };
  return <UPlot options={options} data={data} description={props.description} class="band-chart" />;
}

/** Shades, from 0 to the floor, each interval detection scored without finding an anomaly (its exact score is not kept). */
function belowFloorPlugin(times: readonly number[], below: readonly boolean[], floor: number): Plugin {
  return {
    hooks: {
      drawClear: (u) => {
        const step = times.length > 1 ? times[1]! - times[0]! : 0;
        const top = u.valToPos(floor, "y", true);
        const bottom = u.valToPos(0, "y", true);
        u.ctx.save();
        u.ctx.fillStyle = CHART_COLOURS.belowFloor;
        times.forEach((t, i) => {
          if (!below[i]) return;
          const [from, to] = [xPos(u, t - step / 2), xPos(u, t + step / 2)];
          u.ctx.fillRect(from, top, to - from, bottom - top);
        });
        u.ctx.restore();
      },
    },
  };
}

/**
 * A series' anomaly score over time (0–100): each anomaly's score, the intervals scored below
 * the floor shaded up to it, the floor (dashed) and each alert's threshold.
 */
export function ScoreChart(props: { times: readonly number[]; scores: readonly (number | null)[]; below: readonly boolean[]; floor: number; thresholds: readonly number[]; description: string }): JSX.Element {
  const data = useMemo((): uPlot.AlignedData => [props.times as number[], props.scores as (number | null)[]], [props.times, props.scores]);
  const options = (width: number): uPlot.Options => ({
    width,
    height: 140,
    tzDate,
    scales: { x: { time: true }, y: { range: [0, 100] } },
    series: [timeSeries, { label: "anomaly score", stroke: CHART_COLOURS.score, width: 2, spanGaps: false, points: { show: true, size: 6, fill: CHART_COLOURS.score } }],
    axes: [timeAxis, { ...valueAxis, size: 40 }],
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    plugins: [belowFloorPlugin(props.times, props.below, props.floor), levelsPlugin([{ value: props.floor, colour: CHART_COLOURS.floor, dash: [4, 3] }, ...props.thresholds.map((value) => ({ value, colour: CHART_COLOURS.threshold }))])],
  });
  return <UPlot options={options} data={data} description={props.description} class="score-chart" />;
}

/** A back-test's anomalies: each interval's highest score as a point, the threshold asked as a line. */
export function PeakChart(props: { from: number; to: number; times: readonly number[]; scores: readonly number[]; threshold: number; description: string }): JSX.Element {
  const data = useMemo((): uPlot.AlignedData => [props.times as number[], props.scores as number[]], [props.times, props.scores]);
  const options = (width: number): uPlot.Options => ({
    width,
    height: 160,
    tzDate,
    scales: { x: { time: true, range: [props.from, props.to] }, y: { range: [0, 100] } },
    series: [timeSeries, { label: "highest score", stroke: CHART_COLOURS.actual, width: 0, paths: () => null, points: { show: true, size: 6, fill: CHART_COLOURS.actual } }],
    axes: [timeAxis, { ...valueAxis, size: 40 }],
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    plugins: [levelsPlugin([{ value: props.threshold, colour: CHART_COLOURS.threshold }])],
  });
  return <UPlot options={options} data={data} description={props.description} class="peak-chart" redraw={props.threshold} />;
}
