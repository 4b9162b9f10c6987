// The alerting API (README "Alerts and notifications"): alerts, acknowledgements, silences,
// rules, channels and the notification log. Times are epoch ms; severities are the product's
// one vocabulary.

import type { ApiClient } from "./client";

export type Severity = "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
export const SEVERITIES: readonly Severity[] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
export type AlertState = "pending" | "firing" | "nodata" | "resolved";

export interface Ack {
  by: string;
  name: string | null;
  at: number;
  comment: string;
  expiresAt: number | null;
}

export interface Alert {
  id: string;
  ruleId: string;
  name: string;
  labels: Record<string, string>;
  state: AlertState;
  severity: Severity;
  /** Seed 000's type. */
  type: "error" | "warning" | "info" | "success";
  category: "business" | "system";
  message: string;
  value: number | null;
  threshold?: { op: string; value: number; recover: number };
  startsAt: number;
  firingAt?: number | null;
  endsAt: number | null;
  acknowledged: boolean;
  ack: Ack | null;
  silencedBy: string[];
  runbookUrl?: string | null;
}

export interface HistoryEntry {
  at: number;
  from: string;
  to: string;
  value?: number | null;
  message?: string;
  by?: string;
  name?: string | null;
  comment?: string;
}

export interface AlertPage {
  alerts: Alert[];
  cursor: string | null;
}

export interface AlertCounts {
  firing: number;
  pending: number;
  firingBySeverity: Record<Severity, number>;
  pendingBySeverity: Record<Severity, number>;
}

export interface Matcher {
  name: string;
  value: string;
  op?: "=" | "!=" | "=~" | "!~";
}

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
  createdByName?: string | null;
  active: boolean;
}

/** A rule as stored: the fields of its kind plus these. */
export interface Rule {
  id: string;
  name: string;
  kind: "threshold" | "change" | "absence" | "insight" | "probe";
  severity: Severity;
  category: "business" | "system";
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  [field: string]: unknown;
}

export interface Channel {
  id: string;
  name: string;
  type: "slack" | "webhook" | "email";
  /** Where it sends (scheme and host); the URL itself is a secret and never comes back. */
  target?: string;
  address?: string;
  secretSet?: boolean;
}

export interface TestOutcome {
  status: string;
  attempts?: number;
  httpStatus?: number | null;
  error?: string | null;
}

export interface Delivery {
  id: string;
  at: number;
  notificationId: string;
  status: "delivered" | "failed" | "by-topic";
  attempts: number;
  httpStatus: number | null;
  error: string | null;
  channelName: string;
  channelType: string;
  kind: string;
  ruleName: string | null;
  alerts: number;
}

type Opts = { signal?: AbortSignal };

/** The alerts in some states (firing, pending, ...), each state's newest `limit`, together. */
async function inStates(api: ApiClient, states: readonly AlertState[], limit: number, o?: Opts): Promise<Alert[]> {
  const pages = await Promise.all(states.map((state) => api.get<AlertPage>("/api/alerts", { state, limit }, o)));
  return pages.flatMap((p) => p.data.alerts);
}

export const alertsApi = {
  list: (api: ApiClient, q: { state?: string; severity?: string; limit?: number; cursor?: string | null }, o?: Opts) =>
    api.get<AlertPage>("/api/alerts", { state: q.state, severity: q.severity, limit: q.limit, cursor: q.cursor ?? undefined }, o),
  inStates,
  counts: (api: ApiClient, o?: Opts) => api.get<AlertCounts>("/api/alert-counts", undefined, o),
  detail: (api: ApiClient, id: string, o?: Opts) =>
    api.get<Alert & { history: HistoryEntry[] }>(`/api/alerts/${encodeURIComponent(id)}`, undefined, o),
  ack: (api: ApiClient, id: string, comment: string, expiresAt: number | null) =>
    api.write<Alert>("POST", `/api/alerts/${encodeURIComponent(id)}/ack`, expiresAt ? { comment, expiresAt } : { comment }),
  silences: (api: ApiClient, o?: Opts) => api.get<{ silences: Silence[] }>("/api/silences", undefined, o),
  silence: (api: ApiClient, body: { matchers: Matcher[]; endsAt: number; comment: string }) =>
    api.write<Silence>("POST", "/api/silences", body),
  expireSilence: (api: ApiClient, id: string) => api.write<Silence>("DELETE", `/api/silences/${encodeURIComponent(id)}`),
  rules: (api: ApiClient, o?: Opts) => api.get<{ rules: Rule[] }>("/api/alert-rules", undefined, o),
  saveRule: (api: ApiClient, id: string | null, body: unknown) =>
    id ? api.write<Rule>("PUT", `/api/alert-rules/${encodeURIComponent(id)}`, body) : api.write<Rule>("POST", "/api/alert-rules", body),
  deleteRule: (api: ApiClient, id: string) => api.write<null>("DELETE", `/api/alert-rules/${encodeURIComponent(id)}`),
  channels: (api: ApiClient, o?: Opts) => api.get<{ channels: Channel[] }>("/api/channels", undefined, o),
  saveChannel: (api: ApiClient, id: string | null, body: unknown) =>
    id ? api.write<Channel>("PUT", `/api/channels/${encodeURIComponent(id)}`, body) : api.write<Channel>("POST", "/api/channels", body),
  deleteChannel: (api: ApiClient, id: string) => api.write<null>("DELETE", `/api/channels/${encodeURIComponent(id)}`),
  testChannel: (api: ApiClient, id: string) => api.write<TestOutcome>("POST", `/api/channels/${encodeURIComponent(id)}/test`, {}),
  deliveries: (api: ApiClient, o?: Opts) => api.get<{ deliveries: Delivery[]; cursor: string | null }>("/api/notifications", { limit: 50 }, o),
};
