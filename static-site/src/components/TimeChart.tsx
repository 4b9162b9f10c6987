import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { followContainerWidth } from "../lib/plotWidth";
import { isolatedPoints, summarize, timeTicks, toAligned, type Grid, type RangeDef, type Span } from "../lib/metricSeries";
import type { Theme } from "../lib/theme";
import { dtf } from "../lib/format";

export interface ChartSeries {
  /** seriesKey(host, kind, metric) */
  key: string;
  label: string;
}

interface Props {
  /** For the figure caption: "CPU". */
  title: string;
  series: readonly ChartSeries[];
  grid: Grid | null;
  range: RangeDef;
  /** Formats a value with its unit: legend, axis, caption. */
  format: (v: number | null | undefined) => string;
  /** Short axis labels ("40%", "2 MB/s"); defaults to `format`. */
  axisFormat?: (v: number) => string;
  /** Fixed top of the y axis (100 for percentages); otherwise the data's maximum. */
  yMax?: number;
  timeZone: string;
  locale: string | undefined;
  theme: Theme;
  /** Charts with the same key share the cursor. */
  syncKey?: string;
  /** The part of the window to show (``visibleSpan``); the whole grid when absent. Charts shown
   *  side by side get the same span, hence the same ticks. */
  span?: Span | null;
  /** True while the data on screen is for another range or host (dimmed, "Loading…"). */
  stale?: boolean;
  testId?: string;
  /** Time windows to shade (epoch ms), e.g. insights' anomalous windows. */
  markers?: readonly ChartMarker[];
}

export interface ChartMarker {
  from: number;
  to: number;
}

/** Shade each marker's window over the plot area (behind nothing: drawn after the series). */
function drawMarkers(u: uPlot, markers: readonly ChartMarker[] | undefined, fill: string) {
  if (!markers?.length) return;
  const { ctx, bbox } = u;
  ctx.save();
  ctx.fillStyle = fill;
  for (const m of markers) {
    const a = u.valToPos(m.from / 1000, "x", true);
    const b = u.valToPos(m.to / 1000, "x", true);
    const left = Math.max(bbox.left, Math.min(a, b) - 3);
    const right = Math.min(bbox.left + bbox.width, Math.max(a, b) + 3);
    if (right > left) ctx.fillRect(left, bbox.top, right - left, bbox.height);
  }
  ctx.restore();
}

const HEIGHT = 190;
/** The y axis' width, the same on every chart, so that plots side by side line up. */
const Y_AXIS_SIZE = 76;
/** Line styles in order: colour and dash, so lines differ by more than colour. */
const DASHES: (number[] | undefined)[] = [undefined, [7, 4], [2, 3], [10, 3, 2, 3], [4, 4], [1, 2]];
const PALETTE_SIZE = 6;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}


/** Axis tick labels in the team time zone: times for short ranges, dates for long ones. */
function tickFormatter(timeZone: string, locale: string | undefined) {
  const day = dtf(locale, { timeZone, month: "short", day: "numeric" });
  const hm = dtf(locale, { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const hms = dtf(locale, { timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  return (splits: number[], incrSeconds: number) =>
    splits.map((s) => {
      const ms = s * 1000;
      if (incrSeconds >= 86_400) return day.format(ms);
      if (incrSeconds >= 60) return hm.format(ms);
      return hms.format(ms);
    });
}

/** The hovered step in the legend: "Nov 23, 14:05" in the team time zone. */
function pointFormatter(timeZone: string, locale: string | undefined, withSeconds: boolean) {
  const f = dtf(locale, {
    timeZone,
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    ...(withSeconds ? { second: "2-digit" } : {}),
    hourCycle: "h23",
  });
  return (ms: number) => f.format(ms);
}

function lastPointAt(grid: Grid, series: readonly ChartSeries[]): number | null {
  let at: number | null = null;
  for (const s of series) {
    const t = summarize(grid.t, grid.values[s.key]).latestAt;
    if (t !== null && (at === null || t > at)) at = t;
  }
  return at;
}

/**
 * A time-series chart over a host metric range. The uPlot instance is built once per set of
 * series (and time zone) and then fed with setData, so the 5-second refresh moves the lines in
 * place: no new canvas, no flicker, no layout shift. Gaps in the data stay gaps (spanGaps off);
 * a lone point between gaps is drawn as a dot. Not hovering, the legend shows the latest values.
 */
export function TimeChart(props: Props) {
  const { title, series, grid, range, format, yMax, timeZone, locale, theme, syncKey, stale, testId, span, markers } = props;
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const colors = useRef({ series: [] as string[], axis: "", grid: "" });
  const structure = `${series.map((s) => `${s.key}=${s.label}`).join("|")}|${timeZone}|${locale ?? ""}|${yMax ?? ""}`;

  const readColors = () => {
    colors.current = {
      series: Array.from({ length: PALETTE_SIZE }, (_, i) => cssVar(`--series-${i + 1}`)),
      axis: cssVar("--text-muted"),
      grid: cssVar("--grid"),
    };
  };

  const data = (): uPlot.AlignedData => {
    const p = latest.current;
    if (!p.grid) return [[], ...p.series.map(() => [])] as unknown as uPlot.AlignedData;
    return toAligned(p.grid, p.series.map((s) => s.key)) as uPlot.AlignedData;
  };

  useLayoutEffect(() => {
    const el = host.current;
    if (!el) return;
    readColors();
    const ticks = tickFormatter(timeZone, locale);
    const color = (i: number) => () => colors.current.series[i % PALETTE_SIZE]!;
    const axisFmt = (v: number) => (latest.current.axisFormat ?? latest.current.format)(v);

    /** Not hovering: each series' value at the latest point (the time the legend shows). */
    const latestOf = (si: number): string => {
      const p = latest.current;
      if (!p.grid) return "–";
      const at = lastPointAt(p.grid, p.series);
      const key = p.series[si - 1]?.key;
      const vs = key ? p.grid.values[key] : undefined;
      if (at === null || !vs) return "–";
      return p.format(vs[(at - p.grid.start) / p.grid.step]);
    };

    const opts: uPlot.Options = {
      width: Math.max(120, el.clientWidth),
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timeZone),
      scales: {
        x: {
          time: true,
          range: (_u, min, max) => {
            const s = latest.current.span;
            return s ? [s.start / 1000, s.end / 1000] : [min, max];
          },
        },
        y: {
          range: (_u, _min, max) => {
            if (yMax !== undefined) return [0, yMax];
            const top = max != null && Number.isFinite(max) && max > 0 ? max * 1.1 : 1;
            return [0, top];
          },
        },
      },
      cursor: {
        points: { size: 7 },
        ...(syncKey ? { sync: { key: syncKey } } : {}),
        // Touch: a tap moves the cursor instead of starting a zoom the chart does not offer.
        drag: { x: false, y: false },
      },
      legend: { live: true },
      hooks: { draw: [(u) => drawMarkers(u, latest.current.markers, "rgba(220, 38, 38, 0.18)")] },
      series: [
        {
          label: "Time",
          // Not hovering: the time of the latest point, whose values the other series show.
          value: (_u, v) => {
            const p = latest.current;
            const ms = v != null ? v * 1000 : p.grid ? lastPointAt(p.grid, p.series) : null;
            if (ms == null) return "–";
            return pointFormatter(timeZone, locale, p.range.step < 60_000)(ms);
          },
        },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: color(i),
          width: 2,
          dash: DASHES[i % DASHES.length],
          spanGaps: false,
          points: {
            size: 5,
            fill: color(i),
            // A point with gaps on both sides has no line: show it as a dot.
            filter: (u: uPlot, si: number, show: boolean) =>
              show ? null : isolatedPoints(u.data[si] as (number | null)[]),
          },
          value: (_u: uPlot, v: number | null, si: number, idx: number | null) =>
            idx == null ? latestOf(si) : latest.current.format(v),
        })),
      ],
      axes: [
        {
          stroke: () => colors.current.axis,
          grid: { stroke: () => colors.current.grid, width: 1 },
          ticks: { show: false },
          size: 30,
          // Our ticks, from the span alone: the same on every chart over it.
          splits: (_u, _ax, min, max) =>
            timeTicks({ start: min * 1000, end: max * 1000 }, timeZone).ticks.map((t) => t / 1000),
          values: (u, splits) => {
            const { step } = timeTicks({ start: u.scales.x!.min! * 1000, end: u.scales.x!.max! * 1000 }, timeZone);
            const labels = ticks(splits, step / 1000);
            el.dataset.xTicks = labels.join(" "); // the canvas's labels, for tests and tools
            return labels;
          },
        },
        {
          stroke: () => colors.current.axis,
          grid: { stroke: () => colors.current.grid, width: 1 },
          ticks: { show: false },
          space: 36,
          size: Y_AXIS_SIZE,
          values: (_u, splits) => splits.map((v) => axisFmt(v)),
        },
      ],
    };
    const u = new uPlot(opts, data(), el);
    plot.current = u;

    const stop = followContainerWidth(u, el, 120, HEIGHT);
    return () => {
      stop();
      plot.current = null;
    };
  }, [structure]);

  // New data: update in place. (Same grid object = nothing arrived: nothing to do.)
  const drawn = useRef<Grid | null>(null);
  useEffect(() => {
    const u = plot.current;
    if (!u || grid === drawn.current) return;
    drawn.current = grid;
    u.setData(data());
  }, [grid, structure]);

  // A new span on the same data (another chart's series started earlier): rescale only.
  useEffect(() => {
    const u = plot.current;
    if (u && span && grid) u.setScale("x", { min: span.start / 1000, max: span.end / 1000 });
  }, [span?.start, span?.end]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    readColors();
    u.redraw(false, true);
  }, [theme]);

  const markerKey = (markers ?? []).map((m) => `${m.from}-${m.to}`).join(",");
  useEffect(() => {
    plot.current?.redraw(false, false);
  }, [markerKey]);

  const summaries = grid ? series.map((s) => ({ s, sum: summarize(grid.t, grid.values[s.key]) })) : [];
  const empty = grid !== null && summaries.every((x) => x.sum.count === 0);

  return (
    <figure
      class="chart time-chart"
      aria-busy={grid === null || stale}
      data-stale={stale ? "true" : undefined}
      data-markers={markers?.length ? markers.length : undefined}
    >
      <figcaption class="sr-only">
        {title} over {range.long}
        {grid === null
          ? ": loading."
          : empty
            ? ": no data."
            : `: ${summaries
                .map(({ s, sum }) =>
                  sum.count === 0
                    ? `${s.label} no data`
                    : `${s.label} latest ${format(sum.latest)}, lowest ${format(sum.min)}, highest ${format(sum.max)}`,
                )
                .join("; ")}.`}
        {markers?.length ? ` ${markers.length} insight window${markers.length > 1 ? "s" : ""} shaded.` : ""}
      </figcaption>
      <div class="time-chart__canvas" ref={host} aria-hidden="true" data-testid={testId} />
      {(grid === null || empty) && (
        <p class="time-chart__note" aria-hidden="true">
          {grid === null ? "Loading…" : `No data in ${range.long}`}
        </p>
      )}
    </figure>
  );
}
