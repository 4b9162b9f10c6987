import { describe, expect, it, vi } from "vitest";
import { ApiClient, ApiError, joinUrl, loadConfig, type FetchLike } from "./client";

interface Call {
  url: string;
  init: RequestInit;
  headers: Headers;
}

/** A scripted fetch: each call takes the next answer (a Response, an Error to throw, or a function). */
function scripted(...answers: Array<Response | Error | ((c: Call) => Response | Promise<Response>)>) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init = {}) => {
    const call = { url, init, headers: new Headers(init.headers) };
    calls.push(call);
    const a = answers.shift();
    if (a === undefined) throw new Error(`unexpected fetch ${url}`);
    if (a instanceof Error) throw a;
    return typeof a === "function" ? a(call) : a;
  };
  return { fetch, calls };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

describe("base URL", () => {
  it("names the WebSocket API when config.json gives websocketUrl", async () => {
    const { fetch } = scripted(json({ apiBaseUrl: "", auth: null, websocketUrl: "wss://ws.example.com/prod" }));
    expect((await loadConfig(fetch, "config.json")).websocketUrl).toBe("wss://ws.example.com/prod");
  });

  it("joins base, path and query", () => {
    expect(joinUrl("", "/api/kpis", { period: "7d" })).toBe("/api/kpis?period=7d");
    expect(joinUrl("https://api.example.com/prod/", "/api/users")).toBe("https://api.example.com/prod/api/users");
    expect(joinUrl("https://x", "api/products", { limit: 5, window: undefined })).toBe("https://x/api/products?limit=5");
  });

  it("sends requests to the configured base URL", async () => {
    const { fetch, calls } = scripted(json({ status: "ok" }));
    const api = new ApiClient({ baseUrl: "https://api.example.com", fetch });
    await api.get("/api/health");
    expect(calls[0]!.url).toBe("https://api.example.com/api/health");
  });

  it("reads the base URL from config.json, never caching it", async () => {
    const auth = { clientId: "spa", issuer: "https://id.example.com" };
    const { fetch, calls } = scripted(json({ apiBaseUrl: "https://api.example.com", auth }));
    expect(await loadConfig(fetch, "config.json")).toEqual({ apiBaseUrl: "https://api.example.com", auth });
    expect(calls[0]!.url).toBe("config.json");
    expect(calls[0]!.init.cache).toBe("no-store");
  });

  it("falls back to the same origin when config.json is missing or wrong", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(await loadConfig(scripted(new Response("nope", { status: 404 })).fetch)).toEqual({ apiBaseUrl: "", auth: null });
    expect(await loadConfig(scripted(json({ apiBaseUrl: 42 })).fetch)).toEqual({ apiBaseUrl: "", auth: null });
    expect(await loadConfig(scripted(new TypeError("Failed to fetch")).fetch)).toEqual({ apiBaseUrl: "", auth: null });
    expect(warn).toHaveBeenCalledTimes(3);
    warn.mockRestore();
  });
});

describe("conditional requests", () => {
  it("keeps the ETag and body per URL and sends If-None-Match", async () => {
    const body = { dau: 1 };
    const { fetch, calls } = scripted(json(body, 200, { ETag: '"v1"' }), new Response(null, { status: 304 }));
    const api = new ApiClient({ baseUrl: "", fetch });

    const first = await api.get<typeof body>("/api/users");
    expect(first).toMatchObject({ data: body, etag: '"v1"', notModified: false });
    expect(calls[0]!.headers.has("If-None-Match")).toBe(false);

    const second = await api.get<typeof body>("/api/users");
    expect(calls[1]!.headers.get("If-None-Match")).toBe('"v1"');
    expect(second.notModified).toBe(true);
    // The very same object: a renderer comparing by reference does nothing.
    expect(second.data).toBe(first.data);
  });

  it("keeps separate entries per URL (query included)", async () => {
    const { fetch, calls } = scripted(
      json({ period: "24h" }, 200, { ETag: '"a"' }),
      json({ period: "7d" }, 200, { ETag: '"b"' }),
      new Response(null, { status: 304 }),
    );
    const api = new ApiClient({ baseUrl: "", fetch });
    await api.get("/api/kpis", { period: "24h" });
    await api.get("/api/kpis", { period: "7d" });
    const again = await api.get("/api/kpis", { period: "24h" });
    expect(calls[1]!.headers.has("If-None-Match")).toBe(false);
    expect(calls[2]!.headers.get("If-None-Match")).toBe('"a"');
    expect(again.data).toEqual({ period: "24h" });
  });

  it("replaces the cached body when the ETag changes", async () => {
    const { fetch, calls } = scripted(
      json({ n: 1 }, 200, { ETag: '"1"' }),
      json({ n: 2 }, 200, { ETag: '"2"' }),
      new Response(null, { status: 304 }),
    );
    const api = new ApiClient({ baseUrl: "", fetch });
    await api.get("/x");
    expect((await api.get("/x")).data).toEqual({ n: 2 });
    const third = await api.get("/x");
    expect(calls[2]!.headers.get("If-None-Match")).toBe('"2"');
    expect(third.data).toEqual({ n: 2 });
  });

  it("asks again unconditionally if a 304 arrives for something it never cached", async () => {
    const { fetch, calls } = scripted(new Response(null, { status: 304 }), json({ n: 1 }, 200, { ETag: '"1"' }));
    const api = new ApiClient({ baseUrl: "", fetch });
    expect((await api.get("/x")).data).toEqual({ n: 1 });
    expect(calls).toHaveLength(2);
  });

  it("keeps the browser cache out of the way", async () => {
    const { fetch, calls } = scripted(json({}));
    await new ApiClient({ baseUrl: "", fetch }).get("/x");
    expect(calls[0]!.init.cache).toBe("no-store");
  });
});

describe("errors, mapped in one place", () => {
  it("maps the API's error body", async () => {
    const { fetch } = scripted(
      json({ error: { code: "invalid_period", message: "period must be 24h, 7d or 30d", details: [{ field: "period" }] } }, 400),
    );
    const api = new ApiClient({ baseUrl: "", fetch });
    const err = await api.get("/api/kpis", { period: "1y" }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      kind: "http",
      status: 400,
      code: "invalid_period",
      message: "period must be 24h, 7d or 30d",
      details: [{ field: "period" }],
      url: "/api/kpis?period=1y",
    });
    expect(err.isOutage).toBe(false);
    // The API answered, so it is up.
    expect(api.connection.state).toBe("ok");
  });

  it("maps a non-JSON error page to its status line", async () => {
    const { fetch } = scripted(new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    const api = new ApiClient({ baseUrl: "", fetch });
    const err = await api.get("/x").catch((e) => e);
    expect(err).toMatchObject({ kind: "http", status: 502, code: "http_502", message: "502 Bad Gateway" });
    expect(err.isOutage).toBe(true);
  });

  it("maps a refused connection to a network error and reports the API down, then up again", async () => {
    const { fetch } = scripted(json({ a: 1 }), new TypeError("Failed to fetch"), new TypeError("Failed to fetch"), json({ a: 2 }));
    let t = 1000;
    const api = new ApiClient({ baseUrl: "", fetch, now: () => t });
    const seen: string[] = [];
    api.onConnection((c) => seen.push(c.state));

    await api.get("/x");
    t = 2000;
    const err = await api.get("/x").catch((e) => e);
    expect(err).toMatchObject({ kind: "network", status: null, code: "network" });
    expect(api.connection).toMatchObject({ state: "down", lastOkAt: 1000, downSince: 2000 });
    t = 3000;
    await api.get("/x").catch(() => {});
    expect(api.connection.downSince).toBe(2000); // the outage started at the first failure
    t = 4000;
    await api.get("/x");
    expect(api.connection).toMatchObject({ state: "ok", error: null, lastOkAt: 4000, downSince: null });
    expect(seen).toEqual(["ok", "down", "ok"]);
  });

  it("times out", async () => {
    const fetch: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      });
    const api = new ApiClient({ baseUrl: "", fetch, timeoutMs: 10 });
    const err = await api.get("/x").catch((e) => e);
    expect(err).toMatchObject({ kind: "timeout" });
    expect(api.connection.state).toBe("down");
  });

  it("passes a caller's abort through without calling the API down", async () => {
    const fetch: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      });
    const api = new ApiClient({ baseUrl: "", fetch });
    const ctrl = new AbortController();
    const p = api.get("/x", undefined, { signal: ctrl.signal });
    ctrl.abort();
    const err = await p.catch((e) => e);
    expect(err.name).toBe("AbortError");
    expect(api.connection.state).toBe("unknown");
  });

  it("treats a 2xx that is not JSON as a bad response", async () => {
    const { fetch } = scripted(new Response("<html>index</html>", { status: 200 }));
    const api = new ApiClient({ baseUrl: "", fetch });
    expect(await api.get("/x").catch((e) => e)).toMatchObject({ kind: "bad_response" });
  });
});

describe("authentication hooks", () => {
  it("attaches the Authorization header from one function", async () => {
    const { fetch, calls } = scripted(json({}), json({ accepted: 1 }));
    const api = new ApiClient({ baseUrl: "", fetch, authorization: async () => "Bearer t0k3n" });
    await api.get("/api/users");
    await api.post("/api/ingest/purchase", {});
    expect(calls.map((c) => c.headers.get("Authorization"))).toEqual(["Bearer t0k3n", "Bearer t0k3n"]);
  });

  it("sends no Authorization header without a token", async () => {
    const { fetch, calls } = scripted(json({}));
    await new ApiClient({ baseUrl: "", fetch, authorization: () => null }).get("/x");
    expect(calls[0]!.headers.has("Authorization")).toBe(false);
  });

  it("routes every 401 to one handler", async () => {
    const { fetch } = scripted(json({ error: { code: "unauthorized", message: "sign in" } }, 401));
    const onUnauthorized = vi.fn();
    const api = new ApiClient({ baseUrl: "", fetch, onUnauthorized });
    const err = await api.get("/api/kpis").catch((e) => e);
    expect(err).toMatchObject({ kind: "unauthorized", status: 401, code: "unauthorized" });
    expect(onUnauthorized).toHaveBeenCalledWith(err);
  });
});

describe("typed endpoints", () => {
  it("build the contract's URLs", async () => {
    const { fetch, calls } = scripted(json({}), json({}), json({}), json({}), json({ accepted: 1, duplicates: 0, refused: [] }));
    const api = new ApiClient({ baseUrl: "", fetch });
    await api.kpis("7d");
    await api.revenue();
    await api.users();
    await api.products("30d");
    const res = await api.ingestPurchases([]);
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      "GET /api/kpis?period=7d",
      "GET /api/revenue?weeks=1",
      "GET /api/users",
      "GET /api/products?limit=5&window=30d",
      "POST /api/ingest/purchase",
    ]);
    expect(calls[4]!.headers.get("Content-Type")).toBe("application/json");
    expect(res.accepted).toBe(1);
  });
});

describe("the conditional-request cache is bounded", () => {
  it("forgets the least recently used URLs beyond maxCacheEntries", async () => {
    const answer = () => json({ ok: true }, 200, { ETag: '"e"' });
    const { fetch, calls } = scripted(answer, answer, answer, answer, answer);
    const api = new ApiClient({ baseUrl: "", fetch, maxCacheEntries: 2 });
    await api.get("/a");
    await api.get("/b");
    await api.get("/a"); // a 200 again, but /a is now the most recent
    await api.get("/c"); // evicts /b
    expect(api.cacheSize).toBe(2);
    await api.get("/b");
    expect(calls[4]!.headers.get("If-None-Match")).toBeNull(); // /b was forgotten
    expect(calls[2]!.headers.get("If-None-Match")).toBe('"e"');
  });
});

describe("metrics endpoints", () => {
  it("names hosts and metrics as comma lists, with the window and step", async () => {
    const { fetch, calls } = scripted(json({ hosts: [] }), json({ series: [] }));
    const api = new ApiClient({ baseUrl: "", fetch });
    await api.hosts();
    await api.metrics({ hosts: ["web-1", "web-2"], metrics: ["cpu.percent"], from: 1, to: 2, step: 10_000, kind: "vm" });
    expect(calls[0]!.url).toBe("/api/hosts");
    const u = new URL(calls[1]!.url, "http://x");
    expect(u.pathname).toBe("/api/metrics");
    expect(Object.fromEntries(u.searchParams)).toEqual({
      host: "web-1,web-2",
      metric: "cpu.percent",
      from: "1",
      to: "2",
      step: "10000",
      kind: "vm",
    });
  });
});
