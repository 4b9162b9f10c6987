// Live updates over WebSocket (see chalicelib/live): connect to config.json's `websocketUrl`
// with the user's token as the `token` query parameter (a browser cannot set headers on a
// WebSocket), subscribe to the topics the open page shows, and hear `{"type": "changed",
// "topic", "etag"}` notices; the page then refetches what changed through the API client.
//
// - state "live" while the socket is open, "polling" otherwise: pages poll at their usual
//   interval while "polling" and only a slow safety poll while "live";
// - reconnect after a close with exponential backoff and full jitter (`backoffMs`), so a
//   restarted server is not hit by every tab at once;
// - the token is renewed over the open socket (`{"action": "renew"}`) whenever the session's
//   token changes (checked every `renewCheckMs` and on each connect).

export type LiveState = "live" | "polling";

/** How a page says it stays current: pushed while live, else its polling interval. */
export function refreshWording(state: LiveState, refreshMs: number): string {
  return state === "live" ? "updates pushed as they happen" : `refreshes every ${Math.round(refreshMs / 1000)} s`;
}

export interface LiveNotice {
  type: "changed";
  topic: string;
  etag: string | null;
}

/** The parts of the browser's WebSocket this client uses (tests pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface LiveOptions {
  url: string;
  /** "Bearer <token>" (the API client's hook), or null when signed out. */
  authorization: () => Promise<string | null>;
  createSocket?: (url: string) => SocketLike;
  random?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  renewCheckMs?: number;
}

const OPEN = 1;

/** The wait before reconnect attempt `attempt` (0-based): full jitter over a doubling cap. */
export function backoffMs(attempt: number, random: () => number, baseMs = 1000, maxMs = 30_000): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(baseMs / 2 + random() * (cap - baseMs / 2));
}

type Listener = (notice: LiveNotice) => void;

export class LiveFeed {
  private socket: SocketLike | null = null;
  private running = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private renewTimer: ReturnType<typeof setInterval> | null = null;
  private sentToken: string | null = null;
  private current: LiveState = "polling";
  private readonly subscriptions = new Map<Listener, string[]>();
  private readonly stateListeners = new Set<(s: LiveState) => void>();
  private readonly opts: Required<Omit<LiveOptions, "url" | "authorization">> & Pick<LiveOptions, "url" | "authorization">;

  constructor(opts: LiveOptions) {
    this.opts = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      random: Math.random,
      baseDelayMs: 1000,
      maxDelayMs: 30_000,
      renewCheckMs: 30_000,
      ...opts,
    };
  }

  get state(): LiveState {
    return this.current;
  }

  onState(listener: (s: LiveState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Hear notices of `topics` until the returned function is called. */
  subscribe(topics: string[], listener: Listener): () => void {
    this.subscriptions.set(listener, topics);
    this.sendTopics();
    return () => {
      this.subscriptions.delete(listener);
      this.sendTopics();
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.renewTimer = setInterval(() => void this.renewIfChanged(), this.opts.renewCheckMs);
    void this.connect();
  }

  stop(): void {
    this.running = false;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.renewTimer !== null) clearInterval(this.renewTimer);
    this.retryTimer = this.renewTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "signed out");
    this.setState("polling");
  }

  private async token(): Promise<string | null> {
    const header = await this.opts.authorization().catch(() => null);
    return header ? header.replace(/^Bearer\s+/i, "") : null;
  }

  private async connect(): Promise<void> {
    const token = await this.token();
    if (!this.running) return;
    if (!token) return this.retry();
    const url = new URL(this.opts.url);
    url.searchParams.set("token", token);
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(url.href);
    } catch {
      return this.retry();
    }
    this.socket = socket;
    this.sentToken = token;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.sendTopics();
      this.setState("live");
    };
    socket.onmessage = (ev) => this.receive(ev.data);
    socket.onerror = () => undefined; // a close follows
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setState("polling");
      this.retry();
    };
  }

  private retry(): void {
    if (!this.running || this.retryTimer !== null) return;
    const wait = backoffMs(this.attempt++, this.opts.random, this.opts.baseDelayMs, this.opts.maxDelayMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, wait);
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    const m = message as Partial<LiveNotice>;
    if (m?.type !== "changed" || typeof m.topic !== "string") return;
    const notice: LiveNotice = { type: "changed", topic: m.topic, etag: typeof m.etag === "string" ? m.etag : null };
    for (const [listener, topics] of this.subscriptions) if (topics.includes(notice.topic)) listener(notice);
  }

  private sendTopics(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return;
    const topics = [...new Set([...this.subscriptions.values()].flat())].sort();
    socket.send(JSON.stringify({ action: "subscribe", topics }));
  }

  private async renewIfChanged(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return;
    const token = await this.token();
    if (token && token !== this.sentToken && this.socket === socket) {
      this.sentToken = token;
      socket.send(JSON.stringify({ action: "renew", token }));
    }
  }

  private setState(next: LiveState): void {
    if (next === this.current) return;
    this.current = next;
    for (const l of this.stateListeners) l(next);
  }
}
