// The Alerts console (#/alerts?tab=…): what fires now, history, silences, and for admins the
// rules editor, the channels editor with "send test", and the notification log. Buttons are
// offered by role (operators acknowledge and silence, admins edit); the API refuses the rest.

import "./Alerts.css";
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { alertsApi, type Alert, type AlertPage, type Channel, type Delivery, type Rule, type Silence } from "../api/alerts";
import { ApiError } from "../api/client";
import { hasRole } from "../auth/roles";
import { SeverityBadge } from "../components/SeverityBadge";
import { useApp, useConnection } from "../context";
import {
  RULE_TEMPLATES,
  STATE_WORD,
  byUrgency,
  describeRule,
  editableRule,
  refusalLines,
  silenceMatchers,
  since,
  where,
} from "../lib/alerts";
import { formatDateTime, formatIso } from "../lib/format";
import { usePoller } from "../lib/usePoller";
import { buildHash } from "../lib/router";
import { LiveMeta, PanelErrors, isAbort } from "./HostsShared";
import { useLiveTopics } from "../lib/useLive";

const TABS = [
  { id: "active", label: "Firing & pending" },
  { id: "history", label: "History" },
  { id: "silences", label: "Silences" },
  { id: "rules", label: "Rules" },
  { id: "channels", label: "Channels", admin: true },
  { id: "log", label: "Notification log", admin: true },
] as const;

type TabId = (typeof TABS)[number]["id"];

export function Alerts({ query }: { query: URLSearchParams }) {
  const { user } = useApp();
  const isAdmin = hasRole(user.role, "admin");
  const tabs = TABS.filter((t) => !("admin" in t) || isAdmin);
  const wanted = query.get("tab");
  const tab: TabId = (tabs.find((t) => t.id === wanted)?.id ?? "active") as TabId;

  useEffect(() => {
    document.title = "Alerts · Mission Control";
  }, []);

  return (
    <section class="page alerts" aria-labelledby="page-title">
      <header class="page__header">
        <div>
          <h1 id="page-title" tabIndex={-1}>
            Alerts
          </h1>
        </div>
      </header>
      <nav class="tabs" aria-label="Alerts">
        {tabs.map((t) => (
          <a key={t.id} href={buildHash("/alerts", { tab: t.id })} aria-current={t.id === tab ? "page" : undefined}>
            {t.label}
          </a>
        ))}
      </nav>
      {tab === "active" && <ActiveAlerts />}
      {tab === "history" && <AlertHistory />}
      {tab === "silences" && <Silences />}
      {tab === "rules" && <Rules />}
      {tab === "channels" && isAdmin && <Channels />}
      {tab === "log" && isAdmin && <NotificationLog />}
    </section>
  );
}

function Refusal({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  const lines = e ? refusalLines(e.details) : [];
  return (
    <div class="banner banner--warning" role="alert" data-testid="refusal">
      <span class="banner__icon" aria-hidden="true">
        ⚠
      </span>
      <div>
        <strong>{e ? e.message : String(error)}</strong>
        {lines.length > 0 && (
          <ul>
            {lines.map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

// ---------------------------------------------------------------- firing and pending

function ActiveAlerts() {
  const { api, user, locale, timeZone, refreshMs } = useApp();
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [errors, setErrors] = useState<Record<string, ApiError>>({});
  const [at, setAt] = useState<number | null>(null);
  const offline = useConnection(api).state === "down";

  const poller = usePoller(async (signal) => {
    try {
      setAlerts(byUrgency(await alertsApi.inStates(api, ["firing", "pending", "nodata"], 200, { signal })));
      setAt(Date.now());
      setErrors({});
    } catch (e) {
      if (isAbort(e, signal)) return;
      if (e instanceof ApiError) setErrors({ alerts: e });
    }
  }, refreshMs);
  useLiveTopics(["alerts"], () => poller.refresh());

  const canAct = hasRole(user.role, "operator");
  return (
    <>
      <LiveMeta at={at} offline={offline} timeZone={timeZone} locale={locale} refreshMs={refreshMs} />
      <PanelErrors errors={errors} />
      {alerts !== null && alerts.length === 0 && (
        <div class="panel" data-testid="no-alerts">
          <p>Nothing is firing or pending. Rules are evaluated every minute.</p>
        </div>
      )}
      {alerts !== null && alerts.length > 0 && (
        <ul class="alert-list" data-testid="alert-list">
          {alerts.map((a) => (
            <AlertRow key={a.id} alert={a} canAct={canAct} onChanged={() => poller.refresh()} />
          ))}
        </ul>
      )}
    </>
  );
}

function AlertRow({ alert, canAct, onChanged }: { alert: Alert; canAct: boolean; onChanged: () => void }) {
  const { api, locale, timeZone } = useApp();
  const [open, setOpen] = useState<"ack" | "silence" | null>(null);
  const [comment, setComment] = useState("");
  const [hours, setHours] = useState("0");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const now = Date.now();

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const h = Number(hours);
    try {
      if (open === "ack") await alertsApi.ack(api, alert.id, comment, h > 0 ? Date.now() + h * 3_600_000 : null);
      else await alertsApi.silence(api, { matchers: silenceMatchers(alert), endsAt: Date.now() + h * 3_600_000, comment });
      setOpen(null);
      setComment("");
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li class={`alert-row alert-row--${alert.state}`} data-testid="alert-row" data-state={alert.state}>
      <div class="alert-row__head">
        <SeverityBadge severity={alert.severity} />
        <strong class="alert-row__name">{alert.name}</strong>
        <span class="alert-row__where">{where(alert.labels)}</span>
        <span class={`alert-state alert-state--${alert.state}`} data-testid="alert-state">
          {STATE_WORD[alert.state]}
        </span>
      </div>
      <p class="alert-row__message">{alert.message}</p>
      <p class="alert-row__meta muted">
        since{" "}
        <time dateTime={formatIso(alert.startsAt, timeZone)} title={formatDateTime(alert.startsAt, timeZone, locale)}>
          {since(alert.startsAt, now)}
        </time>
        {alert.value !== null && <> · value {alert.value}</>}
        {alert.threshold && (
          <>
            {" "}
            · alert {alert.threshold.op} {alert.threshold.value}
            {alert.threshold.recover !== alert.threshold.value && <>, resolves past {alert.threshold.recover}</>}
          </>
        )}
        {alert.runbookUrl && (
          <>
            {" "}
            ·{" "}
            <a href={alert.runbookUrl} rel="noopener noreferrer" target="_blank">
              runbook
            </a>
          </>
        )}
      </p>
      {alert.acknowledged && alert.ack && (
        <p class="alert-row__ack" data-testid="acknowledged">
          ✓ Acknowledged by {alert.ack.name ?? alert.ack.by}: “{alert.ack.comment}”
          {alert.ack.expiresAt && <> until {formatDateTime(alert.ack.expiresAt, timeZone, locale)}</>}
        </p>
      )}
      {alert.silencedBy.length > 0 && <p class="alert-row__ack">🔕 Silenced: still tracked, not notified</p>}
      {canAct && open === null && (
        <div class="alert-row__actions">
          {!alert.acknowledged && (
            <button type="button" class="button button--small" onClick={() => (setOpen("ack"), setHours("0"))}>
              Acknowledge
            </button>
          )}
          {alert.silencedBy.length === 0 && (
            <button type="button" class="button button--small" onClick={() => (setOpen("silence"), setHours("2"))}>
              Silence
            </button>
          )}
        </div>
      )}
      {open && (
        <form class="inline-form" onSubmit={submit} data-testid={`${open}-form`}>
          <label>
            Comment
            <input required value={comment} maxLength={500} onInput={(e) => setComment((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            {open === "ack" ? "Until" : "For"}
            <select value={hours} onChange={(e) => setHours((e.target as HTMLSelectElement).value)}>
              {open === "ack" && <option value="0">it resolves</option>}
              <option value="1">1 hour</option>
              <option value="2">2 hours</option>
              <option value="4">4 hours</option>
              <option value="24">24 hours</option>
            </select>
          </label>
          <button type="submit" class="button button--primary button--small" disabled={busy}>
            {open === "ack" ? "Acknowledge" : "Silence"}
          </button>
          <button type="button" class="button button--small" onClick={() => setOpen(null)}>
            Cancel
          </button>
          <Refusal error={error} />
        </form>
      )}
    </li>
  );
}

/** Load once (and again on `reload`): the data, or the refusal to show. */
function useLoaded<T>(load: () => Promise<T>) {
  const { api } = useApp();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const reload = async () => {
    try {
      setData(await load());
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => void reload(), [api]);
  return { data, error, setError, reload };
}

function Table({ testId, headers, children }: { testId: string; headers: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class="table" data-testid={testId}>
        <thead>
          <tr>
            {headers.map((h) => (
              <th key={h}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

// ---------------------------------------------------------------- history

function AlertHistory() {
  const { api, locale, timeZone } = useApp();
  const [pages, setPages] = useState<AlertPage[]>([]);
  const next = pages.length ? pages[pages.length - 1]!.cursor : null;
  const { error } = useLoaded(async () => setPages([(await alertsApi.list(api, { state: "all", limit: 50 })).data]));
  const more = async () => {
    const page = (await alertsApi.list(api, { state: "all", limit: 50, cursor: next })).data;
    setPages((prev) => [...prev, page]);
  };

  return (
    <div class="panel">
      <Refusal error={error} />
      <Table testId="alert-history" headers={["Severity", "Alert", "State", "Started", "Ended", "Message"]}>
        {pages
          .flatMap((p) => p.alerts)
          .map((a) => (
            <tr key={a.id}>
              <td>
                <SeverityBadge severity={a.severity} />
              </td>
              <td>
                {a.name} <span class="muted">{where(a.labels)}</span>
              </td>
              <td>{STATE_WORD[a.state]}</td>
              <td>{formatDateTime(a.startsAt, timeZone, locale)}</td>
              <td>{a.endsAt ? formatDateTime(a.endsAt, timeZone, locale) : "–"}</td>
              <td>{a.message}</td>
            </tr>
          ))}
      </Table>
      {next && (
        <button type="button" class="button" onClick={() => void more()}>
          Load more
        </button>
      )}
    </div>
  );
}

// ---------------------------------------------------------------- silences

function Silences() {
  const { api, user, locale, timeZone } = useApp();
  const { data, error, setError, reload } = useLoaded(async () => (await alertsApi.silences(api)).data.silences);
  const canAct = hasRole(user.role, "operator");
  return (
    <div class="panel">
      <Refusal error={error} />
      <p class="muted">A silenced alert still changes state and is listed; it is only not notified.</p>
      {data && data.length === 0 && <p>No silences.</p>}
      <ul class="plain-list">
        {(data ?? []).map((s: Silence) => (
          <li key={s.id} data-testid="silence">
            <strong>{s.active ? "Active" : s.endsAt < Date.now() ? "Expired" : "Scheduled"}</strong>{" "}
            {s.matchers.map((m) => `${m.name}${m.op ?? "="}${m.value}`).join(", ")} · until{" "}
            {formatDateTime(s.endsAt, timeZone, locale)} · “{s.comment}”{" "}
            <span class="muted">by {s.createdByName ?? s.createdBy}</span>
            {canAct && s.active && (
              <button
                type="button"
                class="button button--small"
                onClick={async () => {
                  await alertsApi.expireSilence(api, s.id).catch(setError);
                  await reload();
                }}
              >
                Expire now
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

// ---------------------------------------------------------------- rules

function Rules() {
  const { api, user } = useApp();
  const { data: rules, error, setError, reload } = useLoaded(async () => (await alertsApi.rules(api)).data.rules);
  const [editing, setEditing] = useState<{ id: string | null; text: string } | null>(null);
  const isAdmin = hasRole(user.role, "admin");

  const save = async (e: Event) => {
    e.preventDefault();
    if (!editing) return;
    setError(null);
    let body: unknown;
    try {
      body = JSON.parse(editing.text);
    } catch (err) {
      setError(`The rule is not valid JSON: ${(err as Error).message}`);
      return;
    }
    try {
      await alertsApi.saveRule(api, editing.id, body);
      setEditing(null);
      await reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div class="panel">
      <Refusal error={error} />
      {isAdmin && !editing && (
        <div class="toolbar">
          <span>New rule:</span>
          {Object.entries(RULE_TEMPLATES).map(([label, body]) => (
            <button
              key={label}
              type="button"
              class="button button--small"
              onClick={() => setEditing({ id: null, text: JSON.stringify(body, null, 2) })}
            >
              {label}
            </button>
          ))}
        </div>
      )}
      {editing && (
        <form class="rule-editor" onSubmit={save} data-testid="rule-editor">
          <label>
            {editing.id ? "Edit the rule" : "The new rule"} (JSON, as the API takes it; see README “Alerts and
            notifications”)
            <textarea
              rows={14}
              spellcheck={false}
              value={editing.text}
              onInput={(e) => setEditing({ ...editing, text: (e.target as HTMLTextAreaElement).value })}
            />
          </label>
          <button type="submit" class="button button--primary">
            Save
          </button>{" "}
          <button type="button" class="button" onClick={() => (setEditing(null), setError(null))}>
            Cancel
          </button>
        </form>
      )}
      <Table testId="rules" headers={["Rule", "Severity", "Watches", "Category", ...(isAdmin ? [""] : [])]}>
        {(rules ?? []).map((r: Rule) => (
          <tr key={r.id} data-testid="rule">
            <td>
              {r.name} {!r.enabled && <span class="muted">(off)</span>}
            </td>
            <td>
              <SeverityBadge severity={r.severity} />
            </td>
            <td>{describeRule(r)}</td>
            <td>{r.category}</td>
            {isAdmin && (
              <td class="actions">
                <button
                  type="button"
                  class="button button--small"
                  onClick={() => setEditing({ id: r.id, text: JSON.stringify(editableRule(r), null, 2) })}
                >
                  Edit
                </button>{" "}
                <button
                  type="button"
                  class="button button--small"
                  onClick={async () => {
                    if (!confirm(`Remove the rule “${r.name}”? Its open alerts resolve.`)) return;
                    await alertsApi.deleteRule(api, r.id).catch(setError);
                    await reload();
                  }}
                >
                  Remove
                </button>
              </td>
            )}
          </tr>
        ))}
      </Table>
    </div>
  );
}

// ---------------------------------------------------------------- channels (admin)

function Channels() {
  const { api } = useApp();
  const { data: channels, error, setError, reload } = useLoaded(async () => (await alertsApi.channels(api)).data.channels);
  const [tested, setTested] = useState<Record<string, string>>({});
  const [form, setForm] = useState({ type: "slack", name: "", url: "", secret: "", address: "" });

  const add = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const body =
      form.type === "email"
        ? { name: form.name, type: "email", address: form.address }
        : form.type === "webhook"
          ? { name: form.name, type: "webhook", url: form.url, secret: form.secret }
          : { name: form.name, type: "slack", url: form.url };
    try {
      await alertsApi.saveChannel(api, null, body);
      setForm({ ...form, name: "", url: "", secret: "", address: "" });
      await reload();
    } catch (err) {
      setError(err);
    }
  };

  const test = async (c: Channel) => {
    setTested({ ...tested, [c.id]: "sending…" });
    try {
      const out = await alertsApi.testChannel(api, c.id);
      const text =
        out?.status === "delivered"
          ? `delivered (HTTP ${out.httpStatus})`
          : out?.status === "published"
            ? "published to the topic; check the inbox (locally: .data/outbox/)"
            : `failed: ${out?.error ?? "unknown"}`;
      setTested((t) => ({ ...t, [c.id]: text }));
    } catch (err) {
      setTested((t) => ({ ...t, [c.id]: err instanceof Error ? err.message : "failed" }));
    }
  };

  const input = (field: keyof typeof form) => (e: Event) => setForm({ ...form, [field]: (e.target as HTMLInputElement).value });

  return (
    <div class="panel">
      <Refusal error={error} />
      <p class="muted">
        Webhook URLs and secrets are write-only: they are used, never shown again. A rule without a channel list
        notifies every channel.
      </p>
      <ul class="plain-list" data-testid="channels">
        {(channels ?? []).map((c: Channel) => (
          <li key={c.id} data-testid="channel">
            <strong>{c.name}</strong> <span class="muted">{c.type}</span> · {c.address ?? c.target}{" "}
            <button type="button" class="button button--small" onClick={() => void test(c)}>
              Send test
            </button>{" "}
            <button
              type="button"
              class="button button--small"
              onClick={async () => {
                if (!confirm(`Remove the channel “${c.name}”?`)) return;
                await alertsApi.deleteChannel(api, c.id).catch(setError);
                await reload();
              }}
            >
              Remove
            </button>{" "}
            {tested[c.id] && <span data-testid="test-outcome">{tested[c.id]}</span>}
          </li>
        ))}
      </ul>
      <form class="inline-form" onSubmit={add} data-testid="channel-form">
        <label>
          Type
          <select value={form.type} onChange={input("type")}>
            <option value="slack">Slack incoming webhook</option>
            <option value="webhook">Webhook (signed JSON)</option>
            <option value="email">Email</option>
          </select>
        </label>
        <label>
          Name
          <input required value={form.name} onInput={input("name")} />
        </label>
        {form.type === "email" ? (
          <label>
            Address
            <input required type="email" value={form.address} onInput={input("address")} />
          </label>
        ) : (
          <label>
            URL
            <input required type="url" value={form.url} onInput={input("url")} autoComplete="off" />
          </label>
        )}
        {form.type === "webhook" && (
          <label>
            Signing secret
            <input required type="password" value={form.secret} onInput={input("secret")} autoComplete="new-password" />
          </label>
        )}
        <button type="submit" class="button button--primary">
          Add channel
        </button>
      </form>
    </div>
  );
}

// ---------------------------------------------------------------- notification log (admin)

function NotificationLog() {
  const { api, locale, timeZone } = useApp();
  const { data: log, error } = useLoaded(async () => (await alertsApi.deliveries(api)).data.deliveries);
  return (
    <div class="panel">
      <Refusal error={error} />
      <Table testId="deliveries" headers={["When", "Channel", "What", "Outcome"]}>
        {(log ?? []).map((d: Delivery) => (
          <tr key={d.id}>
            <td>{formatDateTime(d.at, timeZone, locale)}</td>
            <td>
              {d.channelName} <span class="muted">{d.channelType}</span>
            </td>
            <td>
              {d.kind} {d.ruleName ?? ""} {d.alerts ? `(${d.alerts})` : ""}
            </td>
            <td>
              {d.status}
              {d.attempts > 1 && ` after ${d.attempts} attempts`}
              {d.error && <span class="muted"> · {d.error}</span>}
            </td>
          </tr>
        ))}
      </Table>
    </div>
  );
}
