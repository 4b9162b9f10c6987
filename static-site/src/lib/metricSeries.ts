// Time ranges, request planning and series arithmetic for the host charts. Pure: no fetch,
// no clock (callers pass `now`).
//
// Every chart shows one fixed grid: `range.ms / range.step` points ending with the step that
// holds `now`. The window's ends are aligned to the step, so within one step every refresh asks
// for the same URL (a 304 when nothing arrived) and the chart keeps its number of points.
//
// After the first full read, a refresh asks only for the tail: from the last step already held
// to now (one or two points), and merges it in. A 30-day chart costs the API one or two hourly
// roll-ups every 5 s instead of 720. A full read still happens every FULL_REFRESH_MS, to pick up
// samples an agent delivered late (after an outage it sends its backlog, oldest first).

import type { HostKind, MetricsAnswer, MetricsQuery } from "../api/types";
import { zoneOffsetMs } from "./format";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type RangeId = "15m" | "1h" | "6h" | "24h" | "7d" | "30d";

export interface RangeDef {
  id: RangeId;
  /** Shown on the switch. */
  short: string;
  /** For screen readers and sentences: "the last 15 minutes". */
  long: string;
  ms: number;
  /** Step of the points, ms: a multiple of 10 s, dividing `ms`. */
  step: number;
}

/**
 * Steps: 10 s raw samples up to an hour (90–360 points), then 1-minute and 2-minute roll-ups,
 * then hourly roll-ups (168 and 720 points). Each stays under the API's ~1,000 points and reads
 * the coarsest stored resolution that divides it.
 */
export const RANGES: readonly RangeDef[] = [
  { id: "15m", short: "15 min", long: "the last 15 minutes", ms: 15 * MINUTE, step: 10 * SECOND },
  { id: "1h", short: "1 h", long: "the last hour", ms: HOUR, step: 10 * SECOND },
  { id: "6h", short: "6 h", long: "the last 6 hours", ms: 6 * HOUR, step: MINUTE },
  { id: "24h", short: "24 h", long: "the last 24 hours", ms: DAY, step: 2 * MINUTE },
  { id: "7d", short: "7 d", long: "the last 7 days", ms: 7 * DAY, step: HOUR },
  { id: "30d", short: "30 d", long: "the last 30 days", ms: 30 * DAY, step: HOUR },
];

export const DEFAULT_RANGE: RangeId = "1h";
export const SPARKLINE_RANGE: RangeDef = RANGES[0]!;

/** A full read at least this often, to pick up late samples. */
export const FULL_REFRESH_MS = 5 * MINUTE;
/** The API's limit of host × metric series per call. */
export const MAX_SERIES_PER_CALL = 20;

export function rangeById(id: string | null | undefined): RangeDef | null {
  return RANGES.find((r) => r.id === id) ?? null;
}

export interface Window {
  /** First step start (inclusive), ms. */
  start: number;
  /** End of the step holding `now` (exclusive), ms. */
  end: number;
  step: number;
  /** Number of points: (end - start) / step. */
  points: number;
}

/** The window of `range` that ends with the step holding `now`. */
export function rangeWindow(range: RangeDef, now: number): Window {
  const end = Math.floor(now / range.step) * range.step + range.step;
  return { start: end - range.ms, end, step: range.step, points: range.ms / range.step };
}

/** The query parameters for a window (or its tail from `from`): `to` is inclusive at the API. */
export function windowQuery(win: Window, from = win.start): { from: number; to: number; step: number } {
  return { from, to: win.end - 1, step: win.step };
}

// ---- planning calls ----

export interface SeriesTarget {
  host: string;
  kind: HostKind;
  metrics: readonly string[];
}

export type PlannedCall = Pick<MetricsQuery, "hosts" | "metrics" | "kind">;

/**
 * Group targets into calls of at most `max` host × metric series. Hosts of the same kind asking
 * for the same metrics share calls (sparklines: 20 hosts' cpu.percent in one call); a host with
 * more than `max` metrics gets several calls.
 */
export function planCalls(targets: readonly SeriesTarget[], max = MAX_SERIES_PER_CALL): PlannedCall[] {
  const groups = new Map<string, { kind: HostKind; metrics: string[]; hosts: string[] }>();
  for (const t of targets) {
    const metrics = [...new Set(t.metrics)];
    if (metrics.length === 0) continue;
    const key = `${t.kind}|${metrics.join(",")}`;
    const g = groups.get(key) ?? { kind: t.kind, metrics, hosts: [] };
    if (!g.hosts.includes(t.host)) g.hosts.push(t.host);
    groups.set(key, g);
  }
  const calls: PlannedCall[] = [];
  for (const g of groups.values()) {
    if (g.metrics.length >= max) {
      for (const host of g.hosts) {
        for (let i = 0; i < g.metrics.length; i += max) {
          calls.push({ kind: g.kind, hosts: [host], metrics: g.metrics.slice(i, i + max) });
        }
      }
    } else {
      const perCall = Math.floor(max / g.metrics.length);
      for (let i = 0; i < g.hosts.length; i += perCall) {
        calls.push({ kind: g.kind, hosts: g.hosts.slice(i, i + perCall), metrics: g.metrics });
      }
    }
  }
  return calls;
}

// ---- the grid ----

export type Values = (number | null)[];

/** One time grid and the average of every series on it. Keys: seriesKey(host, kind, metric). */
export interface Grid {
  start: number;
  step: number;
  /** Step starts, ms. */
  t: number[];
  values: Record<string, Values>;
}

export function seriesKey(host: string, kind: HostKind, metric: string): string {
  return `${kind}\u0000${host}\u0000${metric}`;
}

export function emptyGrid(win: Window): Grid {
  return { start: win.start, step: win.step, t: stepStarts(win.start, win.points, win.step), values: {} };
}

function stepStarts(start: number, n: number, step: number): number[] {
  const t = new Array<number>(n);
  for (let i = 0; i < n; i++) t[i] = start + i * step;
  return t;
}

function nulls(n: number): Values {
  return new Array<number | null>(n).fill(null);
}

/**
 * The answers for [from, win.end) placed on a grid of that span. Points are placed by their
 * time, not their index, so an answer on another alignment cannot shift a line.
 */
export function gridFromAnswers(
  answers: readonly { kind: HostKind; answer: MetricsAnswer }[],
  from: number,
  win: Window,
): Grid {
  const n = Math.max(0, Math.round((win.end - from) / win.step));
  const grid: Grid = { start: from, step: win.step, t: stepStarts(from, n, win.step), values: {} };
  for (const { kind, answer } of answers) {
    for (const s of answer.series) {
      const out = nulls(n);
      for (let i = 0; i < s.t.length; i++) {
        const j = (s.t[i]! - from) / win.step;
        const v = s.avg[i];
        if (Number.isInteger(j) && j >= 0 && j < n && typeof v === "number" && Number.isFinite(v)) out[j] = v;
      }
      grid.values[seriesKey(s.host, kind, s.metric)] = out;
    }
  }
  return grid;
}

/**
 * The window's grid from what we had (`prev`) and a fresh read of its tail (`tail`, from
 * `tail.start` to the window's end): points before the tail come from `prev` when it has them,
 * the rest from the tail. Series only in `prev` keep their older points; series the tail brings
 * first are null before it.
 */
export function mergeTail(prev: Grid, tail: Grid, win: Window): Grid {
  const out = emptyGrid(win);
  const keys = new Set([...Object.keys(prev.values), ...Object.keys(tail.values)]);
  for (const key of keys) {
    const a = prev.values[key];
    const b = tail.values[key];
    const v = nulls(win.points);
    for (let i = 0; i < win.points; i++) {
      const t = out.t[i]!;
      if (t >= tail.start) {
        if (b) {
          const j = (t - tail.start) / tail.step;
          v[i] = b[j] ?? null;
        }
      } else if (a && prev.step === win.step) {
        const j = (t - prev.start) / prev.step;
        if (j >= 0 && j < a.length) v[i] = a[j] ?? null;
      }
    }
    out.values[key] = v;
  }
  return out;
}

/**
 * Where a refresh of `prev` should start reading: the last step it holds (that step was still
 * filling when it was read), or null when a full read is needed (nothing yet, another step, or
 * the window moved past everything held).
 */
export function tailStart(prev: Grid | null, win: Window): number | null {
  if (!prev || prev.step !== win.step || prev.t.length === 0) return null;
  const last = prev.t[prev.t.length - 1]!;
  if (last < win.start || last >= win.end) return null;
  return last;
}

// ---- uPlot ----

/** uPlot's data for some series of a grid: x in seconds, null where a step had no sample (a gap). */
export function toAligned(grid: Grid, keys: readonly string[]): [number[], ...Values[]] {
  const x = grid.t.map((ms) => ms / 1000);
  return [x, ...keys.map((k) => grid.values[k] ?? nulls(grid.t.length))];
}

/**
 * Indices of points with a gap on both sides. A line needs two neighbours, so with spanGaps off
 * such a point would not show at all; the charts draw a dot there instead.
 */
export function isolatedPoints(values: Values): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] == null) continue;
    if ((i === 0 || values[i - 1] == null) && (i === values.length - 1 || values[i + 1] == null)) out.push(i);
  }
  return out;
}

export interface Summary {
  latest: number | null;
  /** Time of the latest non-null point, ms. */
  latestAt: number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Points with a value. */
  count: number;
}

/** Latest, lowest, highest and mean of a series, for legends and screen-reader summaries. */
export function summarize(t: readonly number[], values: Values | undefined): Summary {
  const s: Summary = { latest: null, latestAt: null, min: null, max: null, mean: null, count: 0 };
  if (!values) return s;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v == null) continue;
    s.count++;
    sum += v;
    s.min = s.min === null || v < s.min ? v : s.min;
    s.max = s.max === null || v > s.max ? v : s.max;
    s.latest = v;
    s.latestAt = t[i] ?? null;
  }
  if (s.count) s.mean = sum / s.count;
  return s;
}

// ---- the span a chart shows, and its ticks ----

export interface Span {
  /** ms, inclusive */
  start: number;
  /** ms: the window's end */
  end: number;
}

/**
 * What the charts of one view show of the window: all of it, or, when the data begins later
 * (a host that started sending minutes ago), from its first point — so a few minutes of data
 * are not squashed against the right edge of an hour. Never less than a twelfth of the range
 * or ten steps. One span for every chart of the view, so side-by-side charts line up.
 */
export function visibleSpan(grid: Grid, keys: readonly string[]): Span {
  const end = grid.start + grid.t.length * grid.step;
  let first = -1;
  for (const key of keys) {
    const vs = grid.values[key];
    if (!vs) continue;
    const i = vs.findIndex((v) => v != null);
    if (i >= 0 && (first === -1 || i < first)) first = i;
  }
  if (first <= 0) return { start: grid.start, end };
  const minSpan = Math.max(10 * grid.step, Math.round((end - grid.start) / 12 / grid.step) * grid.step);
  return { start: Math.max(grid.start, Math.min(grid.t[first]!, end - minSpan)), end };
}

/** Tick steps, ms: each a round number on a clock or a calendar. */
const TICK_STEPS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map(
  (s) => s * SECOND,
);

/**
 * Ticks for a span: the smallest round step giving at most `maxTicks`, at round times of the
 * team's wall clock (17:30, midnight). A function of the span alone, so charts over the same
 * span get the same ticks whatever their labels' widths.
 */
export function timeTicks(span: Span, timeZone: string, maxTicks = 5): { step: number; ticks: number[] } {
  const length = Math.max(1, span.end - span.start);
  const step = TICK_STEPS.find((s) => length / s <= maxTicks) ?? TICK_STEPS[TICK_STEPS.length - 1]!;
  const offset = zoneOffsetMs(span.start, timeZone);
  const ticks: number[] = [];
  const calendar = step >= DAY;
  for (let wall = Math.ceil((span.start + offset) / step) * step; wall - offset <= span.end; wall += step) {
    // Days and weeks stay on local midnights across a daylight-saving change.
    const t = calendar ? wall - zoneOffsetMs(wall - offset, timeZone) : wall - offset;
    if (t >= span.start && t <= span.end) ticks.push(t);
  }
  return { step, ticks };
}

// ---- what a host shows ----

/** Mount segments of the disk.<mount>.used_percent values a host reported, "root" first. */
export function diskMounts(values: Record<string, number>): string[] {
  const mounts: string[] = [];
  for (const name of Object.keys(values)) {
    const m = /^disk\.([a-z0-9_]+)\.used_percent$/.exec(name);
    if (m) mounts.push(m[1]!);
  }
  return mounts.sort((a, b) => (a === "root" ? -1 : b === "root" ? 1 : a.localeCompare(b)));
}

/**
 * "root" → "/"; other segments stay as the agent made them ("var_lib"): "_" stood for "/", "-",
 * "." or a space, so turning it back into a path would be a guess.
 */
export function mountLabel(segment: string): string {
  return segment === "root" ? "/" : segment;
}
