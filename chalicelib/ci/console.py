"""What the CI console's API reads and does: repositories with their latest runs, a
repository's runs, a run with its jobs, re-runs and cancels through the App, a user's
settings, CI health. Each reads by key or one partition, never a scan."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ..errors import Conflict, DomainError, InvalidInput, NotFound
from ..storage import InvalidCursor, VersionConflict
from ..timebuckets import DAY_MS, local_date
from . import health
from .github import GitHubApp, GitHubError, RateLimited
from .models import Preferences, RunFilters
from .secrets import SecretUnavailable
from .repository import CiRepository, strip

#: partition pages read per request when filters leave pages thin
MAX_PAGES_PER_REQUEST = 10


class UpstreamFailed(DomainError):
    status, code = 502, "github_failed"


class UpstreamLimited(DomainError):
    status, code = 503, "github_rate_limited"


def run_view(item: dict[str, Any]) -> dict[str, Any]:
    run = strip(item) or {}
    run.pop("version", None)
    run["durationMs"] = (run["updatedAt"] - run["startedAt"]) if run.get("status") == "completed" \
        and run.get("startedAt") else None
    return run


def list_repos(repo: CiRepository, prefs: dict[str, Any]) -> dict[str, Any]:
    """Every repository with its latest run per workflow on the default branch; the user's
    pinned ones first (in their order), then by latest activity."""
    pinned = list(prefs.get("pinnedRepos") or [])
    selected = set(prefs.get("selectedRepos") or [])
    rows = []
    for item in repo.repos():
        row = strip(item) or {}
        row.pop("version", None)
        latest = row.get("latest") or {}
        row["pinned"] = row["repo"] in pinned
        row["status"] = _overall(latest.values())
        row["selected"] = not selected or row["repo"] in selected
        rows.append(row)
    rows.sort(key=lambda r: (pinned.index(r["repo"]) if r["pinned"] else len(pinned), -(r.get("lastRunAt") or 0), r["repo"]))
    return {"repos": rows}


def _overall(latest: Iterable[dict[str, Any]]) -> str:
    """One badge for a repository: failing if any workflow's latest run failed, running if any
    runs, passing if all passed, unknown without runs."""
    runs = list(latest)
    if not runs:
        return "unknown"
    if any(r.get("conclusion") in ("failure", "timed_out", "startup_failure") for r in runs):
        return "failing"
    if any(r.get("status") != "completed" for r in runs):
        return "running"
    return "passing" if all(r.get("conclusion") in ("success", "skipped", "neutral") for r in runs) else "mixed"


def list_runs(repo: CiRepository, name: str, filters: RunFilters) -> dict[str, Any]:
    """A repository's runs newest first, filtered, a page at a time (``cursor``)."""
    if repo.repo(name) is None:
        raise NotFound(f"no repository {name} has sent runs here")
    wanted = {k: v for k, v in (("workflowName", filters.workflow), ("branch", filters.branch),
                                ("status", filters.status), ("conclusion", filters.conclusion)) if v is not None}
    runs: list[dict[str, Any]] = []
    cursor = filters.cursor
    try:
        for _page in range(MAX_PAGES_PER_REQUEST):
            page = repo.runs_page(name, filters.limit, cursor)
            runs += [run_view(i) for i in page.items if all(i.get(k) == v for k, v in wanted.items())]
            cursor = page.cursor
            if cursor is None or len(runs) >= filters.limit:
                break
    except InvalidCursor:
        raise InvalidInput("the cursor does not belong to this list", [{"field": "cursor", "message": "is not this list's"}]) from None
    # Whole pages are returned (never cut), so no run falls between two answers: at most
    # 2 x limit - 1 runs.
    return {"repo": name, "runs": runs, "cursor": cursor}


def run_detail(repo: CiRepository, name: str, run_id: int) -> dict[str, Any]:
    run, jobs = repo.run_with_jobs(name, run_id)
    if run is None and not jobs:
        raise NotFound(f"no run {run_id} in {name}")
    job_rows = []
    for job in jobs:
        row = strip(job) or {}
        row.pop("version", None)
        job_rows.append(row)
    job_rows.sort(key=lambda j: (j.get("startedAt") or j.get("createdAt") or 0, j["jobId"]))
    view = run_view(run) if run else {"repo": name, "runId": run_id, "status": "unknown"}
    view["jobs"] = job_rows
    view["links"] = {"run": view.get("htmlUrl"), "repo": f"https://github.com/{name}"}
    return view


def act_on_run(repo: CiRepository, client_of: Callable[[], GitHubApp], name: str, run_id: int, action: str,
               who: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """Ask GitHub to re-run (``rerun``), re-run the failed jobs (``rerun-failed``) or cancel
    (``cancel``) a run; record who asked with the run. The run's new state arrives by webhook."""
    repo_item = repo.repo(name)
    run = repo.run(name, run_id)
    if repo_item is None or run is None:
        raise NotFound(f"no run {run_id} in {name}")
    installation = repo_item.get("installationId")
    if not installation:
        raise Conflict(f"no GitHub App installation is known for {name}; install the App on it")
    if action == "cancel" and run.get("status") == "completed":
        raise Conflict("the run has completed; there is nothing to cancel")
    if action != "cancel" and run.get("status") != "completed":
        raise Conflict("the run is still going; cancel it or wait for it to complete")
    client = client_of()
    try:
        if action == "cancel":
            client.cancel(installation, name, run_id)
        else:
            client.rerun(installation, name, run_id, failed_only=action == "rerun-failed")
    except RateLimited as limited:
        raise UpstreamLimited(limited.message) from None
    except GitHubError as failed:
        raise UpstreamFailed(f"GitHub refused the {action}: {failed.message}") from None
    except SecretUnavailable as missing:
        raise Conflict(f"the GitHub App is not set up: {missing}") from None
    request = {"action": action, "by": who, "at": now_ms, "attempt": run.get("runAttempt")}
    for _attempt in range(5):
        try:
            requested = [*(run.get("requestedBy") or [])][-19:] + [request]
            repo.save_run_requests(run, requested)
            break
        except VersionConflict:
            run = repo.run(name, run_id) or run
    return {"repo": name, "runId": run_id, "requested": request}


def preferences(repo: CiRepository, subject: str) -> dict[str, Any]:
    stored = repo.preferences(subject)
    prefs = Preferences.model_validate({k: v for k, v in (strip(stored) or {}).items() if k in Preferences.model_fields})
    return {**prefs.model_dump(), "version": stored.get("version") if stored else None}


def save_preferences(repo: CiRepository, subject: str, prefs: Preferences) -> dict[str, Any]:
    """Replace the user's settings (last write wins across tabs: re-read, write, retry)."""
    for _attempt in range(5):
        stored = repo.preferences(subject)
        try:
            written = repo.save_preferences(subject, prefs.model_dump(), stored.get("version") if stored else None)
            return {**prefs.model_dump(), "version": written["version"]}
        except VersionConflict:
            continue
    raise Conflict("your settings changed meanwhile; reload and try again")


def workflow_health(repo: CiRepository, now_ms: int, tz: str, windows: Iterable[int] = health.WINDOWS_DAYS
                    ) -> list[dict[str, Any]]:
    """Per workflow: stats over each window of days (ending today), for all branches
    (``windows``) and the default branch (``defaultBranch``), and a daily series of the last 30
    days (failure rate, runs, p90 duration), from the day roll-ups."""
    today = local_date(now_ms, tz)
    longest = max(windows)
    first = local_date(now_ms - (longest - 1) * DAY_MS, tz)
    out = []
    for wf in repo.workflows():
        by_scope = {}
        for scope in ("d", "dd"):
            buckets = repo.health_buckets(wf["repo"], wf["workflow"], f"{scope}#{first}", f"{scope}#{today}")
            by_scope[scope] = {b["sk"].split("#", 1)[1]: b for b in buckets}
        stats: dict[str, dict[str, Any]] = {"d": {}, "dd": {}}
        for scope, by_day in by_scope.items():
            for days in windows:
                since = local_date(now_ms - (days - 1) * DAY_MS, tz)
                stats[scope][f"{days}d"] = health.window_stats(health.summed(b for d, b in by_day.items() if d >= since))
        series = [{"day": d, **health.window_stats(health.summed([b]))} for d, b in sorted(by_scope["d"].items())]
        out.append({"repo": wf["repo"], "workflow": wf["workflow"], "windows": stats["d"],
                    "defaultBranch": stats["dd"], "daily": series})
    out.sort(key=lambda w: (w["repo"], w["workflow"]))
    return out


def health_series(repo: CiRepository, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
    """Each workflow's stats over ``[since_ms, until_ms)`` from its hour roll-ups: what alert
    rules read (``failureRate``, ``durationP90S``, ``flaky``, ...), labelled by repo and
    workflow, once for all branches (``branch`` "*") and once for the default branch ("default")."""
    out = []
    first, last = f"{since_ms - since_ms % 3_600_000:013d}", f"{until_ms - 1:013d}"
    for wf in repo.workflows():
        for scope, branch in (("h", "*"), ("hd", "default")):
            buckets = repo.health_buckets(wf["repo"], wf["workflow"], f"{scope}#{first}", f"{scope}#{last}")
            out.append({"repo": wf["repo"], "workflow": wf["workflow"], "branch": branch,
                        **health.window_stats(health.summed(buckets))})
    return out
