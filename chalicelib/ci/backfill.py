"""Backfill: the recent runs of every repository an installation can see, through the same
write path as webhooks (so a run already newer in the store is left as it is)."""
from __future__ import annotations

from typing import Callable

from . import events
from .github import GitHubApp
from .intake import Intake


#: how long a scheduled runner holds a pending backfill: longer than ``ciBackfill``'s Lambda
#: timeout (300 s, .chalice/config.json), so a runner started a minute later never repeats it
BACKFILL_LEASE_MS = 360_000

#: the newest runs of each repository whose jobs (and steps) a backfill fetches too: one call
#: each, so not for every run
JOBS_FOR_NEWEST = 5


def backfill_installation(client: GitHubApp, intake: Intake, installation_id: int, runs_per_repo: int,
                          on_repo: Callable[[str, int], None] = lambda repo, runs: None) -> dict[str, int]:
    """Fetch and store; ``on_repo(repo, runs)`` after each repository (a progress bar's step).
    Returns the counts of repositories and runs seen, of runs stored (moved forward) and of
    jobs stored (those of each repository's newest ``JOBS_FOR_NEWEST`` runs)."""
    counts = {"repos": 0, "runs": 0, "stored": 0, "jobs": 0}
    for repository in client.installation_repositories(installation_id):
        info = events.repository_of({"repository": repository, "installation": {"id": installation_id}})
        intake.record_repo(info)
        runs = client.workflow_runs(installation_id, info["repo"], runs_per_repo)
        for raw in reversed(runs):  # oldest first, so each workflow's latest ends up latest
            run = events.run_of(raw, info["repo"])
            counts["stored"] += intake.record_run(run, info, []) == "stored"
        for raw in runs[:JOBS_FOR_NEWEST]:
            for job in client.run_jobs(installation_id, info["repo"], int(raw["id"])):
                counts["jobs"] += intake.record_job(events.job_of(job, info["repo"]), info) == "stored"
        counts["repos"] += 1
        counts["runs"] += len(runs)
        on_repo(info["repo"], len(runs))
    return counts


def installations_to_backfill(intake: Intake, now_ms: int) -> list[int]:
    """The installations whose backfill was asked for and that this runner now holds."""
    return [int(item["installationId"]) for item in intake.repo.pending_backfills()
            if intake.repo.claim_backfill(item, now_ms, BACKFILL_LEASE_MS)]
