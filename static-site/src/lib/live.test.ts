import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffMs, LiveFeed, refreshWording, type SocketLike } from "./live";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({});
  }
  push(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

function setup(token = "t1") {
  const sockets: FakeSocket[] = [];
  let current = token;
  const feed = new LiveFeed({
    url: "ws://127.0.0.1:8001/",
    authorization: async () => (current ? `Bearer ${current}` : null),
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    random: () => 0.5,
    baseDelayMs: 1000,
    maxDelayMs: 30_000,
    renewCheckMs: 10_000,
  });
  return { feed, sockets, setToken: (t: string) => (current = t) };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("LiveFeed", () => {
  it("connects with the token as the token query parameter and subscribes to the pages' topics", async () => {
    const { feed, sockets } = setup("abc.def");
    const heard: string[] = [];
    feed.subscribe(["kpis"], (n) => heard.push(`${n.topic} ${n.etag}`));
    feed.subscribe(["alerts", "kpis"], () => undefined);
    feed.start();
    await vi.runOnlyPendingTimersAsync();
    expect(new URL(sockets[0]!.url).searchParams.get("token")).toBe("abc.def");
    sockets[0]!.open();
    expect(feed.state).toBe("live");
    expect(JSON.parse(sockets[0]!.sent.at(-1)!)).toEqual({ action: "subscribe", topics: ["alerts", "kpis"] });
    sockets[0]!.push({ type: "changed", topic: "kpis", etag: '"e1"' });
    sockets[0]!.push({ type: "changed", topic: "insights", etag: '"e2"' });
    expect(heard).toEqual(['kpis "e1"']);
  });

  it("an unsubscribed page's topics are dropped from the subscription", async () => {
    const { feed, sockets } = setup();
    feed.subscribe(["kpis"], () => undefined);
    const off = feed.subscribe(["hosts"], () => undefined);
    feed.start();
    await vi.runOnlyPendingTimersAsync();
    sockets[0]!.open();
    off();
    expect(JSON.parse(sockets[0]!.sent.at(-1)!)).toEqual({ action: "subscribe", topics: ["kpis"] });
  });

  it("falls back to polling when the socket closes and reconnects with growing backoff", async () => {
    const { feed, sockets } = setup();
    const states: string[] = [];
    feed.onState((s) => states.push(s));
    feed.start();
    await vi.runOnlyPendingTimersAsync();
    sockets[0]!.open();
    sockets[0]!.drop();
    expect(feed.state).toBe("polling");
    await vi.advanceTimersByTimeAsync(backoffMs(0, () => 0.5) - 1);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(2);
    sockets[1]!.drop(); // refused again: the next wait is longer
    await vi.advanceTimersByTimeAsync(backoffMs(1, () => 0.5) - 1);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(3);
    sockets[2]!.open();
    expect(states).toEqual(["live", "polling", "live"]);
  });

  it("renews the token over the open socket when the session's token changed", async () => {
    const { feed, sockets, setToken } = setup("old");
    feed.start();
    await vi.runOnlyPendingTimersAsync();
    sockets[0]!.open();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sockets[0]!.sent.some((m) => JSON.parse(m).action === "renew")).toBe(false);
    setToken("new");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(JSON.parse(sockets[0]!.sent.at(-1)!)).toEqual({ action: "renew", token: "new" });
  });

  it("stop closes the socket and never reconnects", async () => {
    const { feed, sockets } = setup();
    feed.start();
    await vi.runOnlyPendingTimersAsync();
    sockets[0]!.open();
    feed.stop();
    expect(sockets[0]!.closed).toBe(true);
    expect(feed.state).toBe("polling");
    await vi.advanceTimersByTimeAsync(120_000);
    expect(sockets).toHaveLength(1);
  });
});

describe("backoffMs", () => {
  it("stays within half the base and a doubling cap, and never beyond the maximum", () => {
    for (const r of [0, 0.3, 0.999]) {
      expect(backoffMs(0, () => r)).toBeGreaterThanOrEqual(500);
      expect(backoffMs(0, () => r)).toBeLessThanOrEqual(1000);
      expect(backoffMs(3, () => r)).toBeLessThanOrEqual(8000);
      expect(backoffMs(50, () => r)).toBeLessThanOrEqual(30_000);
    }
    expect(backoffMs(3, () => 0.999)).toBeGreaterThan(backoffMs(1, () => 0.999));
  });
});

describe("refreshWording", () => {
  it("says updates are pushed while live, and the polling interval otherwise", () => {
    expect(refreshWording("live", 60_000)).toBe("updates pushed as they happen");
    expect(refreshWording("polling", 5_000)).toBe("refreshes every 5 s");
  });
});
