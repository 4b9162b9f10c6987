"""The CI console (seed 003): GitHub Actions runs from signed webhooks into a 30-day run cache,
a GitHub App client (backfill, re-run, cancel), per-user settings, and CI health roll-ups.

- secrets: ``secrets.SECRET_NAMES`` names the Secrets Manager secrets (the one place);
- pure: ``events`` (payloads, ordering), ``health`` (roll-up arithmetic), ``signature``;
- storage: ``repository.CiRepository``; writes: ``intake.Intake``; reads and actions: ``console``;
- for other features: ``deploy_runs_between`` (the timeline's and incidents' "what changed"),
  ``health_series`` (alert rules' ``ci`` source).
"""
from __future__ import annotations

from typing import Any, Callable

from .. import config
from ..field_types import now_ms
from ..storage import default_store
from .repository import CiRepository
from .settings import ci_settings

_clients: list[Any] = []


def repository() -> CiRepository:
    return CiRepository(default_store(), ci_settings().run_ttl_ms)


def run_intake(clock: Callable[[], int] = now_ms):
    from .intake import Intake
    return Intake(repository(), ci_settings(), config.settings().team_timezone, clock)


def github_client():
    """The process's GitHub App client (its installation tokens and ETags cached across calls)."""
    if not _clients:
        from ..alerts.outbound import outbound_session
        from .github import GitHubApp
        from .secrets import app_private_key
        s = ci_settings()
        if not s.GITHUB_APP_ID:
            from ..errors import Conflict
            raise Conflict("no GitHub App is configured (GITHUB_APP_ID); see README, CI console")
        # The API URL is the operator's, but the guard still keeps prod off private addresses.
        session = outbound_session(allow_private=config.settings().stage == "dev")
        _clients.append(GitHubApp(s.GITHUB_API_URL, s.GITHUB_APP_ID, app_private_key, session,
                                  timeout_s=s.GITHUB_TIMEOUT_S, max_backoff_s=s.GITHUB_MAX_BACKOFF_S))
    return _clients[-1]


def forget_client() -> None:
    """Build the client afresh on next use (settings changed: tests)."""
    _clients.clear()


def deploy_runs_between(since_ms: int, until_ms: int, limit: int = 50) -> list[dict[str, Any]]:
    """Deploy workflow runs (named in ``CI_DEPLOY_WORKFLOWS`` or containing "deploy") created in
    ``[since_ms, until_ms]``, newest first, at most ``limit``, as plain dicts for the timeline:
    ``kind`` "ci", ``time`` (epoch ms, the run's creation), ``title``, ``link``, ``repo``,
    ``workflow``, ``status``, ``conclusion``, ``branch``, ``sha``, ``actor``, ``runId``."""
    rows = repository().deploys(since_ms, until_ms, max(1, min(limit, 500)))
    return [{"kind": "ci", "time": r["createdAt"],
             "title": f"{r['workflowName']} on {r['repo']}" + (f" ({r['branch']})" if r.get("branch") else ""),
             "link": r.get("htmlUrl"), "repo": r["repo"], "workflow": r["workflowName"], "status": r["status"],
             "conclusion": r.get("conclusion"), "branch": r.get("branch"), "sha": r.get("sha"),
             "actor": r.get("actor"), "runId": r["runId"], "detail": r.get("title")}
            for r in rows]


def health_series(since_ms: int, until_ms: int) -> list[dict[str, Any]]:
    """Each workflow's CI health over ``[since_ms, until_ms)``: what the alerts' ``ci`` source reads."""
    from .console import health_series as series
    return series(repository(), since_ms, until_ms)
