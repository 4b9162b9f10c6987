// CI: the repositories this user watches (pinned first) with a badge per latest run, a
// repository's runs (filtered, paged), a run's jobs and steps with re-run / cancel for
// operators, and CI health per workflow (failure rate, durations, queue time, flaky runs).

import { useEffect, useRef, useState } from "preact/hooks";
import { ci, type Repo, type RunDetail, type RunsPage, type WorkflowHealth } from "../api/ci";
import { ApiError } from "../api/client";
import { CiHealthChart } from "../components/CiHealthChart";
import { useApp } from "../context";
import { DEFAULT_SETTINGS, percent, REPO_BADGE, runActions, runBadge, seconds, toggled, watched } from "../lib/ci";
import { dtf, formatDateTime, formatDuration } from "../lib/format";
import { buildHash, navigate } from "../lib/router";
import { useLiveTopics } from "../lib/useLive";
import { usePoller } from "../lib/usePoller";
import { useUserSettings } from "../lib/userSettings";
import "./CI.css";

const FILTERS = ["workflow", "branch", "status", "conclusion"] as const;
const NEVER_MS = 24 * 3_600_000;

function Badge({ status, conclusion }: { status: string; conclusion: string | null | undefined }) {
  const b = runBadge(status, conclusion);
  return <span class={`ci-badge ci-badge--${b.tone}`} data-testid="run-badge">{b.word}</span>;
}

export function CI({ query }: { query: URLSearchParams }) {
  const { api, user, timeZone, locale, theme } = useApp();
  const { store, settings } = useUserSettings();
  const repoName = query.get("repo") ?? "";
  const runId = Number(query.get("run") ?? "") || null;
  const filters: Record<string, string> = {};
  for (const f of FILTERS) if (query.get(f)) filters[f] = query.get(f) as string;
  const [repos, setRepos] = useState<Repo[] | null>(null);
  const [runs, setRuns] = useState<RunsPage | null>(null);
  const [run, setRun] = useState<RunDetail | null>(null);
  const [health, setHealth] = useState<WorkflowHealth[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const refreshMs = settings && settings.autoRefreshS ? settings.autoRefreshS * 1000 : settings ? NEVER_MS : 30_000;

  const poller = usePoller(async (signal) => {
    try {
      const [r, h] = await Promise.all([ci.repos(api, signal), ci.health(api, signal)]);
      if (signal.aborted) return;
      setRepos(r.data.repos);
      setHealth(h.data.workflows);
      if (repoName) setRuns((await ci.runs(api, repoName, { ...filters, limit: 25 }, signal)).data);
      else setRuns(null);
      if (repoName && runId) setRun((await ci.run(api, repoName, runId, signal)).data);
      else setRun(null);
      setError(null);
    } catch (e) {
      if (!signal.aborted) setError(e instanceof ApiError ? e.message : String(e));
    }
  }, refreshMs);
  // Pushed changes refresh the page whatever the auto-refresh setting (it times polling only).
  useLiveTopics(["ci"], () => poller.refresh());

  const key = `${repoName}|${runId}|${JSON.stringify(filters)}`;
  const firstKey = useRef(true);
  useEffect(() => {
    if (firstKey.current) firstKey.current = false;
    else poller.refresh();
  }, [key]);

  const go = (params: Record<string, string | number | null>) => {
    const next: Record<string, string> = {};
    for (const [k, v] of Object.entries({ repo: repoName, ...filters, ...params })) if (v !== null && v !== "") next[k] = String(v);
    navigate(buildHash("/ci", next));
  };

  const act = async (action: "rerun" | "rerun-failed" | "cancel") => {
    if (!run) return;
    try {
      if (action === "cancel") await ci.cancel(api, run.repo, run.runId);
      else await ci.rerun(api, run.repo, run.runId, action === "rerun-failed");
      setNotice(action === "cancel" ? "Cancel requested from GitHub." : "Re-run requested from GitHub; the new attempt shows up here as it starts.");
      poller.refresh();
    } catch (e) {
      setNotice(e instanceof ApiError ? e.message : String(e));
    }
  };

  const togglePin = async (repo: string) => {
    try {
      await store.update({ pinnedRepos: toggled((settings ?? DEFAULT_SETTINGS).pinnedRepos, repo) });
      poller.refresh();
    } catch (e) {
      setNotice(e instanceof ApiError ? e.message : String(e));
    }
  };

  const more = async () => {
    if (!runs?.cursor) return;
    const got = await ci.runs(api, repoName, { ...filters, limit: 25, cursor: runs.cursor });
    setRuns({ ...got.data, runs: [...runs.runs, ...got.data.runs] });
  };

  const shown = watched(repos ?? []);
  // The roll-ups' days are the team's: "today" in the team time zone (en-CA writes YYYY-MM-DD).
  const today = dtf("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(Date.now());
  const repoHealth = health.filter((w) => !repoName || w.repo === repoName);
  const can = run ? runActions(user.role, run) : null;

  return (
    <section class="page ci" aria-labelledby="page-title">
      <header class="page__header">
        <div>
          <h1 id="page-title" tabIndex={-1}>CI</h1>
          <p class="page__meta">GitHub Actions runs of your repositories as GitHub reports them, with CI health over 7 and 30 days.</p>
        </div>
      </header>
      {error && <div class="banner banner--error" role="alert">{error}</div>}
      {notice && <p role="status" data-testid="ci-notice">{notice}</p>}
      {repos && shown.length === 0 && (
        <p class="page__meta" data-testid="ci-empty">No runs yet. Install the GitHub App and point its webhook at /webhooks/github (README, "CI console").</p>
      )}
      <ul class="ci__repos" data-testid="ci-repos">
        {shown.map((r) => (
          <li class="ci__repo" key={r.repo} aria-current={r.repo === repoName ? "true" : undefined} data-testid="ci-repo">
            <button type="button" class="ci__pin" aria-pressed={r.pinned} data-testid="ci-pin" onClick={() => togglePin(r.repo)}
              title={r.pinned ? "Unpin" : "Pin first"}>
              <span aria-hidden="true">{r.pinned ? "★" : "☆"}</span>
              <span class="sr-only">{r.pinned ? `Unpin ${r.repo}` : `Pin ${r.repo} first`}</span>
            </button>{" "}
            <a href={buildHash("/ci", { repo: r.repo })}>{r.repo}</a>{" "}
            <span class={`ci-badge ci-badge--${REPO_BADGE[r.status].tone}`}>{REPO_BADGE[r.status].word}</span>
            <ul class="ci__workflows">
              {Object.entries(r.latest ?? {}).map(([wf, l]) => (
                <li key={wf}>{wf} <Badge status={l.status} conclusion={l.conclusion} /></li>
              ))}
            </ul>
          </li>
        ))}
      </ul>

      {repoName && (
        <>
          <h2>Runs of {repoName}</h2>
          <form class="ci__filters" onSubmit={(e) => e.preventDefault()}>
            {FILTERS.map((f) => (
              <label key={f}>
                {f}{" "}
                <input type="search" value={filters[f] ?? ""} placeholder="any" data-testid={`ci-filter-${f}`}
                  onChange={(e) => go({ [f]: e.currentTarget.value.trim(), run: null })} />
              </label>
            ))}
          </form>
          <div class="table-wrap">
            <table class="table" data-testid="ci-runs">
              <thead>
                <tr><th>Workflow</th><th>Commit</th><th>Branch</th><th>Actor</th><th>Duration</th><th>Result</th><th>Started</th></tr>
              </thead>
              <tbody>
                {(runs?.runs ?? []).map((r) => (
                  <tr key={r.runId} data-testid="ci-run-row">
                    <td><a href={buildHash("/ci", { repo: repoName, ...filters, run: String(r.runId) })}>{r.workflowName} #{r.runNumber ?? r.runId}</a></td>
                    <td>{r.title ?? r.commitMessage ?? ""} <span class="ci__sha">{(r.sha ?? "").slice(0, 7)}</span></td>
                    <td>{r.branch ?? ""}</td>
                    <td>{r.actor ?? ""}</td>
                    <td>{r.durationMs != null ? formatDuration(r.durationMs) : "–"}</td>
                    <td><Badge status={r.status} conclusion={r.conclusion} /></td>
                    <td>{formatDateTime(r.createdAt, timeZone, locale)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {runs?.cursor && <button type="button" class="button button--small" onClick={more}>More runs</button>}
        </>
      )}

      {run && (
        <article class="ci__run" data-testid="ci-run">
          <h2>
            {run.workflowName} #{run.runNumber ?? run.runId} <Badge status={run.status} conclusion={run.conclusion} />
          </h2>
          <p class="page__meta">
            {run.branch} · <span class="ci__sha">{(run.sha ?? "").slice(0, 7)}</span> · {run.actor} · attempt {run.runAttempt}
            {run.links.run && <> · <a href={run.links.run} target="_blank" rel="noopener noreferrer">on GitHub</a></>}
          </p>
          {can && (can.rerun || can.cancel) && (
            <div class="ci__actions">
              {can.rerun && <button type="button" class="button button--small" data-testid="ci-rerun" onClick={() => act("rerun")}>Re-run</button>}
              {can.rerunFailed && <button type="button" class="button button--small" data-testid="ci-rerun-failed" onClick={() => act("rerun-failed")}>Re-run failed jobs</button>}
              {can.cancel && <button type="button" class="button button--small" data-testid="ci-cancel" onClick={() => act("cancel")}>Cancel</button>}
            </div>
          )}
          {(run.requestedBy ?? []).map((q) => (
            <p class="page__meta" key={q.at}>{q.action} asked by {q.by.name ?? q.by.subject} at {formatDateTime(q.at, timeZone, locale)}</p>
          ))}
          <ol class="ci__jobs" data-testid="ci-jobs">
            {run.jobs.map((j) => (
              <li key={j.jobId} data-testid="ci-job">
                {j.name} <Badge status={j.status} conclusion={j.conclusion} />
                {j.startedAt && j.completedAt ? ` ${formatDuration(j.completedAt - j.startedAt)}` : ""}
                {j.steps && (
                  <details>
                    <summary>{j.steps.length} steps</summary>
                    <ol class="ci__steps">
                      {j.steps.map((s) => <li key={s.number}>{s.name} <Badge status={s.status ?? "completed"} conclusion={s.conclusion} /></li>)}
                    </ol>
                  </details>
                )}
              </li>
            ))}
          </ol>
          {run.jobs.length === 0 && <p class="page__meta">No jobs reported yet.</p>}
        </article>
      )}

      <h2>CI health</h2>
      {repoHealth.length === 0 && <p class="page__meta">Health shows once runs complete.</p>}
      {repoHealth.length > 0 && (
        <div class="table-wrap">
          <table class="table" data-testid="ci-health">
            <thead>
              <tr><th>Workflow</th><th>Failure rate 7d / 30d</th><th>Default branch 7d</th><th>Duration median / p90 (7d)</th><th>Queue median / p90 (7d)</th><th>Flaky 30d</th></tr>
            </thead>
            <tbody>
              {repoHealth.map((w) => (
                <tr key={`${w.repo}#${w.workflow}`}>
                  <td>{w.workflow}{repoName ? "" : ` (${w.repo})`}</td>
                  <td>{percent(w.windows["7d"].failureRate)} / {percent(w.windows["30d"].failureRate)}</td>
                  <td>{percent(w.defaultBranch["7d"].failureRate)}</td>
                  <td>{seconds(w.windows["7d"].durationMedianS)} / {seconds(w.windows["7d"].durationP90S)}</td>
                  <td>{seconds(w.windows["7d"].queueMedianS)} / {seconds(w.windows["7d"].queueP90S)}</td>
                  <td>{w.windows["30d"].flaky}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {repoHealth.slice(0, 6).map((w) => <CiHealthChart key={`${w.repo}#${w.workflow}`} workflow={w} today={today} theme={theme} />)}
    </section>
  );
}
