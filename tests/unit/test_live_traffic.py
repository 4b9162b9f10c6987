"""The live demo traffic of `make run`: within any minute a person watches, every Overview
number moves (purchases, page views, custom events, sessions, a new user), at a plausible
shop's pace. Simulated: ten minutes of the runner's one-second ticks, posts captured."""
from __future__ import annotations

import pytest

from chalicelib.local.demo import NEW_USER_PREFIX, DemoTraffic
from chalicelib.local.runner import LiveTraffic

T0 = 1_800_000_000_000
MINUTE = 60_000


def signs_up(event: dict) -> bool:
    return event.get("page") == "/signup" and event.get("userId", "").startswith(NEW_USER_PREFIX)


def ten_minutes(seed: int) -> list[tuple[int, str, dict]]:
    """(posted at, kind, event) of every event posted in ten minutes of ticks."""
    traffic = LiveTraffic("http://127.0.0.1:0", "USD", "mck_test", seed=seed)
    posted: list[tuple[int, str, dict]] = []
    now = [T0]
    traffic._post = lambda path, events: posted.extend(
        (now[0], path.rsplit("/", 1)[1], e) for e in events)
    for second in range(600):
        now[0] = T0 + second * 1000
        traffic.tick(now[0], 1.0)
    return posted


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_minute_moves_every_overview_number(seed):
    posted = ten_minutes(seed)
    assert all(event["timestamp"] <= at for at, _kind, event in posted)  # posted when they happen
    for start in range(T0, T0 + 9 * MINUTE, 10_000):  # every minute, from the start
        window = [(kind, e) for at, kind, e in posted if start <= at < start + MINUTE]
        kinds = {kind for kind, _e in window}
        assert {"purchase", "pageview", "event"} <= kinds, (start, kinds)
        assert any(signs_up(e) for _k, e in window), f"no new user in the minute from {start}"
        assert len({e["sessionId"] for _k, e in window if "sessionId" in e}) >= 10


def test_the_pace_is_a_plausible_busy_shop():
    posted = [p for seed in (5, 6, 7) for p in ten_minutes(seed)]
    minutes = 30
    purchases = [e for _at, kind, e in posted if kind == "purchase"]
    sessions = {e["sessionId"] for _at, _kind, e in posted}
    pageviews = [e for _at, kind, e in posted if kind == "pageview"]
    assert 1.5 <= len(purchases) / minutes <= 5, len(purchases) / minutes
    assert 0.02 <= len(purchases) / len(sessions) <= 0.12  # conversion, orders ÷ sessions
    assert 2 <= len(pageviews) / len(sessions) <= 6
    assert {e["currency"] for e in purchases} == {"USD"}
    assert 0.5 <= len([e for _at, _kind, e in posted if signs_up(e)]) / minutes <= 4


def test_the_demo_history_is_unchanged_by_the_live_shape():
    """The history loader's default shape draws exactly as before (no sign-ups): a given seed
    still loads the same events."""
    events = list(DemoTraffic(7).events_between(T0, T0 + 6 * 3_600_000, T0))
    assert not any((e.userId or "").startswith(NEW_USER_PREFIX) for e in events)
    assert len(events) == len(list(DemoTraffic(7).events_between(T0, T0 + 6 * 3_600_000, T0)))
