// Seed 000's alerts panel on the Overview: what fires or is pending now, most urgent first,
// with a link to the Alerts console. It polls on its own, so the Overview's rounds stay as
// they are.

import { useState } from "preact/hooks";
import { alertsApi, type Alert } from "../api/alerts";
import { useApp } from "../context";
import { STATE_WORD, byUrgency, since, where } from "../lib/alerts";
import { usePoller } from "../lib/usePoller";
import { SeverityBadge } from "./SeverityBadge";
import { useLiveTopics } from "../lib/useLive";

const SHOWN = 5;

export function AlertsPanel() {
  const { api, refreshMs } = useApp();
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [failed, setFailed] = useState(false);

  const poller = usePoller(async (signal) => {
    try {
      setAlerts(byUrgency(await alertsApi.inStates(api, ["firing", "pending"], SHOWN, { signal })));
      setFailed(false);
    } catch {
      if (!signal.aborted) setFailed(true);
    }
  }, refreshMs);
  useLiveTopics(["alerts"], () => poller.refresh());

  const now = Date.now();
  return (
    <section class="panel alerts-panel" aria-labelledby="alerts-title" data-testid="alerts-panel">
      <h2 id="alerts-title" class="panel__title">
        Alerts <span class="muted">· firing and pending</span>
      </h2>
      {alerts === null && !failed && <p class="muted">Loading…</p>}
      {failed && alerts === null && <p class="muted">Alerts could not be loaded.</p>}
      {alerts !== null && alerts.length === 0 && <p class="muted">Nothing is firing. Rules are checked every minute.</p>}
      {alerts !== null && alerts.length > 0 && (
        <ul>
          {alerts.slice(0, SHOWN).map((a) => (
            <li key={a.id} data-state={a.state}>
              <SeverityBadge severity={a.severity} />
              <span>
                <strong>{a.name}</strong> <span class="muted">{where(a.labels)}</span>
              </span>
              <span class="muted">
                {STATE_WORD[a.state]} · {since(a.startsAt, now)}
              </span>
              <p class="alerts-panel__message">{a.message}</p>
            </li>
          ))}
        </ul>
      )}
      <p>
        <a href="#/alerts">All alerts →</a>
      </p>
    </section>
  );
}

/** The navigation's count of firing alerts (nothing while none fires or it is unknown). */
export function FiringCount() {
  const { api, refreshMs } = useApp();
  const [firing, setFiring] = useState(0);
  const counts = usePoller(async (signal) => {
    try {
      setFiring((await alertsApi.counts(api, { signal })).data.firing);
    } catch {
      // the count is a hint: the Alerts page says what failed
    }
  }, refreshMs * 3);
  useLiveTopics(["alerts"], () => counts.refresh());
  if (!firing) return null;
  return (
    <span class="nav__count" data-testid="firing-count" aria-label={`${firing} firing`}>
      {firing}
    </span>
  );
}
