// The CI console's pure parts: badges, who may do what to a run, settings edits, chart data.

import type { Role } from "../api/types";
import type { Repo, RepoStatus, Run, ThemeSetting, UserSettings, WorkflowHealth } from "../api/ci";
import { hasRole } from "../auth/roles";
import { formatDuration } from "./format";

export type Tone = "ok" | "bad" | "busy" | "muted";

/** One word and a tone for a run (or a job): its conclusion once completed, else its status. */
export function runBadge(status: string, conclusion: string | null | undefined): { word: string; tone: Tone } {
  if (status !== "completed") {
    return { word: status === "in_progress" ? "running" : status.replace("_", " "), tone: "busy" };
  }
  if (conclusion === "success") return { word: "passed", tone: "ok" };
  if (conclusion === "failure" || conclusion === "timed_out" || conclusion === "startup_failure")
    return { word: conclusion === "failure" ? "failed" : conclusion.replace("_", " "), tone: "bad" };
  return { word: conclusion ?? "done", tone: "muted" };
}

export const REPO_BADGE: Record<RepoStatus, { word: string; tone: Tone }> = {
  passing: { word: "passing", tone: "ok" },
  failing: { word: "failing", tone: "bad" },
  running: { word: "running", tone: "busy" },
  mixed: { word: "mixed", tone: "muted" },
  unknown: { word: "no runs", tone: "muted" },
};

/** Operators re-run completed runs (failed jobs only when something failed) and cancel running ones. */
export function runActions(role: Role | null | undefined, run: Pick<Run, "status" | "conclusion">) {
  const operator = hasRole(role, "operator");
  const done = run.status === "completed";
  return {
    rerun: operator && done,
    rerunFailed: operator && done && run.conclusion !== "success" && run.conclusion !== "skipped",
    cancel: operator && !done,
  };
}

/** Repositories the user watches (all when none is selected), pinned ones first as the API sorts them. */
export function watched(repos: readonly Repo[]): Repo[] {
  return repos.filter((r) => r.selected);
}

export function toggled(list: readonly string[], item: string): string[] {
  return list.includes(item) ? list.filter((x) => x !== item) : [...list, item];
}

export function withTheme(settings: UserSettings, theme: ThemeSetting): UserSettings {
  return { ...settings, theme };
}

export const DEFAULT_SETTINGS: UserSettings = {
  selectedRepos: [],
  pinnedRepos: [],
  theme: "system",
  autoRefreshS: 30,
  notifications: { onFailure: true, onRecovery: false, defaultBranchOnly: true },
};

/** Seconds as the app writes durations ("3m 20s"); "–" when unknown. */
export function seconds(s: number | null | undefined): string {
  return s == null ? "–" : formatDuration(s * 1000);
}

export function percent(rate: number | null | undefined): string {
  return rate == null ? "–" : `${Math.round(rate * 1000) / 10} %`;
}

/**
 * The daily series of one workflow for a chart: x = day index over the last `days` days ending
 * `today` (YYYY-MM-DD), y = failure rate in percent and p90 duration in minutes; days without
 * runs are gaps (null), not zeros.
 */
export function healthSeries(wf: WorkflowHealth, today: string, days = 30): { labels: string[]; failure: (number | null)[]; p90: (number | null)[] } {
  const end = Date.parse(`${today}T00:00:00Z`);
  const byDay = new Map(wf.daily.map((d) => [d.day, d]));
  const labels: string[] = [];
  const failure: (number | null)[] = [];
  const p90: (number | null)[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(end - i * 86_400_000).toISOString().slice(0, 10);
    const d = byDay.get(day);
    labels.push(day);
    failure.push(d && d.failureRate != null ? Math.round(d.failureRate * 1000) / 10 : null);
    p90.push(d && d.durationP90S != null ? Math.round((d.durationP90S / 60) * 10) / 10 : null);
  }
  return { labels, failure, p90 };
}
