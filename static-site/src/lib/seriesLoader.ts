// Reads series for a set of targets over a range, full the first time and then only the tail
// (see metricSeries.ts). One loader per view; it keeps the grid between refreshes.

import type { ApiClient, Fetched } from "../api/client";
import type { HostKind, MetricsAnswer } from "../api/types";
import {
  FULL_REFRESH_MS,
  emptyGrid,
  gridFromAnswers,
  mergeTail,
  planCalls,
  rangeWindow,
  tailStart,
  windowQuery,
  type Grid,
  type RangeDef,
  type SeriesTarget,
} from "./metricSeries";

export interface SeriesData {
  range: RangeDef;
  grid: Grid;
  /** When the grid was last confirmed by the API (200 or 304), epoch ms. */
  at: number;
}

type MetricsApi = Pick<ApiClient, "metrics">;

function targetsKey(targets: readonly SeriesTarget[]): string {
  return targets
    .map((t) => `${t.kind}|${t.host}|${t.metrics.join(",")}`)
    .sort()
    .join("\n");
}

export class SeriesLoader {
  private data: SeriesData | null = null;
  private key = "";
  private fullAt = 0;

  constructor(private readonly api: MetricsApi) {}

  get current(): SeriesData | null {
    return this.data;
  }

  /**
   * Read (or refresh) the series. Resolves to the same `SeriesData` object when nothing changed
   * (every answer a 304 and the window where it was), so callers can skip re-rendering.
   * Rejects with the first ApiError; the previous data stays.
   */
  async load(targets: readonly SeriesTarget[], range: RangeDef, now: number, signal?: AbortSignal): Promise<SeriesData> {
    const key = `${range.id}\n${targetsKey(targets)}`;
    const win = rangeWindow(range, now);
    const prev = key === this.key ? this.data : null;
    let from = prev && now - this.fullAt < FULL_REFRESH_MS ? tailStart(prev.grid, win) : null;
    const full = from === null;
    if (full) from = win.start;

    const calls = planCalls(targets);
    const q = windowQuery(win, from!);
    const answers: { kind: HostKind; fetched: Fetched<MetricsAnswer> }[] = await Promise.all(
      calls.map(async (c) => ({ kind: c.kind!, fetched: await this.api.metrics({ ...c, ...q }, { signal }) })),
    );

    if (full) this.fullAt = now;
    const unchanged =
      prev !== null && prev.grid.start === win.start && answers.every((a) => a.fetched.notModified);
    if (unchanged) {
      this.data = { ...prev, at: now };
      // Same grid object: the charts have nothing to redraw.
      return this.data;
    }

    const fresh = gridFromAnswers(
      answers.map((a) => ({ kind: a.kind, answer: a.fetched.data })),
      from!,
      win,
    );
    const grid = calls.length === 0 ? emptyGrid(win) : full || !prev ? fresh : mergeTail(prev.grid, fresh, win);
    this.key = key;
    this.data = { range, grid, at: now };
    return this.data;
  }

  /** Forget everything (a new host or range starts with a full read). */
  reset(): void {
    this.data = null;
    this.key = "";
    this.fullAt = 0;
  }
}
