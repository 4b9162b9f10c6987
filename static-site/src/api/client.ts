// The one API client of the SPA.
//
// - Base URL comes from /config.json (written by the deployment), never from the build.
// - Conditional GETs: the client keeps the last ETag and body per URL and sends If-None-Match;
//   a 304 hands back the very same body object, so an unchanged dashboard re-renders nothing.
//   (The cache lives as long as the page, which is as long as the tokens: sign-out empties it.)
// - Every failure becomes one ApiError, mapped here and nowhere else, and the client publishes
//   the API's reachability ("connection") so one banner can show it for the whole app.
// - Authentication: `authorization()` gives each request its Authorization header (the sign-in
//   session in src/auth renews tokens there), and `onUnauthorized` hears every 401.

import type {
  ErrorBody,
  Hosts,
  IngestResult,
  Kpis,
  Me,
  MetricsAnswer,
  MetricsQuery,
  Period,
  Products,
  Purchase,
  Revenue,
  SpaConfig,
  Users,
} from "./types";

export type ApiErrorKind =
  /** The request never got an HTTP answer (API down, DNS, CORS, connection refused). */
  | "network"
  /** No answer within the client's timeout. */
  | "timeout"
  /** 401: the caller must sign in (again). */
  | "unauthorized"
  /** Any other 4xx/5xx answer; `code`/`message` come from the API's error body when present. */
  | "http"
  /** A 2xx answer whose body is not the JSON we expect. */
  | "bad_response";

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number | null;
  readonly code: string;
  readonly details: unknown[];
  readonly url: string;

  constructor(init: {
    kind: ApiErrorKind;
    message: string;
    url: string;
    status?: number | null;
    code?: string;
    details?: unknown[];
  }) {
    super(init.message);
    this.name = "ApiError";
    this.kind = init.kind;
    this.status = init.status ?? null;
    this.code = init.code ?? init.kind;
    this.details = init.details ?? [];
    this.url = init.url;
  }

  /** True when the API itself is unreachable or failing, as opposed to refusing this request. */
  get isOutage(): boolean {
    return (
      this.kind === "network" ||
      this.kind === "timeout" ||
      this.kind === "bad_response" ||
      (this.kind === "http" && this.status !== null && this.status >= 500)
    );
  }
}

export interface Connection {
  state: "unknown" | "ok" | "down";
  /** The outage that made it "down". */
  error: ApiError | null;
  /** When the last successful answer (2xx/304) arrived, epoch ms. */
  lastOkAt: number | null;
  /** When the current outage started, epoch ms. */
  downSince: number | null;
}

export interface Fetched<T> {
  data: T;
  etag: string | null;
  /** True when the API answered 304 and `data` is the body we already had (same object). */
  notModified: boolean;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  /** "" for same origin, else an absolute origin (+ optional path prefix). */
  baseUrl: string;
  fetch?: FetchLike;
  timeoutMs?: number;
  /** Returns the Authorization header value (e.g. "Bearer …") or null; called before each request. */
  authorization?: () => string | null | Promise<string | null>;
  /** Called once per 401 answer, before the ApiError is thrown. */
  onUnauthorized?: (error: ApiError) => void;
  now?: () => number;
  /**
   * How many URLs' ETag + body to keep (least recently used go first). Time-windowed URLs
   * (metrics from/to) change every few seconds; without a bound a page left open for a day
   * would keep every answer it ever got.
   */
  maxCacheEntries?: number;
}

interface CacheEntry {
  etag: string;
  body: unknown;
}

type Params = Record<string, string | number | boolean | null | undefined>;

export function joinUrl(baseUrl: string, path: string, params?: Params): string {
  const base = baseUrl.replace(/\/+$/, "");
  const p = path.startsWith("/") ? path : `/${path}`;
  let url = `${base}${p}`;
  if (params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null) q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += `${url.includes("?") ? "&" : "?"}${s}`;
  }
  return url;
}

function isAbort(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { name?: string }).name === "AbortError";
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly authorization?: ApiClientOptions["authorization"];
  private readonly onUnauthorized?: ApiClientOptions["onUnauthorized"];
  private readonly now: () => number;
  private readonly maxCacheEntries: number;
  /** Insertion order is recency order: a hit or a store moves the URL to the end. */
  private readonly cache = new Map<string, CacheEntry>();
  private readonly listeners = new Set<(c: Connection) => void>();
  private conn: Connection = { state: "unknown", error: null, lastOkAt: null, downSince: null };

  constructor(opts: ApiClientOptions) {
    this.baseUrl = opts.baseUrl;
    // Bind: calling window.fetch with another `this` throws "Illegal invocation".
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.authorization = opts.authorization;
    this.onUnauthorized = opts.onUnauthorized;
    this.now = opts.now ?? Date.now;
    this.maxCacheEntries = Math.max(1, opts.maxCacheEntries ?? 200);
  }

  // ---- connection state (one banner for the whole app) ----

  get connection(): Connection {
    return this.conn;
  }

  /** Subscribe to reachability changes; returns the unsubscribe function. */
  onConnection(listener: (c: Connection) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setConnection(next: Connection): void {
    const prev = this.conn;
    this.conn = next;
    // Tell listeners about a change of state or of the reason, not about every failed retry.
    if (prev.state !== next.state || prev.error?.message !== next.error?.message) {
      for (const l of this.listeners) l(next);
    }
  }

  private markOk(): void {
    const t = this.now();
    if (this.conn.state === "ok") {
      this.conn = { ...this.conn, lastOkAt: t };
      return;
    }
    this.setConnection({ state: "ok", error: null, lastOkAt: t, downSince: null });
  }

  private markDown(error: ApiError): void {
    this.setConnection({
      state: "down",
      error,
      lastOkAt: this.conn.lastOkAt,
      downSince: this.conn.state === "down" ? this.conn.downSince : this.now(),
    });
  }

  // ---- requests ----

  url(path: string, params?: Params): string {
    return joinUrl(this.baseUrl, path, params);
  }

  /** Conditional GET: 304 answers return the cached body (same object) with notModified = true. */
  async get<T>(path: string, params?: Params, opts: { signal?: AbortSignal } = {}): Promise<Fetched<T>> {
    const url = this.url(path, params);
    const cached = this.cache.get(url);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (cached) headers["If-None-Match"] = cached.etag;

    let res = await this.send(url, { method: "GET", headers }, opts.signal);
    if (res.status === 304) {
      if (cached) {
        this.markOk();
        this.remember(url, cached);
        return { data: cached.body as T, etag: cached.etag, notModified: true };
      }
      // A 304 for something we never cached: ask again, unconditionally.
      res = await this.send(url, { method: "GET", headers: { Accept: "application/json" } }, opts.signal);
    }
    const body = await this.readBody<T>(url, res);
    const etag = res.headers.get("ETag");
    if (etag) this.remember(url, { etag, body });
    else this.cache.delete(url);
    return { data: body, etag, notModified: false };
  }

  private remember(url: string, entry: CacheEntry): void {
    this.cache.delete(url);
    this.cache.set(url, entry);
    while (this.cache.size > this.maxCacheEntries) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }

  /** How many answers the conditional-request cache holds (for tests and diagnostics). */
  get cacheSize(): number {
    return this.cache.size;
  }

  async post<T>(path: string, payload: unknown, opts: { signal?: AbortSignal } = {}): Promise<T> {
    const url = this.url(path);
    const res = await this.send(
      url,
      {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      },
      opts.signal,
    );
    return this.readBody<T>(url, res);
  }

  /**
   * A write with any method (PUT, DELETE, POST): a JSON body in, JSON out, or null for an
   * answer without a body (204).
   */
  async write<T>(
    method: string,
    path: string,
    payload?: unknown,
    opts: { signal?: AbortSignal; headers?: Record<string, string> } = {},
  ): Promise<T | null> {
    const url = this.url(path);
    // (opts.headers: preconditions such as If-Match for a versioned resource)
    const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    const init = { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload) };
    const res = await this.send(url, init, opts.signal);
    if (res.status === 204) {
      this.markOk();
      return null;
    }
    return this.readBody<T>(url, res);
  }

  /** Forget cached bodies (e.g. after sign-out). */
  clearCache(): void {
    this.cache.clear();
  }

  /** fetch + timeout + auth header + mapping of every non-2xx/304 answer to ApiError. */
  private async send(url: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.authorization) {
      const value = await this.authorization();
      if (value) headers.set("Authorization", value);
    }

    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort();
    }, this.timeoutMs);
    const onCallerAbort = () => ctrl.abort();
    if (signal) {
      if (signal.aborted) ctrl.abort();
      else signal.addEventListener("abort", onCallerAbort, { once: true });
    }

    let res: Response;
    try {
      // no-store: the browser's HTTP cache stays out of the way; our own If-None-Match is
      // passed through and a 304 reaches us as a 304.
      res = await this.fetchImpl(url, { ...init, headers, signal: ctrl.signal, cache: "no-store" });
    } catch (e) {
      if (isAbort(e) && !timedOut) throw e; // the caller gave up: not an API failure
      const err = timedOut
        ? new ApiError({ kind: "timeout", url, message: `The API did not answer within ${Math.round(this.timeoutMs / 1000)} s.` })
        : new ApiError({ kind: "network", url, message: "Cannot reach the API." });
      this.markDown(err);
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onCallerAbort);
    }

    if (res.ok || res.status === 304) return res;

    const err = await errorFromResponse(url, res);
    if (err.isOutage) this.markDown(err);
    else this.markOk(); // the API answered: it is up, it just refused this request
    if (err.kind === "unauthorized") this.onUnauthorized?.(err);
    throw err;
  }

  private async readBody<T>(url: string, res: Response): Promise<T> {
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      const err = new ApiError({
        kind: "bad_response",
        url,
        status: res.status,
        message: "The API sent an answer that is not JSON.",
      });
      this.markDown(err);
      throw err;
    }
    this.markOk();
    return body as T;
  }

  // ---- typed endpoints ----

  /** The signed-in user: name, email and role. */
  me(opts?: { signal?: AbortSignal }) {
    return this.get<Me>("/api/me", undefined, opts);
  }

  kpis(period: Period, opts?: { signal?: AbortSignal }) {
    return this.get<Kpis>("/api/kpis", { period }, opts);
  }

  revenue(weeks = 1, opts?: { signal?: AbortSignal }) {
    return this.get<Revenue>("/api/revenue", { weeks }, opts);
  }

  users(opts?: { signal?: AbortSignal }) {
    return this.get<Users>("/api/users", undefined, opts);
  }

  products(window: Period, limit = 5, opts?: { signal?: AbortSignal }) {
    return this.get<Products>("/api/products", { limit, window }, opts);
  }

  /** Every host that has sent a sample, with its status and latest values. */
  hosts(opts?: { signal?: AbortSignal }) {
    return this.get<Hosts>("/api/hosts", undefined, opts);
  }

  /** Series of host × metric (at most 20 per call) on one time grid. */
  metrics(q: MetricsQuery, opts?: { signal?: AbortSignal }) {
    return this.get<MetricsAnswer>(
      "/api/metrics",
      { host: q.hosts.join(","), metric: q.metrics.join(","), from: q.from, to: q.to, step: q.step, kind: q.kind },
      opts,
    );
  }

  ingestPurchases(purchases: Purchase | Purchase[], opts?: { signal?: AbortSignal }) {
    return this.post<IngestResult>("/api/ingest/purchase", purchases, opts);
  }
}

/** Map a non-2xx answer to an ApiError, reading the API's `{"error": {...}}` body when present. */
export async function errorFromResponse(url: string, res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = res.statusText ? `${res.status} ${res.statusText}` : `HTTP ${res.status}`;
  let details: unknown[] = [];
  try {
    const body = (await res.json()) as Partial<ErrorBody>;
    if (body && typeof body.error === "object" && body.error) {
      if (typeof body.error.code === "string") code = body.error.code;
      if (typeof body.error.message === "string") message = body.error.message;
      if (Array.isArray(body.error.details)) details = body.error.details;
    }
  } catch {
    // Not JSON (a proxy's HTML error page, an empty body): keep the status line.
  }
  return new ApiError({
    kind: res.status === 401 ? "unauthorized" : "http",
    url,
    status: res.status,
    code,
    message,
    details,
  });
}

/**
 * Read the deployment's config.json (next to index.html). A missing or broken file falls back
 * to same-origin without sign-in settings, which the app then reports instead of showing data.
 */
export async function loadConfig(fetchImpl: FetchLike = (i, init) => globalThis.fetch(i, init), url = "config.json"): Promise<SpaConfig> {
  try {
    const res = await fetchImpl(url, { cache: "no-store", headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    const body = (await res.json()) as Partial<SpaConfig>;
    if (typeof body.apiBaseUrl !== "string") throw new Error(`${url}: apiBaseUrl is not a string`);
    const config: SpaConfig = { apiBaseUrl: body.apiBaseUrl, auth: body.auth ?? null };
    if (typeof body.websocketUrl === "string" && body.websocketUrl) config.websocketUrl = body.websocketUrl;
    return config;
  } catch (e) {
    console.warn("Mission Control: using the same origin for the API;", e);
    return { apiBaseUrl: "", auth: null };
  }
}
