// Insights: the feed of anomalies, predictions and patterns, filtered by severity, type and
// host; each with its chart (the anomalous window shaded, a forecast drawn to its limit with
// its interval), the CI deploy runs in the hour before it began, and, for operators,
// confirm / dismiss.

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { incidentsApi } from "../api/incidents";
import { timelineApi, type FeedEntry } from "../api/timeline";
import {
  INSIGHT_TYPES,
  SEVERITIES,
  type FeedbackAnswer,
  type Insight,
  type InsightType,
  type InsightsPage,
  type Severity,
  type Verdict,
} from "../api/types";
import { hasRole } from "../auth/roles";
import { useApp } from "../context";
import { changesBefore, rangeBefore } from "../lib/changesBefore";
import { formatDateTime } from "../lib/format";
import { insightGeometry } from "../lib/insightChart";
import { Poller } from "../lib/poller";
import { buildHash, navigate } from "../lib/router";
import "./Insights.css";
import { useLiveTopics } from "../lib/useLive";

const W = 320;
const H = 90;

interface Filters {
  severity: Severity | "";
  type: InsightType | "";
  host: string;
}

function readFilters(query: URLSearchParams): Filters {
  const severity = query.get("severity") ?? "";
  const type = query.get("type") ?? "";
  return {
    severity: (SEVERITIES as readonly string[]).includes(severity) ? (severity as Severity) : "",
    type: (INSIGHT_TYPES as readonly string[]).includes(type) ? (type as InsightType) : "",
    host: query.get("host") ?? "",
  };
}

export function Insights({ query }: { query: URLSearchParams }) {
  const { api, user, timeZone, locale, refreshMs } = useApp();
  const filters = readFilters(query);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const [page, setPage] = useState<InsightsPage | null>(null);
  const [deploys, setDeploys] = useState<FeedEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const canJudge = hasRole(user.role, "operator");

  const poller = useMemo(
    () =>
      new Poller({
        intervalMs: refreshMs,
        run: async (signal) => {
          const f = filtersRef.current;
          try {
            const got = await api.get<InsightsPage>(
              "/api/insights",
              { severity: f.severity || undefined, type: f.type || undefined, host: f.host || undefined, limit: 50 },
              { signal },
            );
            if (signal.aborted) return;
            setPage(got.data);
            setError(null);
            // What changed shortly before each insight: one timeline read for the page.
            const range = rangeBefore(got.data.insights.map((i) => i.startsAt));
            const before = range ? await timelineApi.entries(api, { ...range, kinds: ["ci"] }, { signal }) : null;
            if (!signal.aborted) setDeploys(before ? before.data.entries : []);
          } catch (e) {
            if (!signal.aborted) setError(e instanceof ApiError ? e.message : String(e));
          }
        },
      }),
    [api, refreshMs],
  );

  useLayoutEffect(() => {
    poller.start();
    return () => poller.stop();
  }, [poller]);
  useLiveTopics(["insights"], () => poller.refresh());

  const key = `${filters.severity}|${filters.type}|${filters.host}`;
  const firstKey = useRef(true);
  useEffect(() => {
    if (firstKey.current) firstKey.current = false;
    else poller.refresh();
  }, [key]);

  const setFilter = (name: keyof Filters, value: string) => {
    const next = { ...filters, [name]: value };
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(next)) if (v) params[k] = v;
    navigate(buildHash("/insights", params));
  };

  const judge = async (insight: Insight, verdict: Verdict) => {
    try {
      const answer = await api.post<FeedbackAnswer>(`/api/insights/${encodeURIComponent(insight.id)}/feedback`, { verdict });
      const s = answer.series;
      setNotice(
        s
          ? `${verdict === "dismiss" ? "Dismissed" : "Confirmed"}: ${s.metric} on ${s.host} now alarms at score ${s.threshold}` +
              (s.dismissals ? ` (${s.dismissals} dismissal${s.dismissals > 1 ? "s" : ""}; confirm to take one back).` : ".")
          : `${verdict === "dismiss" ? "Dismissed" : "Confirmed"}.`,
      );
      poller.refresh();
    } catch (e) {
      setNotice(e instanceof ApiError ? e.message : String(e));
    }
  };

  const promote = async (insight: Insight) => {
    try {
      const incident = await incidentsApi.promoteInsight(api, insight.id);
      if (incident) navigate(buildHash("/incidents", { id: incident.id }));
    } catch (e) {
      setNotice(e instanceof ApiError ? e.message : String(e));
    }
  };

  const items = page?.insights ?? [];
  return (
    <section class="page insights" aria-labelledby="page-title">
      <header class="page__header">
        <div>
          <h1 id="page-title" tabIndex={-1}>
            Insights
          </h1>
          <p class="page__meta">Anomalies, forecasts and patterns found in your metrics as they arrive.</p>
        </div>
      </header>
      <form class="insights__filters" onSubmit={(e) => e.preventDefault()}>
        <FilterSelect label="Severity" name="severity" value={filters.severity} options={SEVERITIES} onChange={setFilter} />
        <FilterSelect label="Type" name="type" value={filters.type} options={INSIGHT_TYPES} onChange={setFilter} />
        <label>
          Host{" "}
          <input
            type="search"
            value={filters.host}
            placeholder="any"
            onChange={(e) => setFilter("host", e.currentTarget.value.trim())}
            data-testid="filter-host"
          />
        </label>
      </form>
      {error && (
        <div class="banner banner--error" role="alert">
          {error}
        </div>
      )}
      {notice && (
        <p class="insights__notice" role="status" data-testid="insight-notice">
          {notice}
        </p>
      )}
      {page && items.length === 0 && <p class="page__meta">No insights match. Quiet is good.</p>}
      <ol class="insights__feed">
        {items.map((i) => (
          <li class={`insight insight--${i.severity.toLowerCase()}`} data-testid="insight" key={i.id}>
            <div class="insight__head">
              <span class="insight__severity">{i.severity}</span>
              <span class="insight__type">{i.type}</span>
              <span class="insight__confidence">{i.confidence}% confidence</span>
              {i.feedback && <span class="insight__feedback">{i.feedback === "dismiss" ? "dismissed" : "confirmed"}</span>}
            </div>
            <p class="insight__message">{i.message}</p>
            <p class="page__meta">
              {i.affectedHosts.join(", ")} · {i.metric} · since {formatDateTime(i.startsAt, timeZone, locale)}
              {i.endsAt !== null ? ` · ended ${formatDateTime(i.endsAt, timeZone, locale)}` : " · open"}
              {i.withdrawn ? " · withdrawn: the trend went away" : ""}
            </p>
            <InsightChart insight={i} />
            <DeploysBefore entries={changesBefore(i.startsAt, deploys)} />
            {canJudge && (
              <div class="insight__actions">
                <button type="button" class="button button--small" onClick={() => judge(i, "confirm")} disabled={i.feedback === "confirm"}>
                  Confirm
                </button>
                <button type="button" class="button button--small" onClick={() => judge(i, "dismiss")} disabled={i.feedback === "dismiss"}>
                  Dismiss
                </button>
                {i.feedback === "confirm" && (
                  <button type="button" class="button button--small" onClick={() => promote(i)} data-testid="open-incident">
                    Open incident
                  </button>
                )}
              </div>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

function DeploysBefore({ entries }: { entries: FeedEntry[] }) {
  if (entries.length === 0) return null;
  return (
    <p class="page__meta" data-testid="insight-deploys">
      Deployed in the hour before:{" "}
      {entries.map((e, n) => (
        <span key={e.id}>
          {n > 0 && ", "}
          <a href={e.link}>{e.title}</a>
          {e.status ? ` (${e.status})` : ""}
        </span>
      ))}
    </p>
  );
}

function FilterSelect(props: {
  label: string;
  name: keyof Filters;
  value: string;
  options: readonly string[];
  onChange: (name: keyof Filters, value: string) => void;
}) {
  return (
    <label>
      {props.label}{" "}
      <select value={props.value} onChange={(e) => props.onChange(props.name, e.currentTarget.value)} data-testid={`filter-${props.name}`}>
        <option value="">All</option>
        {props.options.map((o) => (
          <option value={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}

function InsightChart({ insight }: { insight: Insight }) {
  const g = insightGeometry(insight, W, H);
  if (!g) return null;
  return (
    <svg class="insight__chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Chart of ${insight.metric}`} data-testid="insight-chart">
      {g.band && <rect class="insight__band" x={g.band.x} y={0} width={g.band.width} height={H} data-testid="insight-window" />}
      {g.forecast && (
        <g data-testid="insight-forecast">
          <line class="insight__interval" x1={g.forecast.from} x2={g.forecast.to} y1={g.forecast.limitY} y2={g.forecast.limitY} />
          <line class="insight__forecast" x1={g.forecast.x1} y1={g.forecast.y1} x2={g.forecast.x2} y2={g.forecast.y2} />
        </g>
      )}
      <polyline class="insight__line" points={g.line} fill="none" />
    </svg>
  );
}
