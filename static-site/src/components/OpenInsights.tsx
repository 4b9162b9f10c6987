// The open HIGH and CRITICAL insights, for the Overview: what needs a look now. Polls on its
// own (two severity-index reads), so the Overview's KPI refresh does not wait for it; shows
// nothing while there is nothing open.

import { useLayoutEffect, useMemo, useState } from "preact/hooks";
import type { Insight, InsightsPage } from "../api/types";
import { useApp } from "../context";
import { formatDateTime } from "../lib/format";
import { Poller } from "../lib/poller";
import { useLiveTopics } from "../lib/useLive";

export function OpenInsights() {
  const { api, refreshMs, timeZone, locale } = useApp();
  const [open, setOpen] = useState<Insight[]>([]);

  const poller = useMemo(
    () =>
      new Poller({
        intervalMs: refreshMs,
        run: async (signal) => {
          const pages = await Promise.allSettled(
            (["CRITICAL", "HIGH"] as const).map((severity) =>
              api.get<InsightsPage>("/api/insights", { severity, limit: 20 }, { signal }),
            ),
          );
          if (signal.aborted) return;
          const found = pages.flatMap((p) => (p.status === "fulfilled" ? p.value.data.insights : []));
          setOpen(found.filter((i) => i.endsAt === null));
        },
      }),
    [api, refreshMs],
  );

  useLayoutEffect(() => {
    poller.start();
    return () => poller.stop();
  }, [poller]);
  useLiveTopics(["insights"], () => poller.refresh());

  if (open.length === 0) return null;
  return (
    <section class="panel open-insights" aria-labelledby="open-insights-title" data-testid="open-insights">
      <h2 id="open-insights-title" class="panel__title">
        Open insights <span class="muted">· HIGH and CRITICAL</span>
      </h2>
      <ul>
        {open.map((i) => (
          <li key={i.id}>
            <strong>{i.severity}</strong> {i.message}{" "}
            <span class="muted">since {formatDateTime(i.startsAt, timeZone, locale)}</span>
          </li>
        ))}
      </ul>
      <a href="#/insights">All insights</a>
    </section>
  );
}
