"""CI health from roll-ups kept as runs complete: failure rate, median and p90 duration and
queue time, flaky runs, per workflow. Pure: no storage.

Each completed attempt adds once (in the transaction that stores it) to an hour bucket and a
day bucket of its workflow: counts, and histograms of duration and queue time over fixed
edges, so quantiles over any window come from summing buckets, never from recounting runs.
A quantile is read as the upper edge of the bucket it falls in (at most one bucket off).
"""
from __future__ import annotations

import bisect
from typing import Any, Iterable, Mapping

from .events import FAILED, PASSED, is_flaky

#: histogram edges in seconds (upper bounds; the last bucket is open)
EDGES_S = (5, 10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2700, 3600,
           5400, 7200, 10800, 21600)
WINDOWS_DAYS = (7, 30)


def bucket_of(seconds: float) -> int:
    return bisect.bisect_left(EDGES_S, seconds)


def completion_deltas(run: Mapping[str, Any]) -> dict[str, int]:
    """What one completed attempt adds to its workflow's buckets."""
    deltas = {"completed": 1}
    conclusion = run.get("conclusion")
    if conclusion in PASSED or conclusion in FAILED:
        deltas["decided"] = 1  # the failure rate's denominator: passed or failed
    if conclusion in FAILED:
        deltas["failed"] = 1
    if is_flaky(run):
        deltas["flaky"] = 1
    started, updated, created = run.get("startedAt"), run.get("updatedAt"), run.get("createdAt")
    if started is not None and updated is not None and updated >= started:
        deltas[f"d{bucket_of((updated - started) / 1000)}"] = 1
        deltas["durations"] = 1
    # Queue time only for first attempts: a re-run's start is far from the run's creation.
    if int(run.get("runAttempt") or 1) == 1 and started is not None and created is not None and started >= created:
        deltas[f"q{bucket_of((started - created) / 1000)}"] = 1
        deltas["queues"] = 1
    return deltas


def summed(buckets: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for bucket in buckets:
        for key, value in bucket.items():
            if key[:1] in "dq" and key[1:].isdigit() or key in ("completed", "decided", "failed", "flaky",
                                                                 "durations", "queues"):
                total[key] = total.get(key, 0) + int(value)
    return total


def quantile_s(total: Mapping[str, int], prefix: str, q: float) -> float | None:
    """The ``q`` quantile (0..1) of the ``d`` (duration) or ``q`` (queue) histogram in seconds:
    the upper edge of the bucket holding it (the last edge for the open bucket); None if empty."""
    count = total.get("durations" if prefix == "d" else "queues", 0)
    if not count:
        return None
    rank, seen = q * count, 0
    for i in range(len(EDGES_S) + 1):
        seen += total.get(f"{prefix}{i}", 0)
        if seen >= rank and seen > 0:
            return float(EDGES_S[min(i, len(EDGES_S) - 1)])
    return float(EDGES_S[-1])


def window_stats(total: Mapping[str, int]) -> dict[str, Any]:
    """Failure rate (0..1, None without decided runs), counts, median/p90 duration and queue (s)."""
    decided = total.get("decided", 0)
    return {"runs": total.get("completed", 0), "failed": total.get("failed", 0),
            "flaky": total.get("flaky", 0),
            "failureRate": round(total.get("failed", 0) / decided, 4) if decided else None,
            "durationMedianS": quantile_s(total, "d", 0.5), "durationP90S": quantile_s(total, "d", 0.9),
            "queueMedianS": quantile_s(total, "q", 0.5), "queueP90S": quantile_s(total, "q", 0.9)}
