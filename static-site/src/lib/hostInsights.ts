// A host's anomaly insights as windows per metric, for shading its charts. Polled on its own
// (one read of the host's pointer partition), so the charts' refresh does not wait for it.

import { useLayoutEffect, useMemo, useState } from "preact/hooks";
import type { ApiClient } from "../api/client";
import type { Insight, InsightsPage } from "../api/types";
import type { ChartMarker } from "../components/TimeChart";
import { Poller } from "./poller";
import { useLiveTopics } from "./useLive";

/** metric → the windows of its insights (an open one runs to its last point). */
export function windowsByMetric(insights: readonly Insight[]): Record<string, ChartMarker[]> {
  const out: Record<string, ChartMarker[]> = {};
  for (const i of insights) {
    if (i.type === "prediction") continue;
    const last = i.points.length ? i.points[i.points.length - 1]![0] : i.startsAt;
    (out[i.metric] ??= []).push({ from: i.startsAt, to: i.endsAt ?? Math.max(last, i.startsAt) });
  }
  return out;
}

export function useHostInsights(api: ApiClient, host: string, refreshMs: number): Record<string, ChartMarker[]> {
  const [windows, setWindows] = useState<Record<string, ChartMarker[]>>({});
  const poller = useMemo(
    () =>
      new Poller({
        intervalMs: refreshMs,
        run: async (signal) => {
          try {
            const got = await api.get<InsightsPage>("/api/insights", { host, limit: 100 }, { signal });
            if (!signal.aborted) setWindows(windowsByMetric(got.data.insights));
          } catch {
            // Markers are extra: the charts stand without them, and the next round retries.
          }
        },
      }),
    [api, host, refreshMs],
  );
  useLayoutEffect(() => {
    poller.start();
    return () => poller.stop();
  }, [poller]);
  useLiveTopics(["insights"], () => poller.refresh());
  return windows;
}
