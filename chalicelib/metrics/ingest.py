"""Storing samples: each exactly once, with its 1-minute and 1-hour roll-ups and its host's
latest state, in all-or-nothing writes. The HTTP route and the Kinesis handler both call
``record_samples``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..errors import Busy, InvalidInput
from ..storage import MAX_TRANSACTION_OPS, GroupCancelled
from .models import MetricSample
from .repository import HostState, MetricsRepository, RollupState, SampleGroup, host_key, \
    raw_key, rollup_key
from .series import HOUR_MS, MINUTE_MS, add_sample, estimate_interval, merge_bucket

FUTURE_TOLERANCE_MS = 5 * 60_000
_MAX_ATTEMPTS = 8


class SampleWriteFailed(Exception):
    """The store failed part-way; ``written`` holds the keys of the samples already stored."""

    def __init__(self, written: set, cause: BaseException):
        super().__init__(f"store failed after {len(written)} samples: {cause!r}")
        self.written = written


@dataclass
class SampleOutcome:
    accepted: int = 0
    duplicates: int = 0
    written: set = field(default_factory=set)


def check_sample_time(sample: MetricSample, now_ms: int, retention_ms: int) -> None:
    if sample.timestamp > now_ms + FUTURE_TOLERANCE_MS:
        raise InvalidInput("timestamp", [{"field": "timestamp", "message":
                           "more than 5 minutes in the future; check the sender's clock"}])
    if sample.timestamp < now_ms - retention_ms:
        raise InvalidInput("timestamp", [{"field": "timestamp", "message":
                           f"older than the {retention_ms // 86_400_000}-day metrics retention"}])


def record_samples(repo: MetricsRepository, samples: Sequence[MetricSample]) -> SampleOutcome:
    """Store the samples not stored before. Raises ``SampleWriteFailed`` (naming what was
    written) if the store fails part-way, so a stream consumer can retry exactly the rest.

    Samples are written host by host: each transaction holds whole hosts' samples (stored if
    absent) with those hosts' merged 1-minute and 1-hour roll-ups and latest state, so a
    batch writes each roll-up once. Costs one read of the roll-ups and hosts it touches and
    one ``transact_groups`` for a batch that meets no conflict.
    """
    outcome = SampleOutcome()
    unique: dict[tuple, MetricSample] = {}
    for s in samples:
        unique.setdefault(s.key, s)
    outcome.duplicates = len(samples) - len(unique)
    pending = list(unique.values())
    for _attempt in range(_MAX_ATTEMPTS):
        groups = plan_sample_groups(pending, *repo.load_states(*_state_keys(pending)))
        try:
            repo.write_groups(groups)
        except GroupCancelled as cancelled:
            done = [s for g in groups[:cancelled.group] for s in g.samples]
            outcome.accepted += len(done)
            outcome.written |= {s.key for s in done}
            pending = [s for g in groups[cancelled.group:] for s in g.samples]
            stored = repo.stored_raw(raw_key(*s.key) for s in pending)  # another writer's
            outcome.duplicates += len(stored)
            outcome.written |= {s.key for s in pending if raw_key(*s.key) in stored}
            pending = [s for s in pending if raw_key(*s.key) not in stored]
            if not pending:
                return outcome
            continue
        except Exception as exc:
            try:  # what the groups before the failure wrote
                stored = repo.stored_raw(raw_key(*s.key) for s in pending)
                outcome.written |= {s.key for s in pending if raw_key(*s.key) in stored}
            except Exception:
                pass  # the store is down: the caller retries all, and redelivery is harmless
            raise SampleWriteFailed(set(outcome.written), exc) from exc
        outcome.accepted += len(pending)
        outcome.written |= {s.key for s in pending}
        return outcome
    raise Busy("too many concurrent writes for the same hosts; retry")


def _rollup_keys(sample: MetricSample) -> tuple[tuple[str, str], tuple[str, str]]:
    """The 1-minute and 1-hour roll-ups a sample feeds."""
    h, k, ts = sample.key
    return rollup_key("1m", h, k, ts - ts % MINUTE_MS), rollup_key("1h", h, k, ts - ts % HOUR_MS)


def _state_keys(samples: Sequence[MetricSample]) -> tuple[set, set]:
    rollups, hosts = set(), set()
    for s in samples:
        rollups.update(_rollup_keys(s))
        hosts.add(host_key(s.host, s.kind))
    return rollups, hosts


def plan_sample_groups(pending: Sequence[MetricSample], rollups: dict[tuple[str, str], RollupState],
                       hosts: dict[tuple[str, str], HostState]) -> list[SampleGroup]:
    """Transactions of at most ``MAX_TRANSACTION_OPS`` items: each host's samples in time
    order with its roll-ups (merged with ``rollups`` as stored) and its latest state
    (``hosts`` as stored); a host with more samples than fit is split in time, and each
    part expects the versions the part before it leaves. Pure."""
    by_host: dict[tuple[str, str], list[MetricSample]] = {}
    for s in pending:
        by_host.setdefault(host_key(s.host, s.kind), []).append(s)
    working_rollups, working_hosts = dict(rollups), dict(hosts)
    parts: list[SampleGroup] = []
    for hk, host_samples in by_host.items():
        host_samples.sort(key=lambda s: s.timestamp)
        part: list[MetricSample] = []
        keys: set = set()
        for s in host_samples:
            touched = _touched(s)
            if part and len(keys | touched) > MAX_TRANSACTION_OPS:
                parts.append(_host_part(hk, part, working_rollups, working_hosts))
                part, keys = [], set()
            part.append(s)
            keys |= touched
        parts.append(_host_part(hk, part, working_rollups, working_hosts))
    groups: list[SampleGroup] = []
    for p in parts:  # whole host parts into transactions
        if groups and groups[-1].size() + p.size() <= MAX_TRANSACTION_OPS:
            groups[-1].absorb(p)
        else:
            groups.append(p)
    return groups


def _touched(sample: MetricSample) -> set:
    return {raw_key(*sample.key), *_rollup_keys(sample), host_key(sample.host, sample.kind)}


def _host_part(hk: tuple[str, str], part: list[MetricSample], rollups: dict, hosts: dict
               ) -> SampleGroup:
    """One host's samples (in time order) with the roll-ups and host state they leave;
    ``rollups`` and ``hosts`` move on to what this part writes, with the next versions."""
    merged: dict[tuple[str, str], tuple[dict, int]] = {}
    for s in part:
        for resolution, length in (("1m", MINUTE_MS), ("1h", HOUR_MS)):
            start = s.timestamp - s.timestamp % length
            key = rollup_key(resolution, s.host, s.kind, start)
            bucket = merged.get(key)
            if bucket is None:
                bucket = merged[key] = ({}, start)
            add_sample(bucket[0], s.values, s.timestamp)
    group = SampleGroup(samples=list(part))
    for key, (stats, start) in merged.items():
        before = rollups.get(key)
        state = RollupState(merge_bucket({k: list(v) for k, v in (before.stats if before else {}).items()},
                                         stats), before.version if before else None)
        group.rollups[key] = (state, start)
        rollups[key] = RollupState(state.stats, (state.version or 0) + 1)
    latest = part[-1]
    before = hosts.get(hk)
    if before is None or before.last_seen < latest.timestamp:  # a late sample does not rewind it
        # The part's own two newest samples say its cadence (an agent's backlog after an
        # outage), not their distance from the last stored sample.
        previous = part[-2].timestamp if len(part) >= 2 else (before.last_seen if before else None)
        state = HostState(latest.host, latest.kind, latest.timestamp,
                          estimate_interval(previous, latest.timestamp,
                                            before.interval if before else None),
                          dict(latest.values), dict(latest.meta or (before.meta if before else {})),
                          before.version if before else None)
        group.hosts[hk] = state
        hosts[hk] = HostState(**{**state.__dict__, "version": (state.version or 0) + 1})
    return group
