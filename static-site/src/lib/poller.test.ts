import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Poller, type VisibilitySource } from "./poller";

class FakeDocument extends EventTarget implements VisibilitySource {
  hidden = false;
  setHidden(hidden: boolean) {
    this.hidden = hidden;
    this.dispatchEvent(new Event("visibilitychange"));
  }
}

/** Let promise callbacks run (fake timers do not advance microtasks by themselves). */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe("Poller", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs at once, then every interval after the previous run finished", async () => {
    const run = vi.fn(async () => {});
    const p = new Poller({ intervalMs: 5000, run, visibility: new FakeDocument() });
    p.start();
    await settle();
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(4999);
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(4);
    p.stop();
  });

  it("never overlaps runs when the API is slow", async () => {
    let active = 0;
    let maxActive = 0;
    const run = vi.fn(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 8000));
      active--;
    });
    const p = new Poller({ intervalMs: 5000, run, visibility: new FakeDocument() });
    p.start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(maxActive).toBe(1);
    expect(run).toHaveBeenCalledTimes(3); // 0, 13 s, 26 s
    p.stop();
  });

  it("keeps polling after a failed run (recovery on its own)", async () => {
    const run = vi.fn().mockRejectedValueOnce(new Error("down")).mockResolvedValue(undefined);
    const p = new Poller({ intervalMs: 5000, run, visibility: new FakeDocument() });
    p.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(run).toHaveBeenCalledTimes(2);
    p.stop();
  });

  it("pauses while the tab is hidden and refreshes as soon as it is visible", async () => {
    const doc = new FakeDocument();
    const run = vi.fn(async () => {});
    const p = new Poller({ intervalMs: 5000, run, visibility: doc });
    p.start();
    await settle();
    doc.setHidden(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(run).toHaveBeenCalledTimes(1);
    doc.setHidden(false);
    await settle();
    expect(run).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(5000);
    expect(run).toHaveBeenCalledTimes(3);
    p.stop();
  });

  it("does not start while hidden", async () => {
    const doc = new FakeDocument();
    doc.hidden = true;
    const run = vi.fn(async () => {});
    const p = new Poller({ intervalMs: 5000, run, visibility: doc });
    p.start();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(run).not.toHaveBeenCalled();
    doc.setHidden(false);
    await settle();
    expect(run).toHaveBeenCalledTimes(1);
    p.stop();
  });

  it("refresh() aborts the run in flight and restarts the cycle", async () => {
    const signals: AbortSignal[] = [];
    const run = vi.fn((signal: AbortSignal) => {
      signals.push(signal);
      return new Promise<void>((r) => setTimeout(r, 1000));
    });
    const p = new Poller({ intervalMs: 5000, run, visibility: new FakeDocument() });
    p.start();
    await settle();
    p.refresh();
    await settle();
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
    // Only the newest run schedules the next one: 1 s run + 5 s interval.
    await vi.advanceTimersByTimeAsync(6000);
    expect(run).toHaveBeenCalledTimes(3);
    p.stop();
  });

  it("stop() aborts and schedules nothing more", async () => {
    const doc = new FakeDocument();
    let signal: AbortSignal | undefined;
    const run = vi.fn((s: AbortSignal) => {
      signal = s;
      return new Promise<void>((r) => setTimeout(r, 1000));
    });
    const p = new Poller({ intervalMs: 5000, run, visibility: doc });
    p.start();
    await settle();
    p.stop();
    expect(signal!.aborted).toBe(true);
    doc.setHidden(true);
    doc.setHidden(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(run).toHaveBeenCalledTimes(1);
  });
});
