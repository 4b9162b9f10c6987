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

from dataclasses import dataclass, field, replace
from typing import Iterator

from ..timebuckets import DAY_MS, bucket_start, day_start_of_date, local_date
from .models import BusinessEvent, CustomEvent, PageView, Purchase

#: A user's active days are remembered this long, so a late event within it is still exact.
ACTIVE_DAYS_KEPT = 62
MINUTE_BUCKETS_KEPT_MS = 2 * DAY_MS
HOUR_BUCKETS_KEPT_MS = 90 * DAY_MS


@dataclass(frozen=True)
class CounterKey:
    family: str
    granularity: str
    bucket: int  # bucket start, epoch ms
    dim: str = ""


@dataclass(frozen=True)
class ActiveDays:
    """The local dates an actor (a user, or a user's use of a feature) was active on."""

    days: tuple[str, ...] = ()
    version: int | None = None  # stored version; None when not stored yet


@dataclass(frozen=True)
class SessionSpan:
    first_ms: int
    last_ms: int
    user_id: str | None = None
    version: int | None = None


@dataclass
class RollupDelta:
    """Counter deltas, aggregated: many events touching one bucket make one write."""

    counters: dict[CounterKey, dict[str, int]] = field(default_factory=dict)

    def add(self, key: CounterKey, **deltas: int) -> None:
        bucket = self.counters.setdefault(key, {})
        for name, value in deltas.items():
            bucket[name] = bucket.get(name, 0) + value

    def merge(self, other: "RollupDelta") -> None:
        for key, deltas in other.counters.items():
            self.add(key, **deltas)

    def nonzero(self) -> Iterator[tuple[CounterKey, dict[str, int]]]:
        for key, deltas in self.counters.items():
            kept = {k: v for k, v in deltas.items() if v}
            if kept:
                yield key, kept


def bucket_retention_ms(granularity: str, day_retention_ms: int) -> int:
    """How long a bucket of this granularity is kept; older buckets are neither written nor read."""
    return {"m": MINUTE_BUCKETS_KEPT_MS, "h": HOUR_BUCKETS_KEPT_MS, "d": day_retention_ms}[granularity]


def _timed(delta: RollupDelta, family: str, ts_ms: int, tz: str, dim: str = "",
           granularities: str = "mhd", **deltas: int) -> None:
    for g in granularities:
        delta.add(CounterKey(family, g, bucket_start(ts_ms, g, tz), dim), **deltas)


def mark_active(state: ActiveDays, day: str, family: str, dim: str, users_counter: str,
                tz: str) -> tuple[ActiveDays, RollupDelta]:
    """Record activity on ``day``: counts the actor once per day, and moves its
    ``last_active`` mark to its latest day. No change (and no delta) if already counted."""
    delta = RollupDelta()
    if day in state.days:
        return state, delta
    old_last = state.days[-1] if state.days else None
    days = tuple(sorted(state.days + (day,)))[-ACTIVE_DAYS_KEPT:]
    if day not in days:  # older than every remembered day: too late to count exactly
        return state, delta
    delta.add(CounterKey(family, "d", day_start_of_date(day, tz), dim), **{users_counter: 1})
    new_last = days[-1]
    if new_last != old_last:
        delta.add(CounterKey(family, "d", day_start_of_date(new_last, tz), dim), last_active=1)
        if old_last is not None:
            delta.add(CounterKey(family, "d", day_start_of_date(old_last, tz), dim), last_active=-1)
    return replace(state, days=days), delta


def _session_contribution(span: SessionSpan | None, tz: str, sign: int) -> RollupDelta:
    delta = RollupDelta()
    if span is not None:
        for g in "mhd":
            delta.add(CounterKey("biz", g, bucket_start(span.first_ms, g, tz)),
                      sessions=sign, session_ms=sign * (span.last_ms - span.first_ms))
    return delta


def extend_session(span: SessionSpan | None, ts_ms: int, user_id: str | None,
                   tz: str) -> tuple[SessionSpan, RollupDelta]:
    """Widen a session to cover ``ts_ms``. A session counts once, in the bucket it started
    in, with its duration (last − first event); a late event that moves its start moves it."""
    if span is None:
        new = SessionSpan(ts_ms, ts_ms, user_id)
    else:
        new = replace(span, first_ms=min(span.first_ms, ts_ms), last_ms=max(span.last_ms, ts_ms),
                      user_id=span.user_id or user_id)
    if span is not None and (new.first_ms, new.last_ms) == (span.first_ms, span.last_ms):
        return new, RollupDelta()
    delta = _session_contribution(new, tz, +1)
    delta.merge(_session_contribution(span, tz, -1))
    return new, delta


def event_counters(event: BusinessEvent, tz: str) -> RollupDelta:
    """The counters an event adds by itself (not the distinct counts, which need state)."""
    delta = RollupDelta()
    ts = event.timestamp
    if isinstance(event, Purchase):
        _timed(delta, "biz", ts, tz, revenue=event.amount, orders=1)
        _timed(delta, "prod", ts, tz, dim=event.productId,
               granularities="hd", revenue=event.amount, orders=1)
    elif isinstance(event, PageView):
        _timed(delta, "biz", ts, tz, pageviews=1)
    elif isinstance(event, CustomEvent):
        _timed(delta, "biz", ts, tz, events=1)
    return delta


def active_day(event: BusinessEvent, tz: str) -> str:
    return local_date(event.timestamp, tz)

