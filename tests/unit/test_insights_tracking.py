"""A series' insights as points arrive: one insight per anomalous window, redelivery ignored,
predictions withdrawn with their trend, sensitivity moved by feedback."""
import json
import random

from chalicelib.insights.tracking import CONTEXT_POINTS, SeriesTracker, threshold_for

T0 = 1_767_225_600_000
STEP = 10_000


def feed(tracker, values, start=0):
    out = []
    for i, v in enumerate(values, start):
        tracker.add(T0 + i * STEP, v)
    out += tracker.finish()
    return out


def normal(n, seed=1, level=40.0):
    rng = random.Random(seed)
    return [level + rng.gauss(0, 1) for _ in range(n)]


def test_a_spike_is_one_insight_opened_then_closed():
    tracker = SeriesTracker("web-1", "vm", "cpu.percent")
    values = normal(300)
    values[150] = values[151] = 90.0
    [insight] = feed(tracker, values)
    assert insight["type"] == "anomaly" and insight["direction"] == "up"
    assert insight["startsAt"] == T0 + 150 * STEP
    assert insight["endsAt"] == T0 + 151 * STEP
    assert [T0 + 150 * STEP, 90.0] in insight["points"]
    assert len([p for p in insight["points"] if p[0] < insight["startsAt"]]) == CONTEXT_POINTS  # what normal looked like


def test_an_open_window_is_updated_across_batches_under_one_id():
    tracker = SeriesTracker("web-1", "vm", "cpu.percent")
    feed(tracker, normal(200))
    [opened] = feed(tracker, [95.0, 96.0, 97.0], start=200)
    state = json.loads(json.dumps(tracker.state()))
    resumed = SeriesTracker("web-1", "vm", "cpu.percent", state)
    updates = feed(resumed, [98.0, 99.0], start=203)
    assert [u["id"] for u in updates] == [opened["id"]]
    assert updates[0]["endsAt"] is None and opened["endsAt"] is None


def test_points_delivered_again_raise_nothing():
    values = normal(300)
    values[200] = 90.0
    tracker = SeriesTracker("web-1", "vm", "cpu.percent")
    feed(tracker, values[:250])
    state = tracker.state()
    again = SeriesTracker("web-1", "vm", "cpu.percent", state)
    assert feed(again, values[:250]) == []
    assert again.state() == state


def test_dismissals_raise_the_threshold_and_a_dismissed_size_no_longer_alarms():
    assert threshold_for(0.7, 0) == 0.7
    assert round(threshold_for(0.7, 1), 6) == 0.85
    assert round(threshold_for(0.7, 2), 6) == 0.925
    values = normal(300)
    values[150] = 47.0  # about 7 sigmas: a score of about 0.8
    assert feed(SeriesTracker("w", "vm", "cpu.percent"), values)
    assert feed(SeriesTracker("w", "vm", "cpu.percent", dismissals=1), values) == []


def test_a_filling_disk_is_predicted_then_withdrawn_when_it_stops_filling():
    tracker = SeriesTracker("db-1", "vm", "disk.root.used_percent")
    rng = random.Random(2)
    [prediction] = feed(tracker, [50 + 0.01 * i + rng.gauss(0, 0.02) for i in range(600)])
    assert prediction["type"] == "prediction" and prediction["endsAt"] is None
    assert prediction["message"].startswith("disk / on db-1 full in ")
    flat = [56 + rng.gauss(0, 0.02) for _ in range(8000)]
    [withdrawn] = [i for i in feed(tracker, flat, start=600) if i["type"] == "prediction"]
    assert withdrawn["id"] == prediction["id"] and withdrawn["withdrawn"] is True
    assert withdrawn["endsAt"] is not None


def test_metrics_without_a_limit_get_no_forecast_state():
    tracker = SeriesTracker("web-1", "vm", "cpu.percent")
    feed(tracker, [i * 0.1 for i in range(600)])
    assert "f" not in tracker.state()


def test_a_tracker_state_stays_near_4_kb_even_with_an_open_window():
    tracker = SeriesTracker("web-1", "vm", "disk.root.used_percent")
    feed(tracker, normal(2000, level=50.0))
    feed(tracker, [52.123456789] * 300, start=2000)  # stuck: the window stays open
    assert tracker.open is not None
    assert len(json.dumps(tracker.state())) <= 4096


def test_a_rule_threshold_gives_any_metric_a_forecast():
    rng = random.Random(5)
    rising = [20 + 0.02 * i + rng.gauss(0, 0.05) for i in range(600)]
    assert [i for i in feed(SeriesTracker("web-1", "vm", "cpu.percent"), rising) if i["type"] == "prediction"] == []
    [prediction] = feed(SeriesTracker("web-1", "vm", "cpu.percent", limit=90.0), rising)
    assert prediction["message"].startswith("cpu.percent on web-1 reaches 90 in ")
    assert prediction["forecast"]["limit"] == 90.0


def test_business_steps_are_hourly_rates_and_a_quiet_step_is_zero_sales():
    from chalicelib.insights.business import business_points, closed_steps
    minute = 60_000
    counters = {T0: {"orders": 2, "revenue": 1000, "sessions": 40}, T0 + 4 * minute: {"orders": 1, "revenue": 500}}
    [(at, busy), (_at, quiet)] = business_points(counters, T0, T0 + 5 * minute)
    assert at == T0
    assert busy == {"business.orders_per_hour": 36.0, "business.revenue_minor_per_hour": 18000.0,
                    "business.conversion": 0.075}
    assert quiet == {"business.orders_per_hour": 0.0, "business.revenue_minor_per_hour": 0.0}
    # Steps closed since the last one scored; nothing when the current step is still open.
    assert closed_steps(T0, T0 + 11 * minute) == (T0 + 5 * minute, T0 + 5 * minute)
    assert closed_steps(T0 + 5 * minute, T0 + 11 * minute) is None
    assert closed_steps(None, T0 + 6 * 3_600_000)[0] == T0
