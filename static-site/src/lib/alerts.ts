// Pure helpers of the Alerts console: order, wording, and what the forms send.

import type { Alert, AlertState, Matcher, Rule, Severity } from "../api/alerts";

const STATE_ORDER: Record<AlertState, number> = { firing: 0, pending: 1, nodata: 2, resolved: 3 };
const SEVERITY_RANK: Record<Severity, number> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3 };

/** Firing first, then pending, then no data, then resolved; within a state the most severe
 * first, then the newest. */
export function byUrgency(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort(
    (a, b) =>
      STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      b.startsAt - a.startsAt,
  );
}

/** Where an alert is: its host, probe or KPI (and the metric for host metrics). */
export function where(labels: Record<string, string>): string {
  if (labels.host && labels.metric) return `${labels.host} · ${labels.metric}`;
  return labels.host ?? labels.probe ?? labels.kpi ?? "";
}

/** A shape per severity, so colour is never the only carrier of meaning. */
export const SEVERITY_MARK: Record<Severity, string> = { CRITICAL: "◆", HIGH: "▲", MEDIUM: "■", LOW: "●" };

export const STATE_WORD: Record<AlertState, string> = {
  firing: "Firing",
  pending: "Pending",
  nodata: "No data",
  resolved: "Resolved",
};

/** "5 min", "2 h 10 min", "3 d": how long since `from`. */
export function since(from: number, now: number): string {
  const minutes = Math.max(0, Math.floor((now - from) / 60_000));
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** The matchers that silence exactly this alert's series: its rule and its labels. */
export function silenceMatchers(alert: Alert): Matcher[] {
  return [
    { name: "ruleId", value: alert.ruleId, op: "=" },
    ...Object.entries(alert.labels).map(([name, value]) => ({ name, value, op: "=" as const })),
  ];
}

/** A rule as the editor shows it: the body a PUT takes (no id, no bookkeeping). */
export function editableRule(rule: Rule): Record<string, unknown> {
  const { id: _id, createdAt: _c, updatedAt: _u, createdBy: _cb, updatedBy: _ub, category: _cat, ...body } = rule;
  return body;
}

/** One line saying what a rule watches: "cpu.percent > 90 on every host for 5m". */
export function describeRule(rule: Rule): string {
  const r = rule as Record<string, unknown>;
  const host = r.host === "*" || r.host === undefined ? "every host" : String(r.host);
  const forText = r.for && r.for !== "0s" ? ` for ${r.for}` : "";
  switch (rule.kind) {
    case "threshold":
      return r.source === "kpi"
        ? `${r.kpi} over ${r.window} ${r.op} ${r.value}${forText}`
        : `${r.metric} ${r.op} ${r.value} on ${host}${forText}`;
    case "change":
      return `${r.kpi} over ${r.window} ${r.op} ${r.percent}% against ${String(r.compare).replaceAll("_", " ")}${forText}`;
    case "absence":
      return `${host} silent for ${r.intervals} intervals${forText}`;
    case "probe":
      return `${r.probe === "*" || r.probe === undefined ? "any probe" : r.probe} down${forText}`;
    case "insight":
      return `an insight of ${r.minSeverity ?? "HIGH"} or more`;
    default:
      return rule.kind;
  }
}

/** Starting points for a new rule, one per kind, in the API's own words. */
export const RULE_TEMPLATES: Record<string, Record<string, unknown>> = {
  "Host metric threshold": {
    name: "CPU hot", kind: "threshold", source: "metric", host: "*", metric: "cpu.percent",
    op: ">", value: 90, for: "5m", recover: 80, severity: "HIGH",
  },
  "KPI change": {
    name: "Revenue drop", kind: "change", source: "kpi", kpi: "revenue", window: "1h",
    compare: "same_hour_last_week", op: "<", percent: -20, minVolume: 10, severity: "HIGH",
  },
  "KPI threshold": {
    name: "Conversion low", kind: "threshold", source: "kpi", kpi: "conversion", window: "6h",
    op: "<", value: 0.01, minVolume: 50, severity: "MEDIUM",
  },
  "Host silent": { name: "Host silent", kind: "absence", host: "*", intervals: 3, severity: "CRITICAL" },
  "Dependency down": { name: "Payments down", kind: "probe", probe: "*", for: "2m", severity: "CRITICAL" },
};

/** The API's refusal details as "field: message" lines. */
export function refusalLines(details: unknown[]): string[] {
  return details.flatMap((d) => {
    if (typeof d !== "object" || d === null) return [];
    const { field, message } = d as { field?: unknown; message?: unknown };
    return typeof field === "string" ? [`${field}: ${typeof message === "string" ? message : "refused"}`] : [];
  });
}
