"""The life of one alert: pending period, hysteresis, no data, flapping, idempotency."""
from chalicelib.alerts.state_machine import Episode, Reading, step

MIN = 60_000
FOR_5M = 5 * MIN


def reading(value: float, threshold: float = 90, recover: float = 80) -> Reading:
    """A '> 90, recover 80' rule's reading of ``value``."""
    return Reading(value, breaching=value > threshold, holding=value > recover)


def run(values, for_ms=FOR_5M, start=0):
    """Step one series through ``values`` (None: no data), a minute apart; the episode and
    every transition as (minute, from, to)."""
    episode, seen = None, []
    for minute, value in enumerate(values, start):
        episode, moved = step(episode, None if value is None else reading(value), for_ms,
                              minute * MIN, f"a{minute}")
        seen += [(minute, t.from_state, t.to_state) for t in moved]
        if episode is not None and episode.state == "resolved":
            episode = None  # the caller closes a resolved alert
    return episode, seen


def test_a_breach_is_pending_until_it_has_lasted_the_for_period_then_fires():
    episode, seen = run([95, 95, 95, 95, 95, 95])
    assert seen == [(0, "inactive", "pending"), (5, "pending", "firing")]
    assert episode.state == "firing" and episode.starts_at == 0 and episode.firing_at == 5 * MIN


def test_with_for_0s_a_breach_fires_at_once():
    episode, seen = run([95], for_ms=0)
    assert seen == [(0, "inactive", "firing")]
    assert episode.firing_at == 0


def test_a_pending_alert_whose_condition_stops_resolves_without_ever_firing():
    episode, seen = run([95, 95, 70])
    assert seen == [(0, "inactive", "pending"), (2, "pending", "resolved")]
    assert episode is None


def test_a_firing_alert_stays_firing_between_recover_and_threshold_and_resolves_past_recover():
    episode, seen = run([95, 85, 81, 80], for_ms=0)
    assert seen == [(0, "inactive", "firing"), (3, "firing", "resolved")]


def test_without_recover_a_firing_alert_resolves_when_the_condition_stops():
    episode = None
    episode, _ = step(episode, Reading(95, True, True), 0, 0, "a")
    episode, moved = step(episode, Reading(85, False, False), 0, MIN, "b")
    assert episode.state == "resolved" and episode.ends_at == MIN
    assert [(t.from_state, t.to_state) for t in moved] == [("firing", "resolved")]


def test_no_data_is_its_own_state_and_never_resolves_an_alert():
    episode, seen = run([95, None, None], for_ms=0)
    assert episode.state == "nodata" and episode.resume == "firing"
    assert seen == [(0, "inactive", "firing"), (1, "firing", "nodata")]


def test_a_firing_alert_back_from_no_data_fires_on_if_still_past_recover_or_resolves():
    episode, seen = run([95, None, 85], for_ms=0)
    assert episode.state == "firing" and episode.alert_id == "a0"  # the same alert
    assert seen[-1] == (2, "nodata", "firing")
    _, seen = run([95, None, 50], for_ms=0)
    assert seen[-1] == (2, "nodata", "resolved")


def test_a_pending_alert_back_from_no_data_restarts_its_for_clock():
    episode, seen = run([95, 95, None, 95, 95, 95, 95, 95, 95])
    # pending since 0; no data at 2; back at 3, so it fires at 3 + 5 = 8, not at 5
    assert seen == [(0, "inactive", "pending"), (2, "pending", "nodata"), (3, "nodata", "pending"),
                    (8, "pending", "firing")]


def test_a_series_without_data_and_without_an_alert_stays_quiet():
    assert run([None, None]) == (None, [])


def test_flapping_around_the_threshold_never_fires_with_a_pending_period():
    _, seen = run([95, 70] * 10)
    assert all(to != "firing" for _m, _f, to in seen)


def test_flapping_around_the_threshold_does_not_resolve_a_firing_alert_thanks_to_recover():
    _, seen = run([95, 89, 91, 88, 93, 85, 92], for_ms=0)
    assert seen == [(0, "inactive", "firing")]  # never below 80: one firing, no resolution


def test_a_step_applied_twice_for_the_same_minute_changes_nothing_the_second_time():
    for values, for_ms in (([95], FOR_5M), ([95], 0), ([95] * 6, FOR_5M), ([95, 70], 0),
                           ([95, None], 0), ([95, None, 85], 0), ([95, 95, None, 95], FOR_5M)):
        episode = None
        for minute, value in enumerate(values):
            r = None if value is None else reading(value)
            episode, _ = step(episode, r, for_ms, minute * MIN, f"a{minute}")
            again, moved = step(episode, r, for_ms, minute * MIN, "other-id")
            if episode.state == "resolved":
                continue
            assert (again, moved) == (episode, []), (values, minute)


def test_an_episode_keeps_its_id_start_and_the_latest_value():
    first, _ = step(None, reading(95), 0, 0, "alert-1")
    later, _ = step(first, reading(97), 0, MIN, "unused")
    assert later == Episode("alert-1", "firing", 0, 0, firing_at=0, value=97)
