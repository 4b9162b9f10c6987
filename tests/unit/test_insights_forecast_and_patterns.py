"""Forecasts (when a trend crosses a limit, with an interval) and cross-host patterns."""
import json
import random

import pytest

from chalicelib.insights.forecast import HOUR_MS, Trend, bounded_limit, describe
from chalicelib.insights.patterns import Onset, outliers, patterns

T0 = 1_767_225_600_000
MIN = 60_000


def fed(trend, points):
    for t, v in points:
        trend.update(t, v)
    return trend


def filling_disk(hours=6, start=40.0, per_hour=5.0, sigma=0.2, seed=1):
    rng = random.Random(seed)
    return [(T0 + i * MIN, start + per_hour * i / 60 + rng.gauss(0, sigma)) for i in range(hours * 60)]


def test_a_line_is_fitted_exactly_to_exact_data():
    trend = fed(Trend(), [(T0 + i * MIN, 10.0 + 2.0 * i / 60) for i in range(120)])
    slope, current, r2, se = trend.fit()
    assert slope == pytest.approx(2.0)
    assert current == pytest.approx(10.0 + 2.0 * 119 / 60)
    assert r2 == pytest.approx(1.0)
    assert se == pytest.approx(0.0, abs=1e-6)


def test_a_filling_disk_gets_a_time_to_full_with_an_interval_around_the_truth():
    trend = fed(Trend(), filling_disk())
    forecast = trend.forecast(100.0)
    # 40 % + 5 %/h for 6 h = 70 %: 30 points left at 5 %/h is 6 h from the last point.
    truth = T0 + (6 * 60 - 1) * MIN + 6 * HOUR_MS
    assert forecast.earliest_ms <= truth <= forecast.latest_ms
    assert abs(forecast.eta_ms - truth) < 0.25 * HOUR_MS
    assert forecast.earliest_ms < forecast.eta_ms < forecast.latest_ms
    assert forecast.slope_per_hour == pytest.approx(5.0, rel=0.05)


def test_no_forecast_without_enough_history():
    assert fed(Trend(), filling_disk()[:20]).forecast(100.0) is None
    assert fed(Trend(), filling_disk()[:45]).forecast(100.0) is None  # 45 points but < 1 h


def test_no_forecast_when_the_line_does_not_explain_the_data():
    noisy = [(t, 50.0 + random.Random(i).gauss(0, 10)) for i, (t, _v) in enumerate(filling_disk())]
    assert fed(Trend(), noisy).forecast(100.0) is None


def test_no_forecast_when_the_trend_points_away_from_the_limit():
    emptying = [(t, 100 - v) for t, v in filling_disk()]
    assert fed(Trend(), emptying).forecast(100.0) is None


def test_a_falling_trend_forecasts_a_lower_limit():
    emptying = [(t, 100 - v) for t, v in filling_disk()]
    assert fed(Trend(), emptying).forecast(0.0) is not None


def test_the_forecast_is_withdrawn_when_the_trend_goes_away():
    trend = fed(Trend(), filling_disk())
    assert trend.forecast(100.0) is not None
    rng = random.Random(3)
    last_t, last_v = filling_disk()[-1]
    fed(trend, [(last_t + i * MIN, last_v + rng.gauss(0, 0.2)) for i in range(1, 24 * 60)])
    assert trend.forecast(100.0) is None


def test_beyond_the_horizon_is_no_forecast():
    slow = [(T0 + i * MIN, 10 + 0.01 * i / 60 + random.Random(i).gauss(0, 0.0001)) for i in range(600)]
    assert fed(Trend(), slow).forecast(100.0) is None


def test_state_round_trips_and_moving_the_time_origin_keeps_the_fit():
    points = filling_disk(hours=30, per_hour=1.0, start=10.0)
    whole = fed(Trend(), points)
    half = fed(Trend(), points[:900])
    resumed = fed(Trend.from_state(json.loads(json.dumps(half.state()))), points[900:])
    assert resumed.fit() == pytest.approx(whole.fit())
    assert resumed.fit()[0] == pytest.approx(1.0, rel=0.05)


def test_messages_name_the_resource_and_the_interval():
    forecast = fed(Trend(), filling_disk()).forecast(100.0)
    assert describe("disk.var.used_percent", "web-1", forecast).startswith("disk /var on web-1 full in ")
    assert describe("disk.var.used_percent", "web-1", forecast).endswith(" h")
    assert describe("mem.used_percent", "web-1", forecast).startswith("mem on web-1 full in ")
    assert describe("disk.root.used_percent", "db-1", forecast).startswith("disk / on db-1 full in ")
    assert bounded_limit("disk.root.used_percent") == 100.0
    assert bounded_limit("cpu.percent") is None


def onset(host, at_s, metric="cpu.percent", direction="up"):
    return Onset(host, metric, direction, T0 + at_s * 1000)


def test_three_hosts_with_the_same_anomaly_within_minutes_are_one_pattern():
    found = patterns([onset("web-1", 0), onset("web-2", 90), onset("web-3", 240), onset("db-1", 3600)])
    assert len(found) == 1
    assert found[0].hosts == ("web-1", "web-2", "web-3")
    assert found[0].starts_at == T0


def test_two_hosts_or_different_kinds_or_far_apart_onsets_are_no_pattern():
    assert patterns([onset("a", 0), onset("b", 10)]) == []
    assert patterns([onset("a", 0), onset("b", 10), onset("c", 20, direction="down")]) == []
    assert patterns([onset("a", 0), onset("b", 10), onset("c", 20, metric="mem.used_percent")]) == []
    assert patterns([onset("a", 0), onset("b", 200), onset("c", 400)]) == []


def test_repeated_onsets_of_one_host_count_once():
    assert patterns([onset("a", 0), onset("a", 10), onset("b", 20)]) == []


def test_one_host_unlike_its_agreeing_peers_is_an_outlier():
    found = outliers({"web-1": 31.0, "web-2": 29.5, "web-3": 30.2, "web-4": 95.0})
    assert [(o.host, o.value) for o in found] == [("web-4", 95.0)]


def test_no_outlier_among_too_few_peers_or_in_a_split():
    assert outliers({"a": 30.0, "b": 31.0, "c": 95.0}) == []
    assert outliers({"a": 30.0, "b": 31.0, "c": 95.0, "d": 96.0}) == []
    assert outliers({"a": 30.0, "b": 30.5, "c": 31.0, "d": 30.7}) == []


def web_group(values, anomalous=None, at=1000, group=None):
    from chalicelib.insights.patterns import PeerGroup
    group = group or PeerGroup("vm", "web")
    for host, value in values.items():
        group.observe(host, at, {"cpu.percent": value, "mem.total_bytes": 8e9 if host != "web-4" else 64e9},
                      (anomalous or {}).get(host, []))
    return group


def test_a_peer_outlier_opens_one_insight_stays_quiet_while_it_lasts_then_closes():
    group = web_group({"web-1": 30.0, "web-2": 31.0, "web-3": 29.5, "web-4": 95.0})
    [opened] = group.finish(2000)
    assert opened["affectedHosts"] == ["web-4"] and opened["outlier"] is True
    assert opened["message"] == "cpu.percent on web-4 is 95 while its 3 web peers are at about 30"
    assert opened["endsAt"] is None
    assert group.finish(2000) == []  # still standing out: nothing new to write
    web_group({"web-1": 30.0, "web-2": 31.0, "web-3": 29.5, "web-4": 30.5}, at=3000, group=group)
    [closed] = group.finish(4000)
    assert (closed["id"], closed["message"], closed["endsAt"]) == (opened["id"], opened["message"], 4000)


def test_no_outlier_when_the_peers_are_anomalous_themselves_or_for_hardware_metrics():
    group = web_group({"web-1": 30.0, "web-2": 31.0, "web-3": 29.5, "web-4": 95.0},
                      anomalous={"web-2": ["cpu.percent"]})
    assert group.finish(2000) == []  # mem.total_bytes differs too, but that is hardware


def test_hosts_gone_quiet_leave_the_group():
    group = web_group({"web-1": 30.0, "web-2": 31.0, "web-3": 29.5, "web-4": 95.0})
    assert group.finish(1000 + 10 * 60_000) == []
    assert group.state()["hosts"] == {}
