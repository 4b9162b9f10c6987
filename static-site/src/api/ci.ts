// The CI console's API (README "CI console"): repositories, runs, jobs, re-run and cancel,
// CI health, and the signed-in user's settings. Times are epoch ms.

import type { ApiClient } from "./client";

export type RunStatus = "requested" | "waiting" | "pending" | "queued" | "in_progress" | "completed";
export type RepoStatus = "passing" | "failing" | "running" | "mixed" | "unknown";

export interface LatestRun {
  runId: number;
  runAttempt: number;
  status: RunStatus;
  conclusion: string | null;
  createdAt: number;
  updatedAt: number;
  branch: string | null;
  sha: string | null;
  htmlUrl: string | null;
  actor: string | null;
  title: string | null;
}

export interface Repo {
  repo: string;
  defaultBranch: string;
  htmlUrl: string | null;
  installationId?: number | null;
  latest?: Record<string, LatestRun>;
  lastRunAt?: number;
  pinned: boolean;
  selected: boolean;
  status: RepoStatus;
}

export interface RunRequest {
  action: "rerun" | "rerun-failed" | "cancel";
  by: { subject: string; name: string | null };
  at: number;
  attempt: number;
}

export interface Run {
  repo: string;
  runId: number;
  runAttempt: number;
  runNumber: number | null;
  workflowName: string;
  title: string | null;
  status: RunStatus;
  conclusion: string | null;
  event: string | null;
  branch: string | null;
  sha: string | null;
  commitMessage: string | null;
  actor: string | null;
  htmlUrl: string | null;
  createdAt: number;
  startedAt: number;
  updatedAt: number;
  durationMs: number | null;
  attempts?: Record<string, string | null>;
  requestedBy?: RunRequest[];
}

export interface Step {
  number: number | null;
  name: string | null;
  status: string | null;
  conclusion: string | null;
  startedAt: number | null;
  completedAt: number | null;
}

export interface Job {
  jobId: number;
  runId: number;
  name: string;
  status: RunStatus;
  conclusion: string | null;
  htmlUrl: string | null;
  startedAt: number | null;
  completedAt: number | null;
  steps?: Step[];
}

export interface RunDetail extends Run {
  jobs: Job[];
  links: { run: string | null; repo: string };
}

export interface RunsPage {
  repo: string;
  runs: Run[];
  cursor: string | null;
}

export interface WindowStats {
  runs: number;
  failed: number;
  flaky: number;
  failureRate: number | null;
  durationMedianS: number | null;
  durationP90S: number | null;
  queueMedianS: number | null;
  queueP90S: number | null;
}

export interface WorkflowHealth {
  repo: string;
  workflow: string;
  windows: Record<"7d" | "30d", WindowStats>;
  /** The same, for runs on the repository's default branch only. */
  defaultBranch: Record<"7d" | "30d", WindowStats>;
  daily: (WindowStats & { day: string })[];
}

export type ThemeSetting = "system" | "light" | "dark";

export interface UserSettings {
  selectedRepos: string[];
  pinnedRepos: string[];
  theme: ThemeSetting;
  autoRefreshS: 0 | 15 | 30 | 60 | 300;
  notifications: { onFailure: boolean; onRecovery: boolean; defaultBranchOnly: boolean };
  version?: number | null;
}

export const AUTO_REFRESH_CHOICES: readonly UserSettings["autoRefreshS"][] = [0, 15, 30, 60, 300];

export interface RunFilters {
  workflow?: string;
  branch?: string;
  status?: string;
  conclusion?: string;
  cursor?: string;
  limit?: number;
}

export function repoPath(repo: string): string {
  const [owner, name] = repo.split("/");
  return `/api/repos/${encodeURIComponent(owner ?? "")}/${encodeURIComponent(name ?? "")}`;
}

export const ci = {
  repos: (api: ApiClient, signal?: AbortSignal) => api.get<{ repos: Repo[] }>("/api/repos", undefined, { signal }),
  runs: (api: ApiClient, repo: string, filters: RunFilters, signal?: AbortSignal) =>
    api.get<RunsPage>(repoPath(repo), { ...filters }, { signal }),
  run: (api: ApiClient, repo: string, runId: number, signal?: AbortSignal) =>
    api.get<RunDetail>(`${repoPath(repo)}/runs/${runId}`, undefined, { signal }),
  rerun: (api: ApiClient, repo: string, runId: number, failedOnly: boolean) =>
    api.post<unknown>(`${repoPath(repo)}/runs/${runId}/rerun${failedOnly ? "?failed=true" : ""}`, {}),
  cancel: (api: ApiClient, repo: string, runId: number) => api.post<unknown>(`${repoPath(repo)}/runs/${runId}/cancel`, {}),
  health: (api: ApiClient, signal?: AbortSignal) => api.get<{ workflows: WorkflowHealth[] }>("/api/ci/health", undefined, { signal }),
  settings: (api: ApiClient, signal?: AbortSignal) => api.get<UserSettings>("/api/settings", undefined, { signal }),
  saveSettings: (api: ApiClient, settings: UserSettings) => api.write<UserSettings>("PUT", "/api/settings", settings),
};
