"""What a webhook delivery (or a backfilled REST answer) changes, written all or nothing.

Every write of a delivery goes in one transaction with its delivery marker (create-if-absent
on ``X-GitHub-Delivery``): a redelivery finds the marker and changes nothing, and a crash
mid-write leaves nothing half-written. A record only moves forward (``events.advances``); a
completed attempt adds to the health roll-ups in the same transaction, so it counts once.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from ..errors import Busy
from ..storage import Op, TransactionCancelled
from ..timebuckets import hour_start, local_date
from . import events
from .repository import CiRepository, strip
from .settings import CiSettings

logger = logging.getLogger("mission_control.ci")
ATTEMPTS = 6

#: outcomes of one delivery
STORED, STALE, DUPLICATE, IGNORED = "stored", "stale", "duplicate", "ignored"


def updated_repo(stored: Mapping[str, Any] | None, info: Mapping[str, Any],
                 run: Mapping[str, Any] | None = None, push: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The repository record after ``info`` (from a payload) and, when given, ``run`` (the
    latest run per workflow on the default branch) and ``push`` (the last push)."""
    repo = dict(strip(stored) or {})
    repo.pop("version", None)
    repo.update({k: v for k, v in info.items() if v is not None})
    latest = dict(repo.get("latest") or {})
    if run is not None and run.get("branch") == repo.get("defaultBranch"):
        current = latest.get(run["workflowName"])
        if current is None or (run["createdAt"], run["runId"]) >= (current["createdAt"], current["runId"]):
            latest[run["workflowName"]] = {k: run.get(k) for k in (
                "runId", "runAttempt", "status", "conclusion", "createdAt", "updatedAt", "branch", "sha",
                "htmlUrl", "actor", "title")}
    if latest:
        repo["latest"] = latest
    if run is not None:
        repo["lastRunAt"] = max(repo.get("lastRunAt") or 0, run["updatedAt"])
    if push is not None:
        repo["lastPush"] = push
    return repo


class Intake:
    """Writes what deliveries and backfills carry. ``now`` gives epoch ms; ``tz`` the team zone."""

    def __init__(self, repo: CiRepository, settings: CiSettings, tz: str, now: Callable[[], int]):
        self.repo, self.settings, self.tz, self.now = repo, settings, tz, now

    def receive(self, event: str, delivery_id: str, payload: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) for one verified delivery. Raises ``events.PayloadRefused``."""
        if event not in events.UNDERSTOOD:
            return 202, {"result": IGNORED, "event": event}
        now = self.now()
        marker = [self.repo.delivery_op(delivery_id, event, now)]
        if event == "ping":
            info = events.repository_of(payload) if isinstance(payload.get("repository"), Mapping) else None
            result = self._write(marker, lambda: self._repo_ops(info) if info else [])
            return 200, {"result": result, "event": event, "zen": str(payload.get("zen") or "")[:200]}
        if event in ("installation", "installation_repositories"):
            return 200, {"result": self._installation(marker, payload, now), "event": event}
        info = events.repository_of(payload)
        if event == "workflow_run":
            run = events.run_of(payload.get("workflow_run") or {}, info["repo"],
                                payload.get("workflow") if isinstance(payload.get("workflow"), Mapping) else None)
            return 200, {"result": self.record_run(run, info, marker), "event": event}
        if event == "workflow_job":
            job = events.job_of(payload.get("workflow_job") or {}, info["repo"])
            return 200, {"result": self._record_job(job, info, marker), "event": event}
        if event in ("check_run", "check_suite"):
            check = events.check_of(event, payload, info["repo"])
            return 200, {"result": self._record_check(check, marker), "event": event}
        # push: the repository's last push
        push = {"ref": str(payload.get("ref") or "")[:255], "sha": str(payload.get("after") or "")[:64],
                "at": now, "pusher": str((payload.get("pusher") or {}).get("name") or "")[:100]}
        return 200, {"result": self._write(marker, lambda: self._repo_ops(info, push=push)), "event": event}

    # -- records --------------------------------------------------------------------------------
    def record_run(self, run: dict[str, Any], info: Mapping[str, Any], marker: list[Op]) -> str:
        def plan() -> list[Op] | None:
            stored = self.repo.run(run["repo"], run["runId"])
            if not events.advances(run, stored):
                return None
            merged = events.merged_run(run, stored)
            now = self.now()
            ops: list[Op] = [self.repo.run_op(merged, stored, now), *self._repo_ops(info, run=merged)]
            if events.newly_completed(merged, stored):
                from .health import completion_deltas
                at = merged["updatedAt"]
                ops += self.repo.rollup_ops(run["repo"], merged["workflowName"], local_date(at, self.tz),
                                            hour_start(at, self.tz), completion_deltas(merged), now,
                                            default_branch=merged.get("branch") == info.get("defaultBranch"))
            if self.settings.is_deploy(merged["workflowName"]):
                ops.append(self.repo.deploy_op(merged, now))
            return ops
        return self._write(marker, plan)

    def _record_job(self, job: dict[str, Any], info: Mapping[str, Any], marker: list[Op]) -> str:
        def plan() -> list[Op] | None:
            stored = self.repo.job(job["repo"], job["runId"], job["jobId"])
            if not events.advances(job, stored, events.job_rank):
                return None
            return [self.repo.job_op(job, stored, self.now()), *self._repo_ops(info)]
        return self._write(marker, plan)

    def _record_check(self, check: dict[str, Any], marker: list[Op]) -> str:
        def plan() -> list[Op] | None:
            stored = self.repo.check(check["repo"], check["kind"], check["id"])
            if not events.advances(check, stored, events.check_rank):
                return None
            return [self.repo.check_op(check, stored, self.now())]
        return self._write(marker, plan)

    def record_job(self, job: dict[str, Any], info: Mapping[str, Any]) -> str:
        """Store a job a backfill fetched (no delivery)."""
        return self._record_job(job, info, [])

    def record_repo(self, info: Mapping[str, Any]) -> str:
        """Register or refresh a repository (a backfill's, without a delivery)."""
        return self._write([], lambda: self._repo_ops(info))

    def _repo_ops(self, info: Mapping[str, Any], run: Mapping[str, Any] | None = None,
                  push: Mapping[str, Any] | None = None) -> list[Op]:
        stored = self.repo.repo(info["repo"])
        updated = updated_repo(stored, info, run, push)
        before = strip(stored) or {}
        before.pop("version", None)
        return [] if updated == before else [self.repo.repo_op(updated, stored)]

    def _installation(self, marker: list[Op], payload: Mapping[str, Any], now: int) -> str:
        installation = payload.get("installation")
        installation_id = installation.get("id") if isinstance(installation, Mapping) else None
        if not isinstance(installation_id, int) or isinstance(installation_id, bool):
            raise events.PayloadRefused("installation.id is missing or not an int")
        action = payload.get("action")
        ops: list[Op] = []
        if action in ("created", "added", "new_permissions_accepted", "unsuspend"):
            ops.append(self.repo.backfill_op(installation_id, now))  # the schedule backfills it
        return self._write(marker, lambda: ops)

    # -- the one write path ---------------------------------------------------------------------
    def _write(self, marker: list[Op], plan: Callable[[], list[Op] | None]) -> str:
        """Write ``marker + plan()`` all or nothing; re-plan when another writer got there
        first. ``plan()`` None: the delivery moves nothing forward (only the marker is written)."""
        for _attempt in range(ATTEMPTS):
            ops = plan()
            outcome = STORED if ops else STALE
            todo = [*marker, *(ops or [])]
            if not todo:
                return outcome
            try:
                self.repo.write(todo)
                return outcome
            except TransactionCancelled as cancelled:
                if marker and 0 in cancelled.failed:
                    return DUPLICATE
                logger.info("ci write raced another writer; planning again")
        raise Busy("the run is being updated by other deliveries; GitHub retries failed deliveries")
