import type { JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { utc } from "../format.ts";
import type { SeriesChart } from "../series.ts";

/** Colours the chart draws with (and the browser test looks for): AA contrast on white. */
export const CHART_COLOURS = { actual: "#1d4ed8", onset: "#b91c1c", incident: "rgba(185, 28, 28, 0.10)" } as const;
const HEIGHT = 180;

/** Shades the incident's window and draws its onset as a vertical line, under and over the values. */
function incidentPlugin(chart: SeriesChart): uPlot.Plugin {
  const x = (u: uPlot, t: number) => u.valToPos(t, "x", true);
  return {
    hooks: {
      drawClear: (u) => {
        const { top, height, left, width } = u.bbox;
        const from = Math.max(left, x(u, chart.onset));
        const to = Math.min(left + width, x(u, chart.end));
        if (to <= from) return;
        u.ctx.save();
        u.ctx.fillStyle = CHART_COLOURS.incident;
        u.ctx.fillRect(from, top, to - from, height);
        u.ctx.restore();
      },
      draw: (u) => {
        const at = Math.round(x(u, chart.onset));
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

/** A tick of the time axis: the date at midnight, the hour otherwise (UTC, 24-hour). */
function tick(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return iso.slice(11, 16) === "00:00" ? iso.slice(5, 10) : iso.slice(11, 16);
}

function options(measure: string, chart: SeriesChart, width: number): uPlot.Options {
  const last = chart.times.at(-1) ?? chart.end;
  return {
    width,
    height: HEIGHT,
    // The data's intervals are UTC; so are the axis and the values shown on hover.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    scales: { x: { time: true, range: [chart.times[0] ?? chart.onset, Math.max(last, chart.end)] } },
    series: [{ value: (_u, v) => (v === null ? "–" : utc(v * 1000)) }, { label: measure, stroke: CHART_COLOURS.actual, width: 2, spanGaps: false, points: { show: chart.times.length <= 60 } }],
    axes: [{ stroke: "#374151", grid: { stroke: "#e5e7eb" }, values: (_u, splits) => splits.map(tick) }, { stroke: "#374151", grid: { stroke: "#e5e7eb" }, size: 56 }],
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    plugins: [incidentPlugin(chart)],
  };
}

/**
 * uPlot draws the series on a canvas sized to its box (and redrawn when the box is
 * resized, as on a phone turned sideways); the canvas is one picture for a screen reader,
 * described by `description`, with the values as a table beside it.
 */
export function Chart(props: { measure: string; chart: SeriesChart; description: string }): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot(options(props.measure, props.chart, Math.max(240, el.clientWidth)), [props.chart.times as number[], props.chart.values as (number | null)[]], el);
    const resized = new ResizeObserver(() => {
      const width = Math.max(240, el.clientWidth);
      if (width !== plot.width) plot.setSize({ width, height: HEIGHT });
    });
    resized.observe(el);
    return () => {
      resized.disconnect();
      plot.destroy();
    };
  }, [props.chart, props.measure]);
  return <div class="chart" ref={box} role="img" aria-label={props.description} />;
}
