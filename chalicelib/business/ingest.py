"""Ingesting purchases, page views and custom events: validate, drop what is already stored,
and write each event with the roll-ups it feeds in one all-or-nothing transaction."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

from ..batches import validate_batch
from ..errors import Busy, InvalidInput
from ..storage import MAX_TRANSACTION_OPS, TransactionCancelled
from .models import EVENT_MODELS, MAX_BATCH, BusinessEvent, CustomEvent, Purchase
from .repository import BusinessRepository, ChunkWrite, feature_key, session_key, user_key
from .rollup import ActiveDays, RollupDelta, active_day, event_counters, \
    extend_session, mark_active

FUTURE_TOLERANCE_MS = 5 * 60_000
_MAX_ATTEMPTS = 8


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "refused": self.refused}


@dataclass(frozen=True)
class IngestPolicy:
    tz: str
    currency: str
    retention_ms: int
    shards: int


def parse_events(kind: str, body: Any, policy: IngestPolicy, now_ms: int
                 ) -> tuple[list[tuple[int, BusinessEvent]], list[dict[str, Any]], bool]:
    """Validate a body (one JSON object, or an array of at most 500); see ``validate_batch``."""
    return validate_batch(body, EVENT_MODELS[kind], kind, MAX_BATCH,
                          lambda event: _check_business_rules(event, policy, now_ms))


def _check_business_rules(event: BusinessEvent, policy: IngestPolicy, now_ms: int) -> None:
    if isinstance(event, Purchase) and event.currency != policy.currency:
        raise InvalidInput("currency", [{"field": "currency", "message":
                           f"this team reports in {policy.currency}; convert before sending "
                           f"(got {event.currency})"}])
    if event.timestamp > now_ms + FUTURE_TOLERANCE_MS:
        raise InvalidInput("timestamp", [{"field": "timestamp", "message":
                           "more than 5 minutes in the future; check the sender's clock"}])
    if event.timestamp < now_ms - policy.retention_ms:
        days = policy.retention_ms // 86_400_000
        raise InvalidInput("timestamp", [{"field": "timestamp", "message":
                           f"older than the {days}-day roll-up retention"}])


def record_events(repo: BusinessRepository, events: Sequence[BusinessEvent],
                  policy: IngestPolicy, now_ms: int) -> tuple[int, int]:
    """Store events not stored before; returns (accepted, duplicates).

    Each transaction holds some events, the actor states they move and their aggregated
    counter increments: all written or none, so a crash never leaves half an event counted.
    A conflict with a concurrent writer (the same event, or the same user, at once) re-reads
    the state and plans again; an event found stored meanwhile is a duplicate.
    """
    unique: dict[str, BusinessEvent] = {}
    for event in events:
        unique.setdefault(event.key, event)
    duplicates = len(events) - len(unique)
    stored = repo.stored_event_keys(unique)
    pending = [e for k, e in unique.items() if k not in stored]
    duplicates += len(stored)
    accepted, attempts = 0, 0
    states = repo.load_states(_actor_keys(pending))
    while pending:
        chunk = _plan_chunk(pending, states, policy, repo, now_ms)
        try:
            repo.write_chunk(chunk)
        except TransactionCancelled:
            attempts += 1
            if attempts >= _MAX_ATTEMPTS:
                raise Busy("too many concurrent writes to the same users or events; retry") from None
            stored = repo.stored_event_keys(e.key for e in chunk.events)
            duplicates += len(stored)
            pending = [e for e in pending if e.key not in stored]
            states = repo.load_states(_actor_keys(pending))
            continue
        accepted += len(chunk.events)
        pending = pending[len(chunk.events):]
        states.update({k: replace(v, version=(v.version or 0) + 1) for k, v in chunk.states.items()})
    return accepted, duplicates


def _actor_keys(events: Sequence[BusinessEvent]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for e in events:
        if e.userId:
            keys.add(user_key(e.userId))
            if isinstance(e, CustomEvent) and e.feature:
                keys.add(feature_key(e.userId, e.feature))
        if e.sessionId:
            keys.add(session_key(e.sessionId))
    return keys


def _plan_chunk(pending: Sequence[BusinessEvent], states: dict, policy: IngestPolicy,
                repo: BusinessRepository, now_ms: int) -> ChunkWrite:
    """Take events from the front of ``pending`` while the transaction stays within
    DynamoDB's item limit. Pure apart from reading ``repo``'s retention settings."""
    tz = policy.tz
    chunk_states: dict = {}
    delta = RollupDelta()
    taken: list[BusinessEvent] = []
    names: dict[str, str] = {}
    for event in pending:
        ev_states: dict = {}
        ev_delta = event_counters(event, tz)
        day = active_day(event, tz)
        if event.userId:
            key = user_key(event.userId)
            before = chunk_states.get(key) or states.get(key) or ActiveDays()
            after, d = mark_active(before, day, "biz", "", "active_users", tz)
            if after is not before:
                ev_states[key] = after
            ev_delta.merge(d)
            if isinstance(event, CustomEvent) and event.feature:
                key = feature_key(event.userId, event.feature)
                before = chunk_states.get(key) or states.get(key) or ActiveDays()
                after, d = mark_active(before, day, "feat", event.feature, "users", tz)
                if after is not before:
                    ev_states[key] = after
                ev_delta.merge(d)
        if event.sessionId:
            key = session_key(event.sessionId)
            before = chunk_states.get(key) or states.get(key)
            after, d = extend_session(before, event.timestamp, event.userId, tz)
            if after != before:
                ev_states[key] = after
            ev_delta.merge(d)
        ev_delta.counters = {k: v for k, v in ev_delta.counters.items()
                             if repo.bucket_is_kept(k, now_ms)}
        trial = RollupDelta({k: dict(v) for k, v in delta.counters.items()})
        trial.merge(ev_delta)
        merged_states = {**chunk_states, **ev_states}
        if taken and repo.ops_for(len(taken) + 1, len(merged_states), trial) > MAX_TRANSACTION_OPS:
            break
        taken.append(event)
        chunk_states, delta = merged_states, trial
        if isinstance(event, Purchase):
            names[event.productId] = event.productName
    # Versions must be the stored ones: a state changed twice in a chunk is written once.
    for key, state in chunk_states.items():
        base = states.get(key)
        chunk_states[key] = replace(state, version=base.version if base else None)
    shard_seed = hashlib.blake2b(taken[0].key.encode(), digest_size=4).digest()
    return ChunkWrite(taken, chunk_states, delta, int.from_bytes(shard_seed, "big") % policy.shards,
                      now_ms, names)

