"""The metrics table's change stream → insights. New raw samples are scored, series by series;
everything else in the stream (roll-ups, the host registry, other tables' records) is ignored.

Per host and kind, one read of the trackers' states and one all-or-nothing write of the
insights with the advanced states; a failure is reported as that host's records only
(``batchItemFailures``), and a record that can never be read is set aside, not retried.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..severity import rank
from ..storage import TransactionCancelled
from . import business
from .patterns import Onset, PeerGroup, patterns
from .repository import InsightsRepository
from .settings import InsightsSettings
from .tracking import SeriesTracker, insight_id

logger = logging.getLogger("mission_control.insights")

#: the limit a metric's forecast aims at beyond the bounded resources' 100 %: a rule
#: threshold, given by whoever owns rules (host, metric) → limit or None
LimitOf = Callable[[str, str], "float | None"]


def no_rule_limits(host: str, metric: str) -> float | None:
    return None


@dataclass(frozen=True)
class StreamRecord:
    """The parts of a DynamoDB Streams record this handler reads."""

    sequence: str
    event_name: str
    table: str
    keys: dict
    new_image: dict | None


@dataclass(frozen=True)
class Sample:
    sequence: str
    host: str
    kind: str
    timestamp: int
    values: dict[str, float]
    #: the host's role (``meta.role``): hosts of one role and kind are each other's peers
    role: str | None = None


class Unreadable(ValueError):
    """A record of our table that can never be read as a sample."""


def plain(attribute: dict) -> Any:
    """A DynamoDB-JSON attribute value as plain Python (numbers as int or float)."""
    (tag, value), = attribute.items()
    if tag == "N":
        number = float(value)
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    if tag in ("S", "BOOL"):
        return value
    if tag == "NULL":
        return None
    if tag == "M":
        return {k: plain(v) for k, v in value.items()}
    if tag == "L":
        return [plain(v) for v in value]
    raise Unreadable(f"unexpected attribute type {tag}")


def sample_of(record: StreamRecord) -> Sample | None:
    """The raw sample a record inserts; None for anything else (roll-ups, hosts, removals)."""
    if record.event_name != "INSERT" or not record.keys.get("pk", {}).get("S", "").startswith("raw#"):
        return None
    try:
        image = {k: plain(v) for k, v in (record.new_image or {}).items()}
        host = image["pk"][len("raw#"):]
        ts, kind = image["sk"].split("#", 1)
        values = image["values"]
        if not isinstance(values, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                   for v in values.values()):
            raise Unreadable("values is not a map of numbers")
        role = (image.get("meta") or {}).get("role")
        return Sample(record.sequence, host, kind, int(ts), {k: float(v) for k, v in values.items()},
                      role if isinstance(role, str) and role else None)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise Unreadable(f"not a raw sample: {type(exc).__name__}: {exc}") from None


def consume_records(records: Sequence[StreamRecord], metrics_table: str, repo: InsightsRepository,
                    set_aside: Callable[[str, str, str], None], settings: InsightsSettings,
                    limit_of: LimitOf = no_rule_limits) -> dict:
    """Returns the Lambda partial-batch response. ``limit_of`` gives a rule threshold a
    metric's forecast should aim at (the alerts feature's rules); bounded resources
    (``*.used_percent``) aim at 100 % without one."""
    by_series: dict[tuple[str, str], list[Sample]] = {}
    for record in records:
        if record.table != metrics_table:
            continue
        try:
            sample = sample_of(record)
        except Unreadable as exc:
            set_aside(str(exc), json.dumps({"Keys": record.keys, "NewImage": record.new_image}), record.sequence)
            continue
        if sample is not None:
            by_series.setdefault((sample.host, sample.kind), []).append(sample)
    failed: list[str] = []
    onsets: list[Onset] = []
    peers: dict[tuple[str, str], list[tuple[Sample, set[str]]]] = {}
    for (host, kind), samples in by_series.items():
        try:
            new, anomalous = _score_series(repo, host, kind, samples, settings, limit_of)
        except Exception:  # noqa: BLE001 - one host's failure must not hold the others back
            logger.exception("insights for %s/%s failed; its records will be redelivered", host, kind)
            failed += [s.sequence for s in samples]
            continue
        onsets += new
        latest = max(samples, key=lambda s: s.timestamp)
        if latest.role:
            peers.setdefault((kind, latest.role), []).append((latest, anomalous))
    # Patterns and outliers are derived from what is stored; a failure here is logged and the
    # next batch of the same hosts derives them again.
    if onsets:
        try:
            _record_patterns(repo, onsets, settings)
        except Exception:  # noqa: BLE001
            logger.exception("pattern insights failed")
    for (kind, role), latest in peers.items():
        try:
            _record_outliers(repo, kind, role, latest, settings)
        except Exception:  # noqa: BLE001
            logger.exception("outlier insights for role %s failed", role)
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in failed]}


def score_business(repo: InsightsRepository, minute_counters: Callable[[int, int], Mapping[int, Mapping[str, float]]],
                   now_ms: int, settings: InsightsSettings) -> dict:
    """Feed the closed 5-minute steps of orders, revenue and conversion since the last run to
    their detectors (series ``business``/``business``), exactly as a host's metrics.
    ``minute_counters(first_ms, last_ms)`` gives the business roll-ups' minute buckets."""
    states = repo.load_series(business.HOST, business.KIND).states
    scored = [s["d"]["t"] for s in states.values() if s.get("d", {}).get("t") is not None]
    steps = business.closed_steps(max(scored) if scored else None, now_ms)
    if steps is None:
        return {"steps": 0}
    first, last = steps
    points = business.business_points(minute_counters(first, last + business.STEP_MS - 1), first, last)
    samples = [Sample("", business.HOST, business.KIND, ts, values) for ts, values in points]
    _score_series(repo, business.HOST, business.KIND, samples, settings, no_rule_limits)
    return {"steps": len(samples)}


def _record_outliers(repo: InsightsRepository, kind: str, role: str, latest: list[tuple[Sample, set[str]]],
                     settings: InsightsSettings, attempts: int = 3) -> None:
    now = max(sample.timestamp for sample, _a in latest)
    for attempt in range(attempts):
        state, version = repo.load_peers(kind, role)
        group = PeerGroup(kind, role, state, fresh_ms=settings.pattern_window_ms)
        for sample, anomalous in latest:
            group.observe(sample.host, sample.timestamp, sample.values, anomalous)
        try:
            repo.save_peers(kind, role, group.state(), version, group.finish(now))
            return
        except TransactionCancelled:
            if attempt == attempts - 1:
                raise


def _score_series(repo: InsightsRepository, host: str, kind: str, samples: list[Sample],
                  settings: InsightsSettings, limit_of: LimitOf, attempts: int = 3
                  ) -> tuple[list[Onset], set[str]]:
    """The anomaly onsets this batch raised, and the metrics anomalous after it."""
    for attempt in range(attempts):
        series = repo.load_series(host, kind)
        points: dict[str, list[tuple[int, float]]] = {}
        for sample in samples:
            for metric, value in sample.values.items():
                points.setdefault(metric, []).append((sample.timestamp, value))
        insights: list[dict] = []
        anomalous: set[str] = set()
        for metric, metric_points in points.items():
            tracker = SeriesTracker(host, kind, metric, series.states.get(metric),
                                    series.dismissals.get(metric, 0), settings.close_after_ms,
                                    limit=limit_of(host, metric),
                                    horizon_ms=settings.forecast_horizon_hours * 3_600_000)
            for ts, value in sorted(metric_points):
                tracker.add(ts, value)
            insights += tracker.finish()
            series.states[metric] = tracker.state()
            if tracker.open is not None:
                anomalous.add(metric)
        try:
            repo.save(host, kind, series, insights)
        except TransactionCancelled:
            if attempt == attempts - 1:
                raise
            continue  # another writer moved the states (or a verdict landed): score afresh
        first = min(s.timestamp for s in samples)
        return [Onset(i["host"], i["metric"], i["direction"], i["startsAt"]) for i in insights
                if i["type"] == "anomaly" and i["startsAt"] >= first], anomalous
    return [], set()


def _record_patterns(repo: InsightsRepository, new: Iterable[Onset], settings: InsightsSettings) -> None:
    """New onsets joined with other hosts' recent onsets of the same metric: a group on
    ``pattern_min_hosts`` hosts is one pattern insight, its id fixed by the group's metric,
    direction and first onset, so later members update it instead of adding another."""
    for metric in {o.metric for o in new}:
        since = min(o.starts_at for o in new if o.metric == metric) - settings.pattern_window_ms
        recent, _cursor = repo.page(metric=metric, type="anomaly", since=since, limit=200)
        recent = [i for i in recent if not i.get("outlier")]  # a host against its peers is no onset
        onsets = [Onset(i["host"], i["metric"], i["direction"], i["startsAt"]) for i in recent]
        for found in patterns(onsets, settings.pattern_min_hosts, settings.pattern_window_ms):
            members = [i for i in recent if i["host"] in found.hosts and i["direction"] == found.direction]
            peak = max(members, key=lambda i: i["score"])
            verb = "rose" if found.direction == "up" else "fell"
            repo.save_pattern({
                "id": insight_id(found.starts_at, "pattern", metric, found.direction),
                "type": "pattern", "severity": max((i["severity"] for i in members), key=rank),
                "confidence": min(99, max(i["confidence"] for i in members) + 5 * (len(found.hosts) - 2)),
                "message": f"{metric} {verb} on {len(found.hosts)} hosts within "
                           f"{settings.pattern_window_ms // 60_000} min: {', '.join(found.hosts)}",
                "affectedHosts": list(found.hosts), "metric": metric, "direction": found.direction,
                "startsAt": found.starts_at, "endsAt": None, "score": peak["score"],
                "members": [i["id"] for i in members], "points": peak.get("points", [])})

