// Live refresh: run a loader every `intervalMs` after the previous run finished (never two at
// once, no pile-up when the API is slow), not at all while the tab is hidden, and at once when
// it becomes visible again.

export interface VisibilitySource {
  readonly hidden: boolean;
  addEventListener(type: "visibilitychange", listener: () => void): void;
  removeEventListener(type: "visibilitychange", listener: () => void): void;
}

export interface PollerOptions {
  intervalMs: number;
  /** Errors are the loader's business (it shows them); the poller just carries on. */
  run: (signal: AbortSignal) => Promise<unknown>;
  visibility?: VisibilitySource;
}

export class Poller {
  private readonly intervalMs: number;
  private readonly run: PollerOptions["run"];
  private readonly visibility: VisibilitySource | undefined;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inflight: AbortController | null = null;
  private generation = 0;
  private started = false;
  private readonly onVisibility = () => {
    if (!this.started) return;
    if (this.hidden) {
      this.clearTimer(); // let a run in flight finish; it will not schedule the next one
    } else if (!this.inflight && !this.timer) {
      this.refresh();
    }
  };

  constructor(opts: PollerOptions) {
    this.intervalMs = opts.intervalMs;
    this.run = opts.run;
    this.visibility = opts.visibility ?? (typeof document !== "undefined" ? document : undefined);
  }

  private get hidden(): boolean {
    return this.visibility?.hidden ?? false;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.visibility?.addEventListener("visibilitychange", this.onVisibility);
    if (!this.hidden) this.refresh();
  }

  stop(): void {
    this.started = false;
    this.visibility?.removeEventListener("visibilitychange", this.onVisibility);
    this.clearTimer();
    this.generation++;
    this.inflight?.abort();
    this.inflight = null;
  }

  /** Run now (aborting a run in flight, e.g. when its parameters changed), then go on polling. */
  refresh(): void {
    if (!this.started) return;
    this.clearTimer();
    this.inflight?.abort();
    const gen = ++this.generation;
    const ctrl = new AbortController();
    this.inflight = ctrl;
    Promise.resolve()
      .then(() => this.run(ctrl.signal))
      .catch(() => undefined)
      .finally(() => {
        if (gen !== this.generation) return; // superseded or stopped
        this.inflight = null;
        if (this.started && !this.hidden) {
          this.timer = setTimeout(() => {
            this.timer = null;
            this.refresh();
          }, this.intervalMs);
        }
      });
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
