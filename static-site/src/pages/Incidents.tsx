// Incidents (seed 001's real-time incident overview): active incidents first by severity, with
// age and assignee, filters, a list that refreshes on its own; one incident's page with its
// timeline (who did what, when), the actions the user's role allows, notes, revenue impact,
// what changed before it and its links; and a "declare incident" form for operators.

import { useState } from "preact/hooks";
import { SEVERITIES, type Severity } from "../api/alerts";
import { ApiError } from "../api/client";
import {
  INCIDENT_STATUSES,
  incidentsApi,
  type FeedEntry,
  type Impact,
  type Incident,
  type IncidentDetail,
  type IncidentStats,
  type IncidentStatus,
} from "../api/incidents";
import { hasRole } from "../auth/roles";
import { SeverityBadge } from "../components/SeverityBadge";
import { useApp } from "../context";
import { formatDateTime, formatMoney } from "../lib/format";
import { actions, age, byUrgency, describeEntry, impactHeadline, isActive, statsLine } from "../lib/incidents";
import { refreshWording } from "../lib/live";
import { buildHash, navigate } from "../lib/router";
import { useLiveTopics } from "../lib/useLive";
import { usePoller } from "../lib/usePoller";
import "./Incidents.css";

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : String(e);
}

export function Incidents({ query }: { query: URLSearchParams }) {
  const id = query.get("id");
  return id ? <IncidentPage id={id} /> : <IncidentList query={query} />;
}

function IncidentList({ query }: { query: URLSearchParams }) {
  const { api, user, refreshMs, liveState } = useApp();
  const status = query.get("status") ?? "";
  const severity = query.get("severity") ?? "";
  const service = query.get("service") ?? "";
  const [items, setItems] = useState<Incident[] | null>(null);
  const [stats, setStats] = useState<IncidentStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [declaring, setDeclaring] = useState(false);
  const [now, setNow] = useState(Date.now());
  const canWrite = hasRole(user.role, "operator");

  const poller = usePoller(async (signal) => {
    try {
      const [got, figures] = await Promise.all([
        incidentsApi.list(api, { status, severity, service }, { signal }),
        incidentsApi.stats(api, { signal }),
      ]);
      if (!signal.aborted) {
        setItems(got.data.incidents);
        setStats(figures.data);
        setNow(Date.now());
        setError(null);
      }
    } catch (e) {
      if (!signal.aborted) setError(message(e));
    }
  }, refreshMs);
  useLiveTopics(["incidents"], () => poller.refresh());

  const setFilter = (name: string, value: string) => {
    const next: Record<string, string> = { status, severity, service, [name]: value };
    for (const k of Object.keys(next)) if (!next[k]) delete next[k];
    navigate(buildHash("/incidents", next));
    setTimeout(() => poller.refresh(), 0);
  };

  const sorted = byUrgency(items ?? []);
  return (
    <section class="page incidents" aria-labelledby="page-title">
      <header class="page__header">
        <div>
          <h1 id="page-title" tabIndex={-1}>
            Incidents
          </h1>
          <p class="page__meta">From CloudWatch alarms, alerts, insights and people; {refreshWording(liveState, refreshMs)}.</p>
          {stats && (
            <p class="page__meta" data-testid="incident-stats">
              {statsLine(stats)}
            </p>
          )}
        </div>
        {canWrite && (
          <button type="button" class="button button--primary" onClick={() => setDeclaring(!declaring)} data-testid="declare-toggle">
            Declare incident
          </button>
        )}
      </header>
      {declaring && canWrite && <DeclareForm onDone={(incident) => navigate(buildHash("/incidents", { id: incident.id }))} />}
      <form class="incidents__filters" onSubmit={(e) => e.preventDefault()}>
        <Choice label="Status" value={status} options={INCIDENT_STATUSES} onChange={(v) => setFilter("status", v)} />
        <Choice label="Severity" value={severity} options={SEVERITIES} onChange={(v) => setFilter("severity", v)} />
        <label>
          Service{" "}
          <input type="search" value={service} placeholder="any" onChange={(e) => setFilter("service", e.currentTarget.value.trim())} />
        </label>
      </form>
      {error && (
        <div class="banner banner--error" role="alert">
          {error}
        </div>
      )}
      {items && sorted.length === 0 && <p class="page__meta">No incidents match.</p>}
      <ol class="incident-list">
        {sorted.map((i) => (
          <li class={`incident-row${isActive(i.status) ? "" : " incident-row--inactive"}`} data-testid="incident-row" key={i.id}>
            <SeverityBadge severity={i.severity} />
            <a href={buildHash("/incidents", { id: i.id })}>{i.title}</a>
            <span class="incident__status" data-testid="incident-status">
              {i.status}
            </span>
            <span />
            <span class="page__meta">
              {i.service} · {i.source} · {age(i.createdAt, now)} old · {i.assignee ? `assigned to ${i.assignee}` : "unassigned"}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Choice(props: { label: string; value: string; options: readonly string[]; onChange: (v: string) => void }) {
  return (
    <label>
      {props.label}{" "}
      <select value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)} data-testid={`filter-${props.label.toLowerCase()}`}>
        <option value="">All</option>
        {props.options.map((o) => (
          <option value={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}

function DeclareForm({ onDone }: { onDone: (incident: Incident) => void }) {
  const { api } = useApp();
  const [title, setTitle] = useState("");
  const [severity, setSeverity] = useState<Severity>("HIGH");
  const [service, setService] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const made = await incidentsApi.declare(api, { title, severity, service, description });
      if (made) onDone(made);
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <form class="incident-form" onSubmit={submit} data-testid="declare-form">
      <label>
        Title <input required value={title} maxLength={200} onInput={(e) => setTitle(e.currentTarget.value)} name="title" />
      </label>
      <label>
        Severity{" "}
        <select value={severity} onChange={(e) => setSeverity(e.currentTarget.value as Severity)} name="severity">
          {SEVERITIES.map((s) => (
            <option value={s}>{s}</option>
          ))}
        </select>
      </label>
      <label>
        Service <input required value={service} maxLength={100} onInput={(e) => setService(e.currentTarget.value)} name="service" />
      </label>
      <label>
        Description <textarea value={description} maxLength={5000} onInput={(e) => setDescription(e.currentTarget.value)} name="description" />
      </label>
      {error && (
        <p class="banner banner--error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="button button--primary">
        Declare
      </button>
    </form>
  );
}

function IncidentPage({ id }: { id: string }) {
  const { api, user, timeZone, locale, refreshMs } = useApp();
  const [incident, setIncident] = useState<IncidentDetail | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [impact, setImpact] = useState<Impact | null>(null);
  const [before, setBefore] = useState<FeedEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [note, setNote] = useState("");

  const poller = usePoller(async (signal) => {
    try {
      const got = await incidentsApi.detail(api, id, { signal });
      if (signal.aborted) return;
      setIncident(got.data);
      setEtag(got.etag);
      setError(null);
      const [imp, bef] = await Promise.all([incidentsApi.impact(api, id, { signal }), incidentsApi.before(api, id, { signal })]);
      if (!signal.aborted) {
        setImpact(imp.data);
        setBefore(bef.data.entries);
      }
    } catch (e) {
      if (!signal.aborted) setError(message(e));
    }
  }, refreshMs);
  useLiveTopics(["incidents"], () => poller.refresh());

  const change = async (body: { status?: IncidentStatus; assignee?: string | null }) => {
    if (!etag) return;
    try {
      await incidentsApi.change(api, id, etag, body);
      setNotice(null);
    } catch (e) {
      setNotice(e instanceof ApiError && e.status === 412 ? "Someone changed it meanwhile; reloaded — check and try again." : message(e));
    }
    poller.refresh();
  };

  const addNote = async (e: Event) => {
    e.preventDefault();
    try {
      await incidentsApi.note(api, id, note);
      setNote("");
    } catch (err) {
      setNotice(message(err));
    }
    poller.refresh();
  };

  const when = (ms: number) => formatDateTime(ms, timeZone, locale);
  const buttons = incident ? actions(incident.allowedTransitions) : [];
  return (
    <section class="page incident" aria-labelledby="page-title">
      <p>
        <a href="#/incidents">← All incidents</a>
      </p>
      {error && (
        <div class="banner banner--error" role="alert">
          {error}
        </div>
      )}
      {incident && (
        <>
          <header class="page__header">
            <div>
              <h1 id="page-title" tabIndex={-1}>
                {incident.title}
              </h1>
              <p class="page__meta">
                <SeverityBadge severity={incident.severity} /> <span data-testid="incident-status">{incident.status}</span> · {incident.service} ·{" "}
                {incident.source} · opened {when(incident.createdAt)}
                {incident.acknowledgedAt !== null && ` · acknowledged ${when(incident.acknowledgedAt)}`}
                {incident.resolvedAt !== null && ` · resolved ${when(incident.resolvedAt)}`} ·{" "}
                {incident.assignee ? `assigned to ${incident.assignee}` : "unassigned"}
              </p>
            </div>
          </header>
          {incident.description && <p>{incident.description}</p>}
          {buttons.length > 0 && (
            <div class="incident__actions" data-testid="incident-actions">
              {buttons.map((b) => (
                <button type="button" class="button" onClick={() => change({ status: b.status })} data-testid={`action-${b.status}`}>
                  {b.label}
                </button>
              ))}
              {incident.status !== "closed" && incident.assignee !== (user.name ?? user.sub) && (
                <button type="button" class="button" onClick={() => change({ assignee: user.name ?? user.sub })} data-testid="assign-me">
                  Assign to me
                </button>
              )}
            </div>
          )}
          {notice && (
            <p class="banner banner--warning" role="status">
              {notice}
            </p>
          )}
          <div class="grid-2">
            <div class="panel">
              <h2 class="panel__title">Timeline</h2>
              <ol class="incident-timeline" data-testid="incident-timeline">
                {incident.timeline.map((e) => (
                  <li>
                    <time>{when(e.at)}</time>
                    {describeEntry(e)}
                  </li>
                ))}
              </ol>
              {buttons.length > 0 && (
                <form onSubmit={addNote} class="incidents__filters">
                  <label>
                    Note <input value={note} required maxLength={5000} onInput={(e) => setNote(e.currentTarget.value)} data-testid="note-input" />
                  </label>
                  <button type="submit" class="button button--small">
                    Add note
                  </button>
                </form>
              )}
            </div>
            <div>
              <div class="panel" data-testid="incident-impact">
                <h2 class="panel__title">Revenue impact</h2>
                <p>{impact ? impactHeadline(impact, (m) => formatMoney(m, impact.currency, locale)) : "…"}</p>
              </div>
              <div class="panel">
                <h2 class="panel__title">What changed in the hour before</h2>
                {before && before.length === 0 && <p class="page__meta">Nothing recorded.</p>}
                <ul class="plain-list">
                  {(before ?? []).map((e) => (
                    <li>
                      <time>{when(e.at)}</time> <a href={e.link}>{e.title}</a> <span class="page__meta">{e.kind}</span>
                    </li>
                  ))}
                </ul>
              </div>
              <div class="panel">
                <h2 class="panel__title">Links</h2>
                <ul class="plain-list" data-testid="incident-links">
                  {(incident.links.alarms ?? []).map((a) => (
                    <li>
                      Alarm{" "}
                      <a href={a.consoleUrl} rel="noreferrer noopener" target="_blank">
                        {a.name}
                      </a>{" "}
                      <span class="page__meta">{a.kind}</span>
                    </li>
                  ))}
                  {(incident.links.alerts ?? []).map((a) => (
                    <li>
                      Alert <a href={buildHash("/alerts", { alert: a.id })}>{a.name ?? a.id}</a> {a.message}
                    </li>
                  ))}
                  {(incident.links.insights ?? []).map((i) => (
                    <li>
                      Insight <a href="#/insights">{i.message ?? i.id}</a>
                    </li>
                  ))}
                </ul>
              </div>
            </div>
          </div>
        </>
      )}
    </section>
  );
}
