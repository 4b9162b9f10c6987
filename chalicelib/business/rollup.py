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


@functools.lru_cache(maxsize=65_536)
def _buckets_of_minute(minute_ms: int, tz: str) -> tuple[int, int, int]:
    # Minutes repeat across a batch's events; every zone's offset is whole minutes.
    return minute_ms, bucket_start(minute_ms, "h", tz), bucket_start(minute_ms, "d", tz)


# ``mark_active``, ``extend_session`` and ``event_counters`` give one event's counters (added
# ``into`` a delta when given); planning a batch sums many events' in one ``MinuteCounters``
# from ``mark_day``, ``widen_session`` and the events, which is the same sum done once.
class ActiveMark(NamedTuple):
    """What marking a new active day counts: ``users_counter`` once on ``day``, and the
    actor's ``last_active`` moved from ``moved_from`` (None: it had none) to ``moved_to``
    (None: its latest day did not change)."""

    family: str
    dim: str
    users_counter: str
    day: str
    moved_from: str | None
    moved_to: str | None


def mark_day(state: ActiveDays, day: str, family: str, dim: str, users_counter: str
             ) -> tuple[ActiveDays, ActiveMark | None]:
    """Record activity on ``day``: counts the actor once per day, and moves its
    ``last_active`` mark to its latest day. No change (and no mark) if already counted."""
    if day in state.days:
        return state, None
    old_last = state.days[-1] if state.days else None
    days = tuple(sorted(state.days + (day,)))[-ACTIVE_DAYS_KEPT:]
    if day not in days:  # older than every remembered day: too late to count exactly
        return state, None
    new_last = days[-1]
    moved = new_last != old_last
    return ActiveDays(days, state.version), ActiveMark(
        family, dim, users_counter, day, old_last if moved else None, new_last if moved else None)


def mark_active(state: ActiveDays, day: str, family: str, dim: str, users_counter: str,
                tz: str, into: RollupDelta | None = None) -> tuple[ActiveDays, RollupDelta]:
    """``mark_day``, with the counters it adds (in ``into`` when given)."""
    delta = RollupDelta() if into is None else into
    after, mark = mark_day(state, day, family, dim, users_counter)
    if mark is not None:
        counters = MinuteCounters(tz)
        counters.add_mark(mark)
        counters.expand(delta)
    return after, delta


def widen_session(span: SessionSpan | None, ts_ms: int, user_id: str | None) -> SessionSpan:
    """The session ``span`` widened to cover ``ts_ms`` (a new one when None)."""
    if span is None:
        return SessionSpan(ts_ms, ts_ms, user_id)
    return SessionSpan(min(span.first_ms, ts_ms), max(span.last_ms, ts_ms),
                       span.user_id or user_id, span.version)


def session_moved(before: SessionSpan | None, after: SessionSpan) -> bool:
    """Whether widening changed what the session counts (its start or its duration)."""
    return before is None or (after.first_ms, after.last_ms) != (before.first_ms, before.last_ms)


def extend_session(span: SessionSpan | None, ts_ms: int, user_id: str | None, tz: str,
                   into: RollupDelta | None = None) -> tuple[SessionSpan, RollupDelta]:
    """Widen a session to cover ``ts_ms``. A session counts once, in the bucket it started
    in, with its duration (last − first event); a late event that moves its start moves it."""
    delta = RollupDelta() if into is None else into
    new = widen_session(span, ts_ms, user_id)
    if session_moved(span, new):
        counters = MinuteCounters(tz)
        counters.add_session(new, +1)
        if span is not None:
            counters.add_session(span, -1)
        counters.expand(delta)
    return new, delta


def event_counters(event: BusinessEvent, tz: str, into: RollupDelta | None = None) -> RollupDelta:
    """The counters an event adds by itself (not the distinct counts, which need state)."""
    delta = RollupDelta() if into is None else into
    counters = MinuteCounters(tz)
    counters.add_event(event)
    counters.expand(delta)
    return delta


def _always_kept(_key: CounterKey) -> bool:
    return True


class MinuteCounters:
    """The counters of many events and session moves, summed per minute (products per hour)
    until ``expand`` adds them to the minute, hour and day buckets at once: planning a batch
    then costs one update per event and counter family, not one per granularity, and the
    sums are those of adding every event's counters one by one.

    An event adds: a purchase ``revenue`` and ``orders`` (biz, and prod by product at hour
    and day), a page view ``pageviews``, a custom event ``events``. A session move adds
    ``sessions`` and ``session_ms`` in the buckets of the minute the session started in. An
    active mark adds its day counters (see ``ActiveMark``).
    """

    __slots__ = ("tz", "biz", "prod", "sessions", "marks")

    def __init__(self, tz: str):
        self.tz = tz
        self.biz: dict[int, dict[str, int]] = {}  # minute -> counters
        self.prod: dict[tuple[int, str], list[int]] = {}  # (hour, product) -> [revenue, orders]
        self.sessions: dict[int, list[int]] = {}  # start minute -> [sessions, session_ms]
        self.marks: dict[tuple[str, str, str], dict[str, int]] = {}  # (family, dim, day) -> counters

    def add_mark(self, mark: ActiveMark) -> None:
        self._add_day(mark.family, mark.dim, mark.day, mark.users_counter, 1)
        if mark.moved_to is not None:
            self._add_day(mark.family, mark.dim, mark.moved_to, "last_active", 1)
            if mark.moved_from is not None:
                self._add_day(mark.family, mark.dim, mark.moved_from, "last_active", -1)

    def _add_day(self, family: str, dim: str, day: str, counter: str, n: int) -> None:
        counters = self.marks.get((family, dim, day))
        if counters is None:
            counters = self.marks[(family, dim, day)] = {}
        counters[counter] = counters.get(counter, 0) + n

    def add_event(self, event: BusinessEvent) -> None:
        ts = event.timestamp
        minute = ts - ts % MINUTE_MS
        counters = self.biz.get(minute)
        if counters is None:
            counters = self.biz[minute] = {}
        if isinstance(event, Purchase):
            counters["revenue"] = counters.get("revenue", 0) + event.amount
            counters["orders"] = counters.get("orders", 0) + 1
            key = (_buckets_of_minute(minute, self.tz)[1], event.productId)
            product = self.prod.get(key)
            if product is None:
                self.prod[key] = [event.amount, 1]
            else:
                product[0] += event.amount
                product[1] += 1
        elif isinstance(event, PageView):
            counters["pageviews"] = counters.get("pageviews", 0) + 1
        elif isinstance(event, CustomEvent):
            counters["events"] = counters.get("events", 0) + 1

    def add_session(self, span: SessionSpan, sign: int) -> None:
        minute = span.first_ms - span.first_ms % MINUTE_MS
        moved = self.sessions.get(minute)
        if moved is None:
            moved = self.sessions[minute] = [0, 0]
        moved[0] += sign
        moved[1] += sign * (span.last_ms - span.first_ms)

    def expand(self, into: RollupDelta, kept=_always_kept) -> RollupDelta:
        """Add every sum to its minute, hour and day buckets in ``into``, leaving out the
        buckets ``kept(key)`` refuses (those past their retention)."""
        tz = self.tz
        for minute, counters in self.biz.items():
            for key in _biz_keys(minute, tz):
                if kept(key):
                    into.add_map(key, counters)
        for minute, (sessions, session_ms) in self.sessions.items():
            moved = {"sessions": sessions, "session_ms": session_ms}
            for key in _biz_keys(minute, tz):
                if kept(key):
                    into.add_map(key, moved)
        for (hour, product), (revenue, orders) in self.prod.items():
            sums = {"revenue": revenue, "orders": orders}
            for key in _product_keys(hour, product, tz):
                if kept(key):
                    into.add_map(key, sums)
        for (family, dim, day), counters in self.marks.items():
            key = day_key(family, dim, day, tz)
            if kept(key):
                into.add_map(key, counters)
        return into


@functools.lru_cache(maxsize=65_536)
def _biz_keys(minute_ms: int, tz: str) -> tuple[CounterKey, CounterKey, CounterKey]:
    """The biz minute, hour and day keys of a minute."""
    return tuple(CounterKey("biz", g, start)  # type: ignore[return-value]
                 for g, start in zip("mhd", _buckets_of_minute(minute_ms, tz)))


@functools.lru_cache(maxsize=65_536)
def _product_keys(hour_ms: int, product: str, tz: str) -> tuple[CounterKey, CounterKey]:
    """A product's hour and day keys."""
    return (CounterKey("prod", "h", hour_ms, product),
            CounterKey("prod", "d", _buckets_of_minute(hour_ms, tz)[2], product))


@functools.lru_cache(maxsize=65_536)
def day_key(family: str, dim: str, day: str, tz: str) -> CounterKey:
    """The key of a local date's day bucket."""
    return CounterKey(family, "d", day_start_of_date(day, tz), dim)


def mark_keys(mark: ActiveMark, tz: str) -> tuple[CounterKey, ...]:
    """The day keys ``mark`` adds to."""
    days = (mark.day,) if mark.moved_to is None else (mark.day, mark.moved_to, mark.moved_from)
    return tuple(day_key(mark.family, mark.dim, d, tz) for d in days if d is not None)


def biz_keys_of(ts_ms: int, tz: str) -> tuple[CounterKey, CounterKey, CounterKey]:
    """The biz minute, hour and day keys holding ``ts_ms`` (a session counts in those of
    its first event)."""
    return _biz_keys(ts_ms - ts_ms % MINUTE_MS, tz)


def event_keys(event: BusinessEvent, tz: str) -> tuple[CounterKey, ...]:
    """The keys ``MinuteCounters.add_event`` adds ``event``'s counters to, before retention;
    the same tuple for events of the same minute (and product)."""
    minute = event.timestamp - event.timestamp % MINUTE_MS
    return _event_keys(minute, event.productId if isinstance(event, Purchase) else None, tz)


@functools.lru_cache(maxsize=65_536)
def _event_keys(minute_ms: int, product: str | None, tz: str) -> tuple[CounterKey, ...]:
    keys = _biz_keys(minute_ms, tz)
    if product is None:
        return keys
    return keys + _product_keys(_buckets_of_minute(minute_ms, tz)[1], product, tz)


def active_day(event: BusinessEvent, tz: str) -> str:
    return local_date(event.timestamp, tz)

