// Incidents' display logic, pure: list order, ages, the actions a role is offered, the
// wording of timeline entries and of revenue impact.

import type { Severity } from "../api/alerts";
import type { Impact, Incident, IncidentStats, IncidentStatus, TimelineEntry } from "../api/incidents";
import { formatDuration } from "./format";

const SEVERITY_RANK: Record<Severity, number> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3 };
const ACTIVE: ReadonlySet<IncidentStatus> = new Set(["open", "acknowledged", "investigating", "mitigated"]);

export function isActive(status: IncidentStatus): boolean {
  return ACTIVE.has(status);
}

/** Open incidents first, by severity, then newest first; closed and resolved after, newest first. */
export function byUrgency(incidents: readonly Incident[]): Incident[] {
  return [...incidents].sort((a, b) => {
    const active = Number(isActive(b.status)) - Number(isActive(a.status));
    if (active) return active;
    if (isActive(a.status)) {
      const sev = SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
      if (sev) return sev;
    }
    return b.createdAt - a.createdAt;
  });
}

/** "3m", "2h 5m", "4d 1h": how long since `from`. */
export function age(from: number, now: number): string {
  const minutes = Math.max(0, Math.floor((now - from) / 60_000));
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

const ACTION_LABEL: Record<IncidentStatus, string> = {
  open: "Reopen",
  acknowledged: "Acknowledge",
  investigating: "Investigating",
  mitigated: "Mitigated",
  resolved: "Resolve",
  closed: "Close",
};

/** The buttons to show: the transitions the server offers this user (a viewer gets none). */
export function actions(allowed: readonly IncidentStatus[]): { status: IncidentStatus; label: string }[] {
  return allowed.map((status) => ({ status, label: ACTION_LABEL[status] }));
}

function who(entry: TimelineEntry): string {
  return entry.who?.name || entry.who?.subject || "someone";
}

/** One timeline entry as a sentence: who did what. */
export function describeEntry(e: TimelineEntry): string {
  switch (e.kind) {
    case "created":
      return `${who(e)} opened the incident${e.text ? `: ${e.text}` : ""}`;
    case "status":
      return `${who(e)} changed status ${e.from} → ${e.to}${e.text ? ` (${e.text})` : ""}`;
    case "assignee":
      return e.to ? `${who(e)} assigned it to ${e.to}` : `${who(e)} unassigned it`;
    case "severity":
      return `${who(e)} changed severity ${e.from} → ${e.to}`;
    case "title":
      return `${who(e)} renamed it to “${e.to}”`;
    case "note":
      return `${who(e)} noted: ${e.text}`;
    case "alarm":
      return `Alarm ${e.from ?? "?"} → ${e.to}${e.applied === false ? " (arrived late, not applied)" : ""}${e.text ? `: ${e.text}` : ""}`;
    case "alert":
      return `Alert joined: ${e.text ?? ""}`;
    case "alert-resolved":
      return `Alert resolved: ${e.text ?? ""}`;
    case "insight":
      return `${who(e)} promoted an insight: ${e.text ?? ""}`;
    default:
      return `${who(e)}: ${e.kind} ${e.text ?? ""}`.trim();
  }
}

/** The headline of a revenue impact: a loss or gain against last week, or why none is claimed. */
export function impactHeadline(impact: Impact, money: (minor: number) => string): string {
  if (!impact.enoughVolume) {
    return `Not enough volume to claim an impact: the same hours last week had fewer than ${impact.minOrders} orders.`;
  }
  const pct = impact.revenueDeltaPercent === null ? "" : ` (${impact.revenueDeltaPercent > 0 ? "+" : ""}${impact.revenueDeltaPercent}%)`;
  const word = impact.revenueDelta < 0 ? "below" : "above";
  return `${money(Math.abs(impact.revenueDelta))} ${word} the same hours last week${pct}: ${money(impact.revenue)} vs ${money(
    impact.revenueBefore,
  )}, ${impact.orders} vs ${impact.ordersBefore} orders${impact.ongoing ? " so far" : ""}.`;
}

/** "MTTA 4m (p90 12m) · MTTR 1h 5m (p90 3h) over 12 incidents in 30 days". */
export function statsLine(stats: IncidentStats): string {
  const part = (label: string, m: { median: number | null; p90: number | null }) =>
    m.median === null ? `${label} —` : `${label} ${formatDuration(m.median)} (p90 ${formatDuration(m.p90 ?? m.median)})`;
  return `${part("MTTA", stats.mttaMs)} · ${part("MTTR", stats.mttrMs)} over ${stats.count} incident${stats.count === 1 ? "" : "s"} in 30 days`;
}
