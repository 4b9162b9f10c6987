import { describe, expect, it } from "vitest";
import type { MetricsAnswer } from "../api/types";
import {
  RANGES,
  diskMounts,
  emptyGrid,
  gridFromAnswers,
  isolatedPoints,
  mergeTail,
  mountLabel,
  planCalls,
  rangeById,
  rangeWindow,
  seriesKey,
  summarize,
  tailStart,
  timeTicks,
  toAligned,
  visibleSpan,
  windowQuery,
} from "./metricSeries";

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// 2026-11-23 14:05:07.250 UTC
const NOW = Date.UTC(2026, 10, 23, 14, 5, 7, 250);

const r = (id: string) => rangeById(id)!;

describe("range → from/to", () => {
  it("offers 15 minutes to 30 days, each under ~1,000 points on a 10 s multiple", () => {
    expect(RANGES.map((x) => x.id)).toEqual(["15m", "1h", "6h", "24h", "7d", "30d"]);
    for (const x of RANGES) {
      expect(x.step % 10_000).toBe(0);
      expect(x.ms % x.step).toBe(0);
      expect(x.ms / x.step).toBeLessThanOrEqual(1000);
    }
    expect(r("15m").step).toBe(10 * S); // 90 raw points
    expect(r("30d").step).toBe(HOUR); // 720 hourly roll-ups
    expect(rangeById("2y")).toBeNull();
  });

  it("ends the window with the step that holds now, aligned to the step", () => {
    const w = rangeWindow(r("15m"), NOW);
    expect(w.end).toBe(Date.UTC(2026, 10, 23, 14, 5, 10));
    expect(w.start).toBe(w.end - 15 * MIN);
    expect(w.points).toBe(90);
    expect(windowQuery(w)).toEqual({ from: w.start, to: w.end - 1, step: 10 * S });

    const m = rangeWindow(r("30d"), NOW);
    expect(m.end).toBe(Date.UTC(2026, 10, 23, 15));
    expect(m.start).toBe(m.end - 30 * DAY);
    expect(m.points).toBe(720);
  });

  it("asks for the same URL for every refresh inside one step (so the API can answer 304)", () => {
    const a = windowQuery(rangeWindow(r("30d"), NOW));
    const b = windowQuery(rangeWindow(r("30d"), NOW + 20 * MIN));
    expect(b).toEqual(a);
    const c = windowQuery(rangeWindow(r("15m"), NOW + 3 * S));
    expect(c.to - windowQuery(rangeWindow(r("15m"), NOW)).to).toBe(10 * S);
  });

  it("a step boundary starts a new step", () => {
    const exact = Date.UTC(2026, 10, 23, 14, 5, 10);
    expect(rangeWindow(r("15m"), exact).end).toBe(exact + 10 * S);
    expect(rangeWindow(r("15m"), exact - 1).end).toBe(exact);
  });
});

describe("planning calls of at most 20 series", () => {
  it("puts up to 20 hosts' sparkline metric in one call, per kind", () => {
    const hosts = Array.from({ length: 45 }, (_, i) => ({ host: `h${i}`, kind: "vm" as const, metrics: ["cpu.percent"] }));
    const apps = [{ host: "shop", kind: "webapp" as const, metrics: ["http.response_time_ms"] }];
    const calls = planCalls([...hosts, ...apps]);
    expect(calls.map((c) => [c.kind, c.hosts.length, c.metrics])).toEqual([
      ["vm", 20, ["cpu.percent"]],
      ["vm", 20, ["cpu.percent"]],
      ["vm", 5, ["cpu.percent"]],
      ["webapp", 1, ["http.response_time_ms"]],
    ]);
  });

  it("splits one host's many metrics into calls of 20", () => {
    const metrics = Array.from({ length: 27 }, (_, i) => `disk.m${i}.used_percent`);
    const calls = planCalls([{ host: "db", kind: "vm", metrics }]);
    expect(calls.map((c) => c.metrics.length)).toEqual([20, 7]);
    expect(calls.every((c) => c.hosts.length * c.metrics.length <= 20)).toBe(true);
  });

  it("shares calls between hosts asking for the same metrics: hosts × metrics ≤ 20", () => {
    const m = ["a.x", "b.x", "c.x"];
    const calls = planCalls(Array.from({ length: 7 }, (_, i) => ({ host: `h${i}`, kind: "vm" as const, metrics: m })));
    expect(calls.map((c) => c.hosts.length)).toEqual([6, 1]);
    expect(planCalls([{ host: "x", kind: "vm", metrics: [] }])).toEqual([]);
  });
});

function answer(from: number, step: number, series: { host: string; metric: string; avg: (number | null)[] }[]): MetricsAnswer {
  return {
    from,
    to: from + step * 10,
    resolution: "10s",
    step,
    series: series.map((s) => ({
      ...s,
      t: s.avg.map((_, i) => from + i * step),
      min: s.avg,
      max: s.avg,
    })),
  };
}

describe("series → uPlot data", () => {
  const w = rangeWindow(r("15m"), NOW);

  it("places points by time on the window's grid; missing steps are null (gaps), not 0", () => {
    const a = answer(w.start, w.step, [{ host: "web-1", metric: "cpu.percent", avg: [1, null, 3] }]);
    const grid = gridFromAnswers([{ kind: "vm", answer: a }], w.start, w);
    const key = seriesKey("web-1", "vm", "cpu.percent");
    expect(grid.t).toHaveLength(90);
    expect(grid.values[key]!.slice(0, 4)).toEqual([1, null, 3, null]);
    expect(grid.values[key]!.filter((v) => v !== null)).toHaveLength(2);

    const [x, y, missing] = toAligned(grid, [key, seriesKey("web-1", "vm", "mem.used_percent")]);
    expect(x[0]).toBe(w.start / 1000); // uPlot time in seconds
    expect(x[1]! - x[0]!).toBe(10);
    expect(y).toBe(grid.values[key]);
    expect(missing).toHaveLength(90);
    expect(missing!.every((v) => v === null)).toBe(true);
  });

  it("keeps series of the same host name apart by kind", () => {
    const a = answer(w.start, w.step, [{ host: "x", metric: "m.v", avg: [1] }]);
    const b = answer(w.start, w.step, [{ host: "x", metric: "m.v", avg: [2] }]);
    const grid = gridFromAnswers([{ kind: "vm", answer: a }, { kind: "webapp", answer: b }], w.start, w);
    expect(grid.values[seriesKey("x", "vm", "m.v")]![0]).toBe(1);
    expect(grid.values[seriesKey("x", "webapp", "m.v")]![0]).toBe(2);
  });

  it("ignores points off the grid rather than shifting a line", () => {
    const a: MetricsAnswer = {
      ...answer(w.start, w.step, []),
      series: [{ host: "h", metric: "m.v", t: [w.start + 5000, w.start + 10_000, w.end], avg: [9, 2, 7], min: [], max: [] }],
    };
    const v = gridFromAnswers([{ kind: "vm", answer: a }], w.start, w).values[seriesKey("h", "vm", "m.v")]!;
    expect(v.slice(0, 3)).toEqual([null, 2, null]);
    expect(v.filter((x) => x !== null)).toEqual([2]);
  });

  it("finds lone points between gaps, which need a dot to be seen", () => {
    expect(isolatedPoints([1, null, 2, null, null, 3, 4, null, 5])).toEqual([0, 2, 8]);
    expect(isolatedPoints([null, null])).toEqual([]);
    expect(isolatedPoints([7])).toEqual([0]);
  });

  it("summarizes latest, lowest, highest and mean, skipping gaps", () => {
    const s = summarize([0, 10, 20, 30], [5, null, 1, null]);
    expect(s).toEqual({ latest: 1, latestAt: 20, min: 1, max: 5, mean: 3, count: 2 });
    expect(summarize([0], undefined).count).toBe(0);
  });
});

describe("refreshing the tail", () => {
  const range = r("15m");
  const key = seriesKey("web-1", "vm", "cpu.percent");

  it("reads from the last step held, or in full when there is nothing to build on", () => {
    const w = rangeWindow(range, NOW);
    expect(tailStart(null, w)).toBeNull();
    const grid = emptyGrid(w);
    expect(tailStart(grid, w)).toBe(w.end - w.step);
    const later = rangeWindow(range, NOW + 30 * S);
    expect(tailStart(grid, later)).toBe(w.end - w.step);
    expect(tailStart(grid, rangeWindow(range, NOW + HOUR))).toBeNull(); // the window moved past it
    expect(tailStart(grid, rangeWindow(r("1h"), NOW))).toBe(w.end - w.step); // same 10 s step
    expect(tailStart(grid, rangeWindow(r("6h"), NOW))).toBeNull(); // another step
  });

  it("slides the window: old points from before, the tail's points from the tail", () => {
    const w0 = rangeWindow(range, NOW);
    const prevAnswer = answer(w0.start, w0.step, [
      { host: "web-1", metric: "cpu.percent", avg: Array.from({ length: 90 }, (_, i) => i) },
    ]);
    const prev = gridFromAnswers([{ kind: "vm", answer: prevAnswer }], w0.start, w0);
    expect(prev.values[key]![89]).toBe(89);

    // 20 s later: two new steps; the tail starts at the step that was still filling.
    const w1 = rangeWindow(range, NOW + 20 * S);
    const from = tailStart(prev, w1)!;
    const tail = gridFromAnswers(
      [{ kind: "vm", answer: answer(from, w1.step, [{ host: "web-1", metric: "cpu.percent", avg: [89.5, null, 91] }]) }],
      from,
      w1,
    );
    expect(tail.t).toHaveLength(3);
    const merged = mergeTail(prev, tail, w1);
    const v = merged.values[key]!;
    expect(merged.t).toHaveLength(90);
    expect(merged.t[0]).toBe(w1.start);
    expect(v[0]).toBe(2); // two old points fell off the left
    expect(v.slice(86)).toEqual([88, 89.5, null, 91]); // the updated step, a gap, the new one
  });

  it("keeps series the tail did not bring, and starts new ones with gaps", () => {
    const w0 = rangeWindow(range, NOW);
    const other = seriesKey("web-1", "vm", "mem.used_percent");
    const prev = { ...emptyGrid(w0), values: { [key]: new Array(90).fill(1) } };
    const w1 = rangeWindow(range, NOW + 10 * S);
    const from = tailStart(prev, w1)!;
    const tail = { ...emptyGrid(w1), start: from, t: [from, from + 10 * S], values: { [other]: [5, 6] } };
    const merged = mergeTail(prev, tail, w1);
    expect(merged.values[key]!.slice(-3)).toEqual([1, null, null]);
    expect(merged.values[other]!.slice(-3)).toEqual([null, 5, 6]);
  });
});

describe("what a host shows", () => {
  it("lists disk mounts, root first", () => {
    expect(
      diskMounts({ "disk.var_lib.used_percent": 1, "disk.root.used_percent": 2, "disk.read_bytes_per_s": 3, "disk.boot.used_percent": 4 }),
    ).toEqual(["root", "boot", "var_lib"]);
    expect(mountLabel("root")).toBe("/");
    expect(mountLabel("var_lib")).toBe("var_lib");
  });
});

describe("the span a host's charts show", () => {
  const win = rangeWindow(r("1h"), NOW);
  const key = seriesKey("web-1", "vm", "cpu.percent");
  const other = seriesKey("web-1", "vm", "mem.used_percent");
  const withData = (fromIndex: number, k = key) => {
    const g = emptyGrid(win);
    g.values[k] = g.t.map((_, i) => (i >= fromIndex ? 1 : null));
    return g;
  };

  it("starts at the data when a host has sent only minutes of an hour", () => {
    const g = withData(win.points - 18); // 3 minutes
    const span = visibleSpan(g, [key]);
    expect(span.end).toBe(win.end);
    expect(span.end - span.start).toBe(5 * MIN); // a twelfth of the hour: never a sliver
    const six = visibleSpan(withData(win.points - 36), [key]); // 6 minutes: from the first point
    expect(six.start).toBe(win.end - 36 * 10 * S);
  });

  it("is the whole window when the data fills it, or when there is none", () => {
    expect(visibleSpan(withData(0), [key])).toEqual({ start: win.start, end: win.end });
    expect(visibleSpan(emptyGrid(win), [key])).toEqual({ start: win.start, end: win.end });
  });

  it("is one span for every chart of the host: the earliest first point of any series", () => {
    const g = withData(win.points - 36);
    g.values[other] = g.t.map((_, i) => (i >= win.points - 60 ? 2 : null));
    expect(visibleSpan(g, [key, other]).start).toBe(win.end - 60 * 10 * S);
  });
});

describe("time ticks", () => {
  it("are the same for the same span, at round minutes of the wall clock", () => {
    const span = { start: Date.UTC(2026, 10, 23, 13, 7, 10), end: Date.UTC(2026, 10, 23, 14, 7, 10) };
    const { step, ticks } = timeTicks(span, "UTC");
    expect(step).toBe(15 * MIN);
    expect(ticks.map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(["13:15", "13:30", "13:45", "14:00"]);
    expect(timeTicks(span, "UTC")).toEqual({ step, ticks });
  });

  it("follow the team's clock in a half-hour time zone", () => {
    const span = { start: Date.UTC(2026, 10, 23, 10, 0), end: Date.UTC(2026, 10, 23, 16, 0) };
    const { step, ticks } = timeTicks(span, "Asia/Kolkata"); // UTC+5:30
    expect(step).toBe(2 * HOUR);
    // 16:00, 18:00, 20:00 in Kolkata
    expect(ticks).toEqual([Date.UTC(2026, 10, 23, 10, 30), Date.UTC(2026, 10, 23, 12, 30), Date.UTC(2026, 10, 23, 14, 30)]);
  });

  it("put days on local midnights, across a daylight-saving change too", () => {
    const span = { start: Date.UTC(2026, 2, 5), end: Date.UTC(2026, 2, 15) }; // US DST starts on March 8
    const { step, ticks } = timeTicks(span, "America/New_York");
    expect(step).toBe(2 * DAY);
    const local = ticks.map((t) =>
      new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", hour: "2-digit", hourCycle: "h23" }).format(t),
    );
    expect(new Set(local)).toEqual(new Set(["00"]));
  });
});
