"""Metric roll-ups and series arithmetic. Pure: no storage, no clock.

A roll-up bucket holds, per metric, ``[min, max, sum, count, last, last_ts]``; merging two
buckets is associative, so batches aggregate before writing and reads re-aggregate buckets
into any coarser step.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

RAW_MS, MINUTE_MS, HOUR_MS = 10_000, 60_000, 3_600_000
RESOLUTIONS = (("10s", RAW_MS), ("1m", MINUTE_MS), ("1h", HOUR_MS))
MAX_POINTS = 1000
MAX_EXPLICIT_POINTS = 5000

Stats = list  # [min, max, sum, count, last, last_ts]


def stats_of(value: float, ts: int) -> Stats:
    return [value, value, value, 1, value, ts]


def merge_stats(a: Stats | None, b: Stats) -> Stats:
    if a is None:
        return list(b)
    last, last_ts = (b[4], b[5]) if b[5] >= a[5] else (a[4], a[5])
    return [min(a[0], b[0]), max(a[1], b[1]), a[2] + b[2], a[3] + b[3], last, last_ts]


def merge_bucket(into: dict[str, Stats], other: Mapping[str, Stats]) -> dict[str, Stats]:
    for name, stats in other.items():
        into[name] = merge_stats(into.get(name), stats)
    return into


def add_sample(into: dict[str, Stats], values: Mapping[str, float], ts: int) -> dict[str, Stats]:
    """Fold one sample into a bucket, in place: as merging the sample's own bucket, without
    a list per value (ingest folds a sample's values into two buckets)."""
    for name, v in values.items():
        stats = into.get(name)
        if stats is None:
            into[name] = stats_of(v, ts)
            continue
        if v < stats[0]:
            stats[0] = v
        if v > stats[1]:
            stats[1] = v
        stats[2] += v
        stats[3] += 1
        if ts >= stats[5]:
            stats[4], stats[5] = v, ts
    return into


def choose_step(from_ms: int, to_ms: int, step_ms: int | None) -> tuple[str, int, int]:
    """(stored resolution to read, its length, output step): the finest resolution giving at
    most ~1,000 points; an explicit step wins, read from the coarsest resolution dividing it."""
    span = max(1, to_ms - from_ms)
    if step_ms is None:
        for name, length in RESOLUTIONS:
            if span / length <= MAX_POINTS:
                return name, length, length
        name, length = RESOLUTIONS[-1]
        step = -(-span // MAX_POINTS)
        return name, length, -(-step // length) * length
    name, length = next((n, l) for n, l in reversed(RESOLUTIONS) if step_ms % l == 0)
    return name, length, step_ms


def series(points: Iterable[tuple[int, Stats]], from_ms: int, to_ms: int, step_ms: int) -> dict:
    """Buckets re-aggregated onto the grid ``from_ms, from_ms + step, ...`` (aligned down to
    the step) up to ``to_ms``. A step with no data is ``None`` in every array: a gap, not 0."""
    start = from_ms - from_ms % step_ms
    n = (to_ms - start) // step_ms + 1
    grid: list[Stats | None] = [None] * n
    for ts, stats in points:
        i = (ts - start) // step_ms
        if 0 <= i < n:
            grid[i] = merge_stats(grid[i], stats)
    return {
        "t": [start + i * step_ms for i in range(n)],
        "avg": [None if s is None else s[2] / s[3] for s in grid],
        "min": [None if s is None else s[0] for s in grid],
        "max": [None if s is None else s[1] for s in grid],
    }


def host_status(last_seen_ms: int, interval_ms: int, now_ms: int) -> str:
    """online; stale after 3 missed intervals; offline after 30 (5 min at 10 s)."""
    missed = (now_ms - last_seen_ms) / max(interval_ms, 1_000)
    if missed <= 3:
        return "online"
    return "stale" if missed <= 30 else "offline"


def estimate_interval(previous_ms: int | None, latest_ms: int, current: int | None) -> int:
    """The sampling interval: the last gap between samples, clamped to 1 s .. 10 min."""
    if previous_ms is None or latest_ms <= previous_ms:
        return current or RAW_MS
    return max(1_000, min(600_000, latest_ms - previous_ms))


def parse_list(raw: str | None) -> Sequence[str]:
    return [part for part in (raw or "").split(",") if part]
