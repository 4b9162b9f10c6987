// The incidents API (README "Incidents"): list with filters, one incident with its timeline,
// declare, change (with If-Match of its ETag), notes, revenue impact, what changed before.

import type { ApiClient } from "./client";
import type { Severity } from "./alerts";
import type { FeedEntry } from "./timeline";

export type IncidentStatus = "open" | "acknowledged" | "investigating" | "mitigated" | "resolved" | "closed";
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ["open", "acknowledged", "investigating", "mitigated", "resolved", "closed"];

export interface Who {
  subject: string;
  name?: string | null;
}

export interface TimelineEntry {
  at: number;
  kind: string;
  who: Who;
  from?: string | null;
  to?: string | null;
  text?: string;
  applied?: boolean;
  ref?: Record<string, unknown>;
}

export interface Incident {
  id: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  service: string;
  source: "cloudwatch" | "alert" | "insight" | "manual";
  description?: string;
  assignee: string | null;
  createdAt: number;
  updatedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  closedAt?: number | null;
  links: {
    alarms?: { arn: string; name: string; consoleUrl: string; kind: string }[];
    alerts?: { id: string; ruleId?: string; name?: string; message?: string }[];
    insights?: { id: string; type?: string; message?: string }[];
  };
  version: number;
}

export interface IncidentDetail extends Incident {
  timeline: TimelineEntry[];
  allowedTransitions: IncidentStatus[];
}

export interface ImpactHour {
  hour: number;
  revenue: number;
  orders: number;
  revenueBefore: number;
  ordersBefore: number;
  counted: boolean;
}

export interface Impact {
  currency: string;
  minOrders: number;
  ongoing: boolean;
  hours: ImpactHour[];
  countedHours: number;
  revenue: number;
  revenueBefore: number;
  orders: number;
  ordersBefore: number;
  revenueDelta: number;
  revenueDeltaPercent: number | null;
  enoughVolume: boolean;
}

export type { FeedEntry } from "./timeline";

export interface IncidentStats {
  since: number;
  count: number;
  bySeverity: Record<Severity, number>;
  byStatus: Record<IncidentStatus, number>;
  mttaMs: { median: number | null; p90: number | null; n: number };
  mttrMs: { median: number | null; p90: number | null; n: number };
}

type Opts = { signal?: AbortSignal };
const one = (id: string) => `/api/incidents/${encodeURIComponent(id)}`;

export const incidentsApi = {
  list: (api: ApiClient, q: { status?: string; severity?: string; service?: string; limit?: number }, o?: Opts) =>
    api.get<{ incidents: Incident[]; cursor: string | null }>(
      "/api/incidents",
      { status: q.status || undefined, severity: q.severity || undefined, service: q.service || undefined, limit: q.limit ?? 100 },
      o,
    ),
  detail: (api: ApiClient, id: string, o?: Opts) => api.get<IncidentDetail>(one(id), undefined, o),
  declare: (api: ApiClient, body: { title: string; severity: Severity; service: string; description: string }) =>
    api.write<Incident>("POST", "/api/incidents", body),
  change: (api: ApiClient, id: string, etag: string, body: Partial<Pick<Incident, "status" | "assignee" | "severity" | "title">>) =>
    api.write<Incident>("PATCH", one(id), body, { headers: { "If-Match": etag } }),
  note: (api: ApiClient, id: string, text: string) => api.write<Incident>("POST", `${one(id)}/notes`, { text }),
  impact: (api: ApiClient, id: string, o?: Opts) => api.get<Impact>(`${one(id)}/impact`, undefined, o),
  stats: (api: ApiClient, o?: Opts) => api.get<IncidentStats>("/api/incidents/stats", undefined, o),
  promoteInsight: (api: ApiClient, insightId: string) => api.write<Incident>("POST", `/api/insights/${encodeURIComponent(insightId)}/incident`, {}),
  before: (api: ApiClient, id: string, o?: Opts) => api.get<{ entries: FeedEntry[]; since: number; until: number }>(`${one(id)}/before`, undefined, o),
};
