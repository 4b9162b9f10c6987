// The API contract the SPA consumes (see DESIGN.md "The API").
// Times are epoch milliseconds, money is integer minor units plus an ISO 4217 code.

export type Period = "24h" | "7d" | "30d";
export const PERIODS: readonly Period[] = ["24h", "7d", "30d"];

export interface Metric {
  value: number;
  previous: number;
  /** Percent change against the previous period; null when the previous value is 0. */
  change: number | null;
}

export interface Kpis {
  period: Period;
  currency: string;
  timezone: string;
  from: number;
  to: number;
  /** Minor units. */
  revenue: Metric;
  orders: Metric;
  /** Average order value, minor units. */
  aov: Metric;
  /** Fraction 0..1 (orders ÷ sessions). */
  conversion: Metric;
}

export interface RevenueDay {
  /** Calendar date in the team time zone, YYYY-MM-DD. */
  date: string;
  start: number;
  /** Today: so far. */
  revenue: number;
  /** The same weekday a week before, the whole day. */
  previousWeek: number;
  /** Today only: the day is still running. */
  partial?: boolean;
  /** Today only: last week's same day up to the same time of day (`asOf`). */
  previousWeekSoFar?: number;
}

export interface Revenue {
  currency: string;
  timezone: string;
  /** The minute today's numbers run to, epoch ms. */
  asOf?: number;
  /** Oldest first, ending today (team time zone). */
  days: RevenueDay[];
}

export interface FeatureAdoption {
  feature: string;
  users: number;
  /** Fraction 0..1 of monthly active users. */
  share: number;
}

export interface Users {
  timezone: string;
  dau: number;
  mau: number;
  sessions: number;
  avgSessionDurationMs: number;
  featureAdoption: FeatureAdoption[];
}

export interface Product {
  productId: string;
  productName: string;
  downloads: number;
  revenue: number;
}

export interface Products {
  window: Period;
  currency: string;
  products: Product[];
}

export interface Purchase {
  orderId: string;
  productId: string;
  productName: string;
  amount: number;
  currency: string;
  userId: string;
  sessionId: string;
  timestamp: number;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  refused: unknown[];
}

/** The error body every API error carries. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown[] };
}

/** What the deployment writes to /config.json next to index.html. */
export interface SpaConfig {
  /** "" means same origin as the SPA; otherwise e.g. "https://api.example.com". */
  apiBaseUrl: string;
  /** The sign-in settings (see src/auth/config.ts); null when config.json has none. */
  auth: unknown;
  /** The WebSocket API for live notices (chalicelib/live); absent: the SPA polls. */
  websocketUrl?: string | null;
}

// ---- who is signed in ----

/** What a signed-in user may do; each role includes the ones before it. */
export type Role = "viewer" | "operator" | "admin";

/** GET /api/me */
export interface Me {
  sub: string;
  name: string | null;
  email: string | null;
  role: Role | null;
}

// ---- metrics (docs/metrics.md has every metric name, unit and meaning) ----

export type HostKind = "vm" | "webapp";
/** online; stale after 3 missed sampling intervals; offline after 30. */
export type HostStatus = "online" | "stale" | "offline";

export interface HostInfo {
  host: string;
  kind: HostKind;
  /** Time of the latest sample, epoch ms. */
  lastSeen: number;
  /** The sampling interval the API estimated from the last two samples, ms. */
  intervalMs: number;
  status: HostStatus;
  /** Latest value of every metric the host sent (metric name → number). */
  values: Record<string, number>;
  /** vm only: "platform", "hostname". */
  meta: Record<string, string>;
}

export interface Hosts {
  /** Sorted by kind, then host. */
  hosts: HostInfo[];
  /** The team time zone; not sent by the API yet (the business endpoints carry it). */
  timezone?: string;
}

export interface MetricSeries {
  host: string;
  metric: string;
  /** Step starts, epoch ms, oldest first; the same grid for every series of one answer. */
  t: number[];
  /** null = no sample in that step: a gap, not 0. */
  avg: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
}

export interface MetricsAnswer {
  from: number;
  to: number;
  resolution: "10s" | "1m" | "1h";
  step: number;
  series: MetricSeries[];
}

export interface MetricsQuery {
  hosts: string[];
  metrics: string[];
  from: number;
  to: number;
  /** ms, a multiple of 10 000; omitted: the API picks the finest giving ≤ ~1,000 points. */
  step?: number;
  kind?: HostKind;
}

// ---- insights (GET /api/insights, POST /api/insights/{id}/feedback) ----

export type Severity = "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
export const SEVERITIES: readonly Severity[] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
export type InsightType = "anomaly" | "prediction" | "pattern";
export const INSIGHT_TYPES: readonly InsightType[] = ["anomaly", "prediction", "pattern"];
export type Verdict = "confirm" | "dismiss";

export interface InsightForecast {
  limit: number;
  /** Epoch ms: when the fitted line crosses the limit, and the interval's ends. */
  etaMs: number;
  earliestMs: number;
  latestMs: number;
  slopePerHour: number;
  /** The fitted value at `atMs`, the last point. */
  current: number;
  atMs: number;
}

export interface Insight {
  id: string;
  type: InsightType;
  severity: Severity;
  /** 0–100 */
  confidence: number;
  message: string;
  affectedHosts: string[];
  metric: string;
  startsAt: number;
  /** null while the insight is open */
  endsAt: number | null;
  /** 0–1 */
  score: number;
  feedback: Verdict | null;
  /** [epoch ms, value], oldest first: what to draw. */
  points: [number, number][];
  forecast?: InsightForecast;
  withdrawn?: boolean;
}

export interface InsightsPage {
  insights: Insight[];
  cursor: string | null;
}

export interface FeedbackAnswer {
  insight: Insight;
  series?: { host: string; metric: string; dismissals: number; threshold: number };
}
