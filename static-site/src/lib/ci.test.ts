import { describe, expect, it } from "vitest";
import type { WorkflowHealth } from "../api/ci";
import { DEFAULT_SETTINGS, healthSeries, percent, runActions, runBadge, seconds, toggled, withTheme } from "./ci";

describe("runBadge", () => {
  it("says a completed run's conclusion and a running run's status", () => {
    expect(runBadge("completed", "success")).toEqual({ word: "passed", tone: "ok" });
    expect(runBadge("completed", "failure")).toEqual({ word: "failed", tone: "bad" });
    expect(runBadge("completed", "timed_out")).toEqual({ word: "timed out", tone: "bad" });
    expect(runBadge("in_progress", null)).toEqual({ word: "running", tone: "busy" });
    expect(runBadge("completed", "cancelled").tone).toBe("muted");
  });
});

describe("runActions", () => {
  it("lets operators re-run what completed and cancel what runs; viewers nothing", () => {
    expect(runActions("operator", { status: "completed", conclusion: "failure" })).toEqual({ rerun: true, rerunFailed: true, cancel: false });
    expect(runActions("operator", { status: "completed", conclusion: "success" }).rerunFailed).toBe(false);
    expect(runActions("admin", { status: "in_progress", conclusion: null })).toEqual({ rerun: false, rerunFailed: false, cancel: true });
    expect(runActions("viewer", { status: "completed", conclusion: "failure" })).toEqual({ rerun: false, rerunFailed: false, cancel: false });
  });
});

describe("settings edits", () => {
  it("toggles a repository in and out of a list and sets the theme without touching the rest", () => {
    expect(toggled(["a/b"], "c/d")).toEqual(["a/b", "c/d"]);
    expect(toggled(["a/b", "c/d"], "a/b")).toEqual(["c/d"]);
    const dark = withTheme(DEFAULT_SETTINGS, "dark");
    expect(dark.theme).toBe("dark");
    expect({ ...dark, theme: "system" }).toEqual(DEFAULT_SETTINGS);
  });
});

describe("formatting", () => {
  it("reads seconds and rates", () => {
    expect(seconds(45)).toBe("45s");
    expect(seconds(200)).toBe("3m 20s");
    expect(seconds(3900)).toBe("1h 05m");
    expect(seconds(null)).toBe("–");
    expect(percent(0.3333)).toBe("33.3 %");
    expect(percent(null)).toBe("–");
  });
});

describe("healthSeries", () => {
  it("lays the days out ending today with gaps where no run completed", () => {
    const stats = { runs: 4, failed: 1, flaky: 0, failureRate: 0.25, durationMedianS: 60, durationP90S: 120, queueMedianS: 5, queueP90S: 10 };
    const wf: WorkflowHealth = {
      repo: "a/b",
      workflow: "CI",
      windows: { "7d": stats, "30d": stats },
      defaultBranch: { "7d": stats, "30d": stats },
      daily: [{ day: "2026-12-01", ...stats }],
    };
    const s = healthSeries(wf, "2026-12-03", 3);
    expect(s.labels).toEqual(["2026-12-01", "2026-12-02", "2026-12-03"]);
    expect(s.failure).toEqual([25, null, null]);
    expect(s.p90).toEqual([2, null, null]);
  });
});
