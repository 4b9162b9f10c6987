"""Planning sums a claim's counters per minute and spreads each sum over the minute, hour and
day buckets once (issue 8). The sums must be those of adding every event's own counters."""
import random

from chalicelib.business.ingest import IngestPolicy, plan_claims
from chalicelib.business.models import CustomEvent, PageView, Purchase
from chalicelib.business.rollup import ActiveDays, RollupDelta, SessionSpan, active_day, \
    event_counters, extend_session, mark_active

DAY = 86_400_000
NOW = 1_764_000_000_000


def mixed_events(n: int, seed: int) -> list:
    """Purchases, page views and feature events of 30 users in 40 sessions over five days."""
    rng = random.Random(seed)
    events = []
    for i in range(n):
        ts = NOW - rng.randrange(5 * DAY)
        user, session = f"u{rng.randrange(30)}", f"s{rng.randrange(40)}"
        kind = rng.choice("ppve")
        if kind == "p":
            events.append(Purchase(orderId=f"o{i}", productId=f"p{rng.randrange(7)}", productName="P",
                                   amount=rng.randrange(1, 5000), currency="USD", userId=user,
                                   sessionId=session if rng.random() < 0.7 else None, timestamp=ts))
        elif kind == "v":
            events.append(PageView(eventId=f"v{i}", sessionId=session, page="/",
                                   userId=user if rng.random() < 0.5 else None, timestamp=ts))
        else:
            events.append(CustomEvent(eventId=f"e{i}", name="used", userId=user, sessionId=session,
                                      feature=rng.choice(["alerts", "export", None]), timestamp=ts))
    return events


def one_by_one(events: list, tz: str, kept) -> RollupDelta:
    """Every event's counters added one at a time, in the planner's order, as before issue 8."""
    states: dict = {}
    delta = RollupDelta()
    for event in events:
        own = event_counters(event, tz)
        if event.userId:
            marks = [(("u", event.userId), "biz", "", "active_users")]
            if isinstance(event, CustomEvent) and event.feature:
                marks.append((("f", event.userId, event.feature), "feat", event.feature, "users"))
            for key, family, dim, counter in marks:
                states[key], _ = mark_active(states.get(key) or ActiveDays(), active_day(event, tz),
                                             family, dim, counter, tz, into=own)
        if event.sessionId:
            states[event.sessionId], _ = extend_session(states.get(event.sessionId), event.timestamp,
                                                        event.userId, tz, into=own)
        for key, deltas in own.counters.items():
            if kept(key):
                delta.add_map(key, deltas)
    return delta


def nonzero(delta: RollupDelta) -> dict:
    return dict(delta.nonzero())


def test_a_batch_planned_per_minute_adds_what_its_events_add_one_by_one():
    for seed, tz in [(1, "UTC"), (2, "America/New_York"), (3, "Asia/Kolkata")]:
        events = mixed_events(400, seed)
        policy = IngestPolicy(tz=tz, currency="USD", retention_ms=400 * DAY, shards=4)

        def kept(key, now_ms=NOW):  # minute buckets are kept two days
            return key.granularity != "m" or key.bucket > now_ms - 2 * DAY

        claims, _journaled = plan_claims(events, {}, policy, kept, NOW)
        planned = RollupDelta()
        for claim in claims:
            planned.merge(claim.delta)
        ordered = [e for claim in claims for e in claim.events]
        assert sorted(e.key for e in ordered) == sorted(e.key for e in events)
        assert nonzero(planned) == nonzero(one_by_one(ordered, tz, kept))
        assert any(k.granularity == "m" for k in planned.counters)  # some minutes kept ...
        assert not any(k.granularity == "m" and k.bucket <= NOW - 2 * DAY for k in planned.counters)


def test_a_session_moved_by_a_late_event_is_counted_once_in_its_new_start():
    span, _ = extend_session(None, NOW, "u1", "UTC")
    counters = RollupDelta()
    span, _ = extend_session(span, NOW - 120_000, None, "UTC", into=counters)
    assert span == SessionSpan(NOW - 120_000, NOW, "u1")
    moved = nonzero(counters)
    assert sum(d.get("sessions", 0) for k, d in moved.items() if k.granularity == "m") == 0
    assert sum(d.get("session_ms", 0) for k, d in moved.items() if k.granularity == "d") == 120_000
