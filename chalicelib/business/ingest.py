"""Ingesting purchases, page views and custom events: validate, drop what is already stored,
and write each event with the roll-ups it feeds in one all-or-nothing transaction."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple, Sequence

from ..batches import validate_batch
from ..errors import Busy, InvalidInput
from ..storage import MAX_TRANSACTION_OPS, GroupCancelled
from .models import EVENT_MODELS, MAX_BATCH, BusinessEvent, CustomEvent, Purchase
from .repository import BusinessRepository, Claim, Journal, feature_key, session_key, user_key
from .rollup import ActiveDays, CounterKey, MinuteCounters, active_day, \
    biz_keys_of, event_keys, mark_day, mark_keys, session_moved, widen_session

FUTURE_TOLERANCE_MS = 5 * 60_000
_MAX_ATTEMPTS = 8
#: Journal items a claim may write: its deltas split by part of the batch's counter keys
#: (see ``_key_parts``). Claims are planned with this many ops kept free for them.
JOURNAL_PARTS = 3


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

    Each event is claimed (stored if absent) in the same transaction as the actor states it
    moves and either its roll-up increments or a journal of them, which the same call then
    adds to the roll-ups merged with the batch's other journals: a crash never leaves an
    event half counted, and a journal left by a crash is added by ``add_stale_journals``.
    A conflict with a concurrent writer (the same event, or the same actor, at once)
    re-reads what it needs and plans again; an event found stored meanwhile is a duplicate.
    Costs one read of the actor states and one ``transact_groups`` for a batch that meets
    no conflict.
    """
    unique: dict[str, BusinessEvent] = {}
    for event in events:
        unique.setdefault(event.key, event)
    duplicates = len(events) - len(unique)
    pending = list(unique.values())
    states = repo.load_states(_actor_keys(pending))
    accepted = 0
    for _attempt in range(_MAX_ATTEMPTS):
        claims, journaled = plan_claims(pending, states, policy, repo.bucket_is_kept, now_ms)
        written = _write_claims(repo, claims, journaled, now_ms)
        accepted += sum(len(c.events) for c in claims[:written])
        if written == len(claims):
            return accepted, duplicates
        # Another writer got there first: which events are stored now, and the states as
        # they are now, decide the rest.
        pending = [e for c in claims[written:] for e in c.events]
        stored = repo.stored_event_keys(e.key for e in pending)
        duplicates += len(stored)
        pending = [e for e in pending if e.key not in stored]
        if not pending:
            return accepted, duplicates
        states = repo.load_states(_actor_keys(pending))
    raise Busy("too many concurrent writes to the same users or events; retry")


def add_stale_journals(repo: BusinessRepository, now_ms: int, min_age_ms: int = 60_000) -> int:
    """Add the journals that a writer left unadded (it stopped between its claims and their
    roll-ups) and that are older than ``min_age_ms``; returns how many. Run by the
    aggregateStats schedule. Racing a live writer is harmless: a journal is consumed once."""
    journals = repo.stale_journals(now_ms - min_age_ms)
    _add_journals(repo, journals)
    return len(journals)


def _write_claims(repo: BusinessRepository, claims: list[Claim], journaled: bool,
                  now_ms: int) -> int:
    """Write the claims (and add their journals); returns how many claims were written. A
    store failure part-way adds the journals of the claims already written, then raises."""
    if journaled:
        part_of = _key_parts([c.delta.counters.keys() for c in claims])
        by_claim = [repo.journals_for(c, now_ms, part_of) for c in claims]
    else:
        by_claim = [{} for _ in claims]
    groups = [repo.claim_ops(c, now_ms, list(by_claim[i].values()) if journaled else None)
              for i, c in enumerate(claims)]
    runs = _by_part(by_claim)
    journals = [j for run in runs for j in run]
    applies = [group for run in runs for group in _apply_groups(repo, run)]
    try:
        repo.write_groups(groups + applies)
    except GroupCancelled as cancelled:
        if cancelled.group < len(claims):
            _add_journals(repo, [j for run in _by_part(by_claim[:cancelled.group]) for j in run])
            return cancelled.group
        _add_journals(repo, repo.live_journals(journals))  # another writer added some
    except Exception:
        _add_journals(repo, repo.live_journals(journals), quietly=True)
        raise
    return len(claims)


def _key_parts(key_sets: Sequence[Iterable[CounterKey]]) -> dict[CounterKey, int]:
    """Each counter key's part: at most ``JOURNAL_PARTS`` ranges of the sorted keys, so small
    that one part's journals (one per claim) and merged increments fit one transaction when
    the parts suffice. Each key is then incremented once for the batch, not once for every
    run of journals whose keys fit a transaction together."""
    keys = sorted(set().union(*key_sets))
    room = max(1, MAX_TRANSACTION_OPS - len(key_sets))
    parts = min(JOURNAL_PARTS, max(1, -(-len(keys) // room)))
    size = max(1, -(-len(keys) // parts))
    return {key: i // size for i, key in enumerate(keys)}


def _by_part(by_claim: Sequence[dict[int, Journal]]) -> list[list[Journal]]:
    """The journals of each part: a part's journals are consumed together, apart from the
    other parts' (mixed, two runs of journals would each increment most of the keys)."""
    parts = sorted({p for journals in by_claim for p in journals})
    return [[journals[p] for journals in by_claim if p in journals] for p in parts]


def _apply_groups(repo: BusinessRepository, journals: list[Journal]) -> list[list]:
    """Journals in groups whose consumption and merged increments fit one transaction."""
    parts = _apply_partition([j.delta.counters.keys() for j in journals])
    return [repo.apply_ops([journals[i] for i in part]) for part in parts]


def _apply_group_count(key_sets: Sequence[set]) -> int:
    """How many transactions add the journals of claims with these counter keys."""
    part_of = _key_parts(key_sets)
    parts = [[{k for k in keys if part_of[k] == p} for keys in key_sets] for p in set(part_of.values())]
    return sum(len(_apply_partition([keys for keys in part if keys])) for part in parts)


def _apply_partition(key_sets: Sequence[Iterable]) -> list[list[int]]:
    """Consecutive runs of journals (one delete each) whose merged counter keys (one
    increment each) fit one transaction together."""
    parts: list[list[int]] = []
    part: list[int] = []
    keys: set = set()
    for i, journal_keys in enumerate(key_sets):
        merged = keys.union(journal_keys)
        if part and len(part) + 1 + len(merged) > MAX_TRANSACTION_OPS:
            parts.append(part)
            part, merged = [], set(journal_keys)
        part.append(i)
        keys = merged
    if part:
        parts.append(part)
    return parts


def _add_journals(repo: BusinessRepository, journals: list[Journal], quietly: bool = False) -> None:
    """Consume and add ``journals``; those another writer consumed meanwhile are skipped.
    ``quietly``: the caller is failing already, and a journal left now is added later by the
    schedule, so a failure here is not raised over the caller's."""
    try:
        for _attempt in range(_MAX_ATTEMPTS):
            if not journals:
                return
            try:
                repo.write_groups(_apply_groups(repo, journals))
                return
            except GroupCancelled:
                journals = repo.live_journals(journals)
        raise Busy("journals kept changing under their consumption; retry")
    except Exception:
        if not quietly:
            raise


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


class _Planned(NamedTuple):
    """One event as planned: the actor states it moves, the active days it marks, its
    session's moves, and the roll-up keys its counters reach (kept buckets only, possibly
    repeated)."""

    event: BusinessEvent
    changed: dict
    marks: tuple
    session_moves: tuple
    items: tuple


def _effects(event: BusinessEvent, working: dict, tz: str) -> tuple[dict, tuple, tuple]:
    """The actor states ``event`` moves (against ``working``, the latest planned state of
    each actor), the active days it marks, and its session's moves. Pure."""
    changed: dict = {}
    marks: tuple = ()
    if event.userId:
        day = active_day(event, tz)
        actors = [(user_key(event.userId), "biz", "", "active_users")]
        if isinstance(event, CustomEvent) and event.feature:
            actors.append((feature_key(event.userId, event.feature), "feat", event.feature, "users"))
        for key, family, dim, users_counter in actors:
            after, mark = mark_day(working.get(key) or ActiveDays(), day, family, dim, users_counter)
            if mark is not None:
                changed[key] = after
                marks += (mark,)
    moves: tuple = ()
    if event.sessionId:
        key = session_key(event.sessionId)
        before = working.get(key)
        after = widen_session(before, event.timestamp, event.userId)
        if after != before:
            changed[key] = after
        if session_moved(before, after):
            moves = ((after, 1),) if before is None else ((after, 1), (before, -1))
    return changed, marks, moves


def plan_claims(pending: Sequence[BusinessEvent], states: dict, policy: IngestPolicy,
                bucket_is_kept, now_ms: int) -> tuple[list[Claim], bool]:
    """The claims that write ``pending``, and whether their deltas go through journals.

    Two plans, the one with fewer transactions wins: claims carrying their own increments
    (best when events spread over many buckets, as a backfill does), or claims journaling
    their deltas, added in one merged step (best for live traffic, where a batch's events
    share a few buckets: each bucket is then written once per batch, not once per claim).
    Pure: ``bucket_is_kept(key, now_ms)`` says which buckets are still kept.
    """
    tz = policy.tz
    working = dict(states)

    def kept(key: CounterKey) -> bool:
        return bucket_is_kept(key, now_ms)

    items_memo: dict = {}

    def items_of(keys: tuple) -> tuple:
        """The kept ones of ``keys``, memoised: a batch repeats a few keys."""
        items = items_memo.get(keys)
        if items is None:
            items = items_memo[keys] = tuple(k for k in keys if kept(k))
        return items

    # Sessions in the order they start, each session's events together and in time order:
    # a claim's events then share buckets, and a session's state is written once (the
    # counters do not depend on the order events are planned in).
    starts: dict[str, int] = {}
    for event in pending:
        if event.sessionId and event.timestamp < starts.get(event.sessionId, 1 << 62):
            starts[event.sessionId] = event.timestamp
    order = sorted(pending, key=lambda e: (starts.get(e.sessionId, e.timestamp) if e.sessionId
                                           else e.timestamp, e.sessionId or "", e.timestamp))
    planned = []
    for event in order:
        changed, marks, moves = _effects(event, working, tz)
        working.update(changed)
        items = items_of(event_keys(event, tz))
        for span, _sign in moves:
            items += items_of(biz_keys_of(span.first_ms, tz))
        for mark in marks:
            items += items_of(mark_keys(mark, tz))
        planned.append(_Planned(event, changed, marks, moves, items))
    journaled = _claim_bounds(planned, journaled=True)
    journal_groups = len(journaled) + _apply_group_count([keys for _, keys in journaled])
    inline = _claim_bounds(planned, journaled=False, give_up_at=journal_groups)
    use_journals = inline is None
    return _claims(planned, journaled if use_journals else inline, states, policy.shards,
                   tz, kept), use_journals


def _claim_bounds(planned: list[_Planned], journaled: bool, give_up_at: int | None = None
                  ) -> list[tuple[int, set]] | None:
    """Where claims start, and each claim's counter keys: claims of at most
    ``MAX_TRANSACTION_OPS`` items (events, states, and either the increments or up to
    ``JOURNAL_PARTS`` journals, whose increments must fit one transaction too). Counts keys
    only; builds nothing.
    None once ``give_up_at`` claims are needed (another plan needs no more)."""
    bounds: list[tuple[int, set]] = []
    events, states, keys = 0, set(), set()
    for i, p in enumerate(planned):
        new_keys = [k for k in p.items if k not in keys]
        new_states = sum(1 for k in p.changed if k not in states)
        counters = len(keys) + len(set(new_keys))
        size = events + 1 + len(states) + new_states + (JOURNAL_PARTS if journaled else counters)
        if events and (size > MAX_TRANSACTION_OPS or (journaled and counters >= MAX_TRANSACTION_OPS)):
            events, states, keys = 0, set(), set()
            new_keys = list(p.items)
        if not events:
            if len(bounds) == give_up_at:
                return None
            bounds.append((i, keys))
        events += 1
        states.update(p.changed)
        keys.update(new_keys)
    return bounds


def _claims(planned: list[_Planned], bounds: list[tuple[int, set]], states: dict, shards: int,
            tz: str, kept) -> list[Claim]:
    """The claims between ``bounds``. A state moved twice in a claim is written once,
    expecting the version the claims before it left it at."""
    versions = {k: v.version for k, v in states.items()}
    starts = [start for start, _keys in bounds] + [len(planned)]
    claims = []
    for start, end in zip(starts, starts[1:]):
        claim = Claim()
        counters = MinuteCounters(tz)
        for p in planned[start:end]:
            event = p.event
            claim.events.append(event)
            claim.states.update(p.changed)
            counters.add_event(event)
            for span, sign in p.session_moves:
                counters.add_session(span, sign)
            for mark in p.marks:
                counters.add_mark(mark)
            if isinstance(event, Purchase):
                claim.product_names[event.productId] = event.productName
        counters.expand(claim.delta, kept)
        for key, state in claim.states.items():
            claim.states[key] = state._replace(version=versions.get(key))
            versions[key] = (versions.get(key) or 0) + 1
        seed = hashlib.blake2b(claim.events[0].key.encode(), digest_size=4).digest()
        claim.shard = int.from_bytes(seed, "big") % shards
        claims.append(claim)
    return claims
