"""System health: liveness, the store's reachability and when each scheduled job last ran."""
from __future__ import annotations

import functools
import time
from typing import Any, Callable

from ..storage import Store, default_store


class ScheduleLog:
    """When each scheduled job last ran and what it reported (table ``system``)."""

    def __init__(self, store: Store):
        self.store = store

    def record(self, job: str, started_ms: int, finished_ms: int, outcome: str, detail: Any) -> None:
        self.store.put("system", {"pk": "schedule", "sk": job, "job": job, "startedAt": started_ms,
                                  "finishedAt": finished_ms, "outcome": outcome,
                                  "detail": detail}, if_absent=False)
        self.store.increment("system", "schedule-runs", job, {"runs": 1})

    def last_runs(self) -> list[dict[str, Any]]:
        runs = self.store.query("system", "schedule", newest_first=False, limit=100).items
        counts = self.store.get_many("system", [("schedule-runs", r["job"]) for r in runs])
        return [{"job": r["job"], "startedAt": r["startedAt"], "finishedAt": r["finishedAt"],
                 "outcome": r["outcome"], "detail": r.get("detail"),
                 "runs": counts.get(("schedule-runs", r["job"]), {}).get("runs", 0)} for r in runs]


def schedule_log() -> ScheduleLog:
    return ScheduleLog(default_store())


def recorded(job: str) -> Callable:
    """Wrap a scheduled job so each run, and its outcome, is visible in /api/system-health."""
    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(event: Any) -> Any:
            started = int(time.time() * 1000)
            try:
                result = fn(event)
            except Exception as exc:
                schedule_log().record(job, started, int(time.time() * 1000), "failed",
                                      type(exc).__name__)
                raise
            schedule_log().record(job, started, int(time.time() * 1000), "ok", result)
            return result
        return run
    return wrap


def store_health(store: Store) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        store.get("system", "health", "probe")
    except Exception as exc:  # noqa: BLE001 - health reports any store failure, by its type
        return {"name": "store", "status": "down", "error": type(exc).__name__}
    return {"name": "store", "status": "ok",
            "latencyMs": round((time.perf_counter() - started) * 1000, 2)}
