"""Storing samples: each exactly once, with its 1-minute and 1-hour roll-ups and its host's
latest state, in all-or-nothing writes. The HTTP route and the Kinesis handler both call
``record_samples``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..errors import Busy, InvalidInput
from ..storage import MAX_TRANSACTION_OPS, TransactionCancelled
from .models import MetricSample
from .repository import HostState, MetricsRepository, RollupState, host_key, raw_key, rollup_key
from .series import HOUR_MS, MINUTE_MS, bucket_of, estimate_interval, merge_bucket

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
    """Store the samples not stored before, in input order. Raises ``SampleWriteFailed``
    (naming what was written) if the store fails part-way, so a stream consumer can retry
    exactly the rest."""
    outcome = SampleOutcome()
    unique: dict[tuple, MetricSample] = {}
    for s in samples:
        unique.setdefault(s.key, s)
    outcome.duplicates = len(samples) - len(unique)
    stored = repo.stored_raw(raw_key(*k) for k in unique)
    pending = [s for k, s in unique.items() if raw_key(*k) not in stored]
    outcome.duplicates += len(unique) - len(pending)
    outcome.written |= {k for k in unique if raw_key(*k) in stored}
    attempts = 0
    while pending:
        chunk = _take_chunk(pending)
        try:
            _write_chunk(repo, chunk)
        except TransactionCancelled:
            attempts += 1
            if attempts >= _MAX_ATTEMPTS:
                raise Busy("too many concurrent writes for the same hosts; retry") from None
            again = repo.stored_raw(raw_key(*s.key) for s in chunk)
            outcome.duplicates += len(again)
            outcome.written |= {s.key for s in chunk if raw_key(*s.key) in again}
            pending = [s for s in pending if raw_key(*s.key) not in again]
            continue
        except Exception as exc:
            raise SampleWriteFailed(set(outcome.written), exc) from exc
        outcome.accepted += len(chunk)
        outcome.written |= {s.key for s in chunk}
        pending = pending[len(chunk):]
    return outcome


def _touched(sample: MetricSample) -> set:
    h, k, ts = sample.key
    return {raw_key(h, k, ts), rollup_key("1m", h, k, ts - ts % MINUTE_MS),
            rollup_key("1h", h, k, ts - ts % HOUR_MS), host_key(h, k)}


def _take_chunk(pending: Sequence[MetricSample]) -> list[MetricSample]:
    keys: set = set()
    chunk = []
    for sample in pending:
        touched = _touched(sample)
        if chunk and len(keys | touched) > MAX_TRANSACTION_OPS:
            break
        keys |= touched
        chunk.append(sample)
    return chunk


def _write_chunk(repo: MetricsRepository, chunk: list[MetricSample]) -> None:
    buckets: dict[tuple[str, str], tuple[dict, int]] = {}
    latest: dict[tuple[str, str], MetricSample] = {}
    # The host's two newest timestamps in this chunk: a batch (an agent's backlog after an
    # outage) says its cadence by itself, not by its distance from the last stored sample.
    newest: dict[tuple[str, str], list[int]] = {}
    for s in chunk:
        two = newest.setdefault(host_key(s.host, s.kind), [])
        two.append(s.timestamp)
        two.sort()
        del two[:-2]
        for resolution, length in (("1m", MINUTE_MS), ("1h", HOUR_MS)):
            start = s.timestamp - s.timestamp % length
            key = rollup_key(resolution, s.host, s.kind, start)
            stats, _ = buckets.setdefault(key, ({}, start))
            merge_bucket(stats, bucket_of(s.values, s.timestamp))
        hk = host_key(s.host, s.kind)
        if hk not in latest or s.timestamp > latest[hk].timestamp:
            latest[hk] = s
    stored_rollups = repo.load_rollups(buckets)
    stored_hosts = repo.load_hosts(latest)
    rollups = {}
    for key, (stats, start) in buckets.items():
        before = stored_rollups.get(key)
        merged = merge_bucket({k: list(v) for k, v in (before.stats if before else {}).items()}, stats)
        rollups[key] = (RollupState(merged, before.version if before else None), start)
    hosts = {}
    for key, s in latest.items():
        before = stored_hosts.get(key)
        if before is not None and before.last_seen >= s.timestamp:
            continue  # a late sample does not rewind the host's latest state
        two = newest[key]
        previous = two[0] if len(two) == 2 else (before.last_seen if before else None)
        hosts[key] = HostState(s.host, s.kind, s.timestamp,
                               estimate_interval(previous, s.timestamp,
                                                 before.interval if before else None),
                               dict(s.values), dict(s.meta or (before.meta if before else {})),
                               before.version if before else None)
    raws = [(raw_key(*s.key), s.timestamp, dict(s.values), s.meta) for s in chunk]
    repo.write(raws, rollups, hosts)
