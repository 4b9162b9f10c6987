import { describe, expect, it } from "vitest";
import type { Fetched } from "../api/client";
import type { MetricsAnswer, MetricsQuery } from "../api/types";
import { FULL_REFRESH_MS, rangeById, seriesKey } from "./metricSeries";
import { SeriesLoader } from "./seriesLoader";

const NOW = Date.UTC(2026, 10, 23, 14, 5, 7);
const range = rangeById("15m")!;
const targets = [{ host: "web-1", kind: "vm" as const, metrics: ["cpu.percent"] }];
const key = seriesKey("web-1", "vm", "cpu.percent");

/** An API whose every step holds the step's start in seconds, mod 1000; `notModified` on request. */
function fakeApi() {
  const calls: MetricsQuery[] = [];
  let unchanged = false;
  const cache = new Map<string, MetricsAnswer>();
  return {
    calls,
    answerUnchanged(v: boolean) {
      unchanged = v;
    },
    metrics: async (q: MetricsQuery): Promise<Fetched<MetricsAnswer>> => {
      calls.push(q);
      const url = JSON.stringify(q);
      const cached = cache.get(url);
      if (unchanged && cached) return { data: cached, etag: "x", notModified: true };
      const step = q.step!;
      const t: number[] = [];
      for (let s = q.from; s <= q.to; s += step) t.push(s);
      const avg = t.map((s) => (s / 1000) % 1000);
      const data: MetricsAnswer = {
        from: q.from,
        to: q.to,
        resolution: "10s",
        step,
        series: q.hosts.flatMap((host) => q.metrics.map((metric) => ({ host, metric, t, avg, min: avg, max: avg }))),
      };
      cache.set(url, data);
      return { data, etag: "x", notModified: false };
    },
  };
}

describe("SeriesLoader", () => {
  it("reads the whole window first, then only the tail", async () => {
    const api = fakeApi();
    const loader = new SeriesLoader(api);
    const first = await loader.load(targets, range, NOW);
    expect(api.calls[0]!.to - api.calls[0]!.from + 1).toBe(15 * 60_000);
    expect(first.grid.values[key]).toHaveLength(90);

    const second = await loader.load(targets, range, NOW + 25_000);
    const tail = api.calls[1]!;
    expect(tail.from).toBe(first.grid.t[89]); // the step that was still filling
    expect((tail.to + 1 - tail.from) / 10_000).toBe(4);
    // The merged window equals a full read of it.
    const full = await new SeriesLoader(fakeApi()).load(targets, range, NOW + 25_000);
    expect(second.grid.t).toEqual(full.grid.t);
    expect(second.grid.values[key]).toEqual(full.grid.values[key]);
  });

  it("keeps the same grid object when every answer is a 304 and the window has not moved", async () => {
    const api = fakeApi();
    const loader = new SeriesLoader(api);
    const first = await loader.load(targets, range, NOW);
    await loader.load(targets, range, NOW + 1000); // tail read, cached
    const before = loader.current!.grid;
    api.answerUnchanged(true);
    const again = await loader.load(targets, range, NOW + 2000);
    expect(again.grid).toBe(before);
    expect(again.at).toBe(NOW + 2000);
    expect(first.grid).not.toBe(before); // the first tail read did replace it
  });

  it("reads in full again after a while (late samples), on a new range and on new targets", async () => {
    const api = fakeApi();
    const loader = new SeriesLoader(api);
    await loader.load(targets, range, NOW);
    await loader.load(targets, range, NOW + FULL_REFRESH_MS + 1);
    expect(api.calls[1]!.from).toBe(api.calls[1]!.to + 1 - 15 * 60_000);

    await loader.load(targets, rangeById("30d")!, NOW + FULL_REFRESH_MS + 2);
    expect(api.calls[2]!.step).toBe(3_600_000);
    expect(api.calls[2]!.to + 1 - api.calls[2]!.from).toBe(30 * 86_400_000);

    const more = [...targets, { host: "web-2", kind: "vm" as const, metrics: ["cpu.percent"] }];
    const d = await loader.load(more, rangeById("30d")!, NOW + FULL_REFRESH_MS + 3);
    expect(api.calls[3]!.hosts).toEqual(["web-1", "web-2"]);
    expect(d.grid.values[seriesKey("web-2", "vm", "cpu.percent")]).toHaveLength(720);
  });

  it("keeps its data when a read fails", async () => {
    const api = fakeApi();
    const loader = new SeriesLoader(api);
    const first = await loader.load(targets, range, NOW);
    const failing = new SeriesLoader({
      metrics: async () => {
        throw new Error("down");
      },
    });
    await expect(failing.load(targets, range, NOW)).rejects.toThrow("down");
    expect(failing.current).toBeNull();
    expect(loader.current).toBe(first);
  });

  it("gives an empty grid of the window when there is nothing to read", async () => {
    const api = fakeApi();
    const d = await new SeriesLoader(api).load([], range, NOW);
    expect(api.calls).toHaveLength(0);
    expect(d.grid.t).toHaveLength(90);
  });
});
