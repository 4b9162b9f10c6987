"""How one business event changes the roll-up counters. Pure: no storage, no clock.

Counters live in buckets keyed by (family, granularity, bucket start, dimension):

- family ``biz`` (no dimension): ``revenue`` (minor units), ``orders``, ``pageviews``,
  ``events``, ``sessions`` and ``session_ms`` (attributed to the bucket the session started
  in), and at day granularity ``active_users`` (distinct users active that day, DAU) and
  ``last_active`` (users whose latest active day is that day; summing it over the last 30
  days gives MAU exactly, without a distinct count at read time).
- family ``prod`` (dimension product id): ``orders`` (downloads) and ``revenue``.
- family ``feat`` (dimension feature, day only): ``users`` and ``last_active``, as for biz.

Distinct counts need per-actor state (the days a user was active, a session's first and last
event); each state change is turned into counter deltas, so reads never count distinct values.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Iterator, NamedTuple

from ..timebuckets import DAY_MS, MINUTE_MS, bucket_start, day_start_of_date, local_date
from .models import BusinessEvent, CustomEvent, PageView, Purchase

#: A user's active days are remembered this long, so a late event within it is still exact.
ACTIVE_DAYS_KEPT = 62
MINUTE_BUCKETS_KEPT_MS = 2 * DAY_MS
HOUR_BUCKETS_KEPT_MS = 90 * DAY_MS


class CounterKey(NamedTuple):
    """A tuple, so that hashing it (once per counter per event when planning) is C-fast."""

    family: str
    granularity: str
    bucket: int  # bucket start, epoch ms
    dim: str = ""


# Actor states are tuples: a batch plans thousands, and a tuple is made and compared in C.
class ActiveDays(NamedTuple):
    """The local dates an actor (a user, or a user's use of a feature) was active on."""

    days: tuple[str, ...] = ()
    version: int | None = None  # stored version; None when not stored yet


class SessionSpan(NamedTuple):
    first_ms: int
    last_ms: int
    user_id: str | None = None
    version: int | None = None


@dataclass
class RollupDelta:
    """Counter deltas, aggregated: many events touching one bucket make one write."""

    counters: dict[CounterKey, dict[str, int]] = field(default_factory=dict)

    def add(self, key: CounterKey, **deltas: int) -> None:
        self.add_map(key, deltas)

    def add_map(self, key: CounterKey, deltas: dict[str, int]) -> None:
        bucket = self.counters.get(key)
        if bucket is None:
            self.counters[key] = dict(deltas)
        else:
            for name, value in deltas.items():
                bucket[name] = bucket.get(name, 0) + value

    def merge(self, other: "RollupDelta") -> None:
        for key, deltas in other.counters.items():
            self.add_map(key, deltas)

    def nonzero(self) -> Iterator[tuple[CounterKey, dict[str, int]]]:
        for key, deltas in self.counters.items():
            kept = {k: v for k, v in deltas.items() if v}
            if kept:
                yield key, kept


def bucket_retention_ms(granularity: str, day_retention_ms: int) -> int:
    """How long a bucket of this granularity is kept; older buckets are neither written nor read."""
    return {"m": MINUTE_BUCKETS_KEPT_MS, "h": HOUR_BUCKETS_KEPT_MS, "d": day_retention_ms}[granularity]


def _bucket_starts(ts_ms: int, tz: str) -> tuple[int, int, int]:
    """The minute, hour and day buckets holding ``ts_ms``."""
    return _buckets_of_minute(ts_ms - ts_ms % MINUTE_MS, tz)


@functools.lru_cache(maxsize=65_536)
def _buckets_of_minute(minute_ms: int, tz: str) -> tuple[int, int, int]:
    # Minutes repeat across a batch's events; every zone's offset is whole minutes.
    return minute_ms, bucket_start(minute_ms, "h", tz), bucket_start(minute_ms, "d", tz)


# Each function below adds its deltas ``into`` a delta the caller accumulates (a new one when
# none is given) and returns it: planning a batch adds a dozen counters per event, and one
# accumulating delta spares a small delta and a merge for each.
def mark_active(state: ActiveDays, day: str, family: str, dim: str, users_counter: str,
                tz: str, into: RollupDelta | None = None) -> tuple[ActiveDays, RollupDelta]:
    """Record activity on ``day``: counts the actor once per day, and moves its
    ``last_active`` mark to its latest day. No change (and no delta) if already counted."""
    delta = RollupDelta() if into is None else into
    if day in state.days:
        return state, delta
    old_last = state.days[-1] if state.days else None
    days = tuple(sorted(state.days + (day,)))[-ACTIVE_DAYS_KEPT:]
    if day not in days:  # older than every remembered day: too late to count exactly
        return state, delta
    delta.add_map(CounterKey(family, "d", day_start_of_date(day, tz), dim), {users_counter: 1})
    new_last = days[-1]
    if new_last != old_last:
        delta.add_map(CounterKey(family, "d", day_start_of_date(new_last, tz), dim), {"last_active": 1})
        if old_last is not None:
            delta.add_map(CounterKey(family, "d", day_start_of_date(old_last, tz), dim),
                          {"last_active": -1})
    return ActiveDays(days, state.version), delta


def _session_contribution(span: SessionSpan | None, tz: str, sign: int, into: RollupDelta) -> None:
    if span is not None:
        counters = {"sessions": sign, "session_ms": sign * (span.last_ms - span.first_ms)}
        for g, start in zip("mhd", _bucket_starts(span.first_ms, tz)):
            into.add_map(CounterKey("biz", g, start), counters)


def extend_session(span: SessionSpan | None, ts_ms: int, user_id: str | None, tz: str,
                   into: RollupDelta | None = None) -> tuple[SessionSpan, RollupDelta]:
    """Widen a session to cover ``ts_ms``. A session counts once, in the bucket it started
    in, with its duration (last − first event); a late event that moves its start moves it."""
    delta = RollupDelta() if into is None else into
    if span is None:
        new = SessionSpan(ts_ms, ts_ms, user_id)
    else:
        new = SessionSpan(min(span.first_ms, ts_ms), max(span.last_ms, ts_ms),
                          span.user_id or user_id, span.version)
    if span is not None and (new.first_ms, new.last_ms) == (span.first_ms, span.last_ms):
        return new, delta
    _session_contribution(new, tz, +1, delta)
    _session_contribution(span, tz, -1, delta)
    return new, delta


def event_counters(event: BusinessEvent, tz: str, into: RollupDelta | None = None) -> RollupDelta:
    """The counters an event adds by itself (not the distinct counts, which need state)."""
    delta = RollupDelta() if into is None else into
    buckets = _bucket_starts(event.timestamp, tz)
    if isinstance(event, Purchase):
        counters = {"revenue": event.amount, "orders": 1}
        for g, start in zip("mhd", buckets):
            delta.add_map(CounterKey("biz", g, start), counters)
        for g, start in zip("hd", buckets[1:]):
            delta.add_map(CounterKey("prod", g, start, event.productId), counters)
    elif isinstance(event, PageView):
        for g, start in zip("mhd", buckets):
            delta.add_map(CounterKey("biz", g, start), {"pageviews": 1})
    elif isinstance(event, CustomEvent):
        for g, start in zip("mhd", buckets):
            delta.add_map(CounterKey("biz", g, start), {"events": 1})
    return delta


def active_day(event: BusinessEvent, tz: str) -> str:
    return local_date(event.timestamp, tz)

