"""GitHub webhook payloads and REST answers as the CI console stores them, and the rules that
keep a run or job from moving backwards when deliveries arrive out of order. Pure: no storage,
no Chalice.

A run's progress is ordered by ``(run_attempt, status rank, updated_at)``: a re-run (a higher
attempt) supersedes the attempt before it; within an attempt the status only advances
(requested < waiting/pending < queued < in_progress < completed), and ``updated_at`` orders
deliveries of one status. A job is ordered the same way, by its latest timestamp. A record is
replaced only by one that ranks strictly higher, so a redelivery or a late ``in_progress``
after ``completed`` changes nothing.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

#: the events the console understands; any other is acknowledged (202) and ignored
UNDERSTOOD = ("workflow_run", "workflow_job", "check_run", "check_suite", "push", "ping", "installation",
              "installation_repositories")
STATUS_RANK = {"requested": 0, "waiting": 1, "pending": 1, "queued": 2, "in_progress": 3, "completed": 4}
#: conclusions that count as a failure in failure rates (cancelled and skipped count as neither)
FAILED = frozenset({"failure", "timed_out", "startup_failure"})
PASSED = frozenset({"success"})
#: text fields are clipped so that one run stays far under DynamoDB's 400 KB item limit
MAX_TEXT = 2000
MAX_STEPS = 300


class PayloadRefused(ValueError):
    """The payload lacks what its event must carry; the message names the missing field."""


def epoch_ms(value: Any) -> int | None:
    """GitHub's ISO-8601 time (``2020-10-05T16:33:24Z``) as epoch ms; None when absent."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise PayloadRefused(f"{value[:40]!r} is not an ISO-8601 time") from None


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _need(obj: Any, key: str, kind: type, where: str) -> Any:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise PayloadRefused(f"{where}.{key} is missing or not a {kind.__name__}")
    return value


def repository_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The repository a payload is about: full name, id, default branch, link."""
    repo = payload.get("repository")
    full_name = _need(repo, "full_name", str, "repository")
    if full_name.count("/") != 1:
        raise PayloadRefused("repository.full_name must be owner/name")
    installation = payload.get("installation")
    return {"repo": full_name, "repoId": _need(repo, "id", int, "repository"),
            "defaultBranch": _text(repo.get("default_branch"), 255) or "main",
            "htmlUrl": _text(repo.get("html_url")), "private": bool(repo.get("private")),
            "installationId": installation.get("id") if isinstance(installation, Mapping)
            and isinstance(installation.get("id"), int) else None}


def run_of(run: Mapping[str, Any], repo: str, workflow: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A workflow run (the webhook's ``workflow_run`` or a REST run) as stored."""
    run_id = _need(run, "id", int, "workflow_run")
    status = _need(run, "status", str, "workflow_run")
    created = epoch_ms(run.get("created_at"))
    if created is None:
        raise PayloadRefused("workflow_run.created_at is missing")
    updated = epoch_ms(run.get("updated_at")) or created
    started = epoch_ms(run.get("run_started_at")) or created
    commit = run.get("head_commit") if isinstance(run.get("head_commit"), Mapping) else {}
    actor = run.get("triggering_actor") or run.get("actor")
    workflow_name = (_text(run.get("name"), 255) or
                     _text((workflow or {}).get("name"), 255) or _text(run.get("path"), 255) or "workflow")
    return {
        "repo": repo, "runId": run_id, "runAttempt": run.get("run_attempt") if isinstance(run.get("run_attempt"), int) else 1,
        "runNumber": run.get("run_number") if isinstance(run.get("run_number"), int) else None,
        "workflowId": run.get("workflow_id") if isinstance(run.get("workflow_id"), int) else None,
        "workflowName": workflow_name, "title": _text(run.get("display_title")) or _text(commit.get("message")),
        "status": status, "conclusion": _text(run.get("conclusion"), 40), "event": _text(run.get("event"), 60),
        "branch": _text(run.get("head_branch"), 255), "sha": _text(run.get("head_sha"), 64),
        "commitMessage": _text(commit.get("message")),
        "actor": _text(actor.get("login"), 100) if isinstance(actor, Mapping) else None,
        "htmlUrl": _text(run.get("html_url")),
        "createdAt": created, "startedAt": started, "updatedAt": updated,
        "completedAt": updated if status == "completed" else None,
    }


def job_of(job: Mapping[str, Any], repo: str) -> dict[str, Any]:
    """A workflow job with its steps, as stored."""
    steps = job.get("steps") if isinstance(job.get("steps"), list) else []
    record = {
        "repo": repo, "jobId": _need(job, "id", int, "workflow_job"), "runId": _need(job, "run_id", int, "workflow_job"),
        "runAttempt": job.get("run_attempt") if isinstance(job.get("run_attempt"), int) else 1,
        "name": _text(job.get("name"), 255) or "job", "workflowName": _text(job.get("workflow_name"), 255),
        "status": _need(job, "status", str, "workflow_job"), "conclusion": _text(job.get("conclusion"), 40),
        "htmlUrl": _text(job.get("html_url")), "createdAt": epoch_ms(job.get("created_at")),
        "startedAt": epoch_ms(job.get("started_at")), "completedAt": epoch_ms(job.get("completed_at")),
        "runnerName": _text(job.get("runner_name"), 255),
        "steps": [{"number": s.get("number"), "name": _text(s.get("name"), 255), "status": _text(s.get("status"), 40),
                   "conclusion": _text(s.get("conclusion"), 40), "startedAt": epoch_ms(s.get("started_at")),
                   "completedAt": epoch_ms(s.get("completed_at"))}
                  for s in steps[:MAX_STEPS] if isinstance(s, Mapping)],
    }
    if not record["steps"]:
        del record["steps"]  # (no empty lists in stream images)
    return record


def check_of(event: str, payload: Mapping[str, Any], repo: str) -> dict[str, Any]:
    """A check suite or check run, as stored (shown beside runs; Actions reports through both)."""
    body = payload.get(event)
    suite = body if event == "check_suite" else (body or {}).get("check_suite") or {}
    return {"repo": repo, "kind": event, "id": _need(body, "id", int, event),
            "suiteId": suite.get("id") if isinstance(suite, Mapping) else None,
            "name": _text((body or {}).get("name"), 255) or _text(((body or {}).get("app") or {}).get("name"), 255),
            "status": _need(body, "status", str, event), "conclusion": _text(body.get("conclusion"), 40),
            "sha": _text(body.get("head_sha"), 64), "htmlUrl": _text(body.get("html_url")),
            "updatedAt": epoch_ms(body.get("updated_at")) or epoch_ms(body.get("completed_at"))
            or epoch_ms(body.get("started_at")) or epoch_ms(body.get("created_at")) or 0}


def _rank(record: Mapping[str, Any], at: Any) -> tuple[int, int, int]:
    return (int(record.get("runAttempt") or 1), STATUS_RANK.get(record.get("status") or "", -1), int(at or 0))


def run_rank(run: Mapping[str, Any]) -> tuple[int, int, int]:
    return _rank(run, run.get("updatedAt"))


def job_rank(job: Mapping[str, Any]) -> tuple[int, int, int]:
    return _rank(job, job.get("completedAt") or job.get("startedAt") or job.get("createdAt"))


def check_rank(check: Mapping[str, Any]) -> tuple[int, int, int]:
    return _rank({"status": check.get("status")}, check.get("updatedAt"))


def advances(new: Mapping[str, Any], stored: Mapping[str, Any] | None, rank=run_rank) -> bool:
    """Whether ``new`` moves the record forward (strictly): otherwise it changes nothing."""
    return stored is None or rank(new) > rank(stored)


def merged_run(new: dict[str, Any], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """``new`` carrying what earlier attempts and the dashboard recorded: each completed
    attempt's conclusion (``attempts``: attempt -> conclusion, for flaky detection) and who
    asked for re-runs or cancels (``requestedBy``)."""
    attempts = dict((stored or {}).get("attempts") or {})
    if stored and stored.get("status") == "completed":
        attempts[str(stored.get("runAttempt") or 1)] = stored.get("conclusion")
    if new["status"] == "completed":
        attempts[str(new["runAttempt"])] = new.get("conclusion")
    merged = dict(new)
    # (Empty maps and lists are left out: DynamoDB Streams' images of them trip stream readers.)
    if attempts:
        merged["attempts"] = attempts
    if (stored or {}).get("requestedBy"):
        merged["requestedBy"] = list(stored["requestedBy"])
    return merged


def newly_completed(new: Mapping[str, Any], stored: Mapping[str, Any] | None) -> bool:
    """Whether ``new`` completes an attempt the store had not seen completed (counted once)."""
    if new.get("status") != "completed":
        return False
    return not (stored and stored.get("status") == "completed"
                and (stored.get("runAttempt") or 1) == new.get("runAttempt"))


def is_flaky(run: Mapping[str, Any]) -> bool:
    """A run that passed on a re-run after an earlier attempt failed (same run: same commit)."""
    if run.get("conclusion") not in PASSED:
        return False
    return any(conclusion in FAILED for attempt, conclusion in (run.get("attempts") or {}).items()
               if int(attempt) < int(run.get("runAttempt") or 1))
