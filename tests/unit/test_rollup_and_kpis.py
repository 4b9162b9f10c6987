"""Roll-up and KPI logic: pure functions, no I/O."""
from datetime import datetime, timezone

import pytest

from chalicelib.business.kpis import (
    Totals, change_percent, feature_adoption, kpi_summary, revenue_until, top_products,
)
from chalicelib.business.models import CustomEvent, PageView, Purchase
from chalicelib.business.rollup import (
    ActiveDays, CounterKey, RollupDelta, SessionSpan, event_counters, extend_session, mark_active,
)
from chalicelib.timebuckets import (
    HOUR_MS, day_start, day_start_of_date, days_back, hour_start, local_date,
)

BERLIN = "Europe/Berlin"
KOLKATA = "Asia/Kolkata"


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


# -- time buckets -----------------------------------------------------------------------------
def test_day_buckets_follow_the_team_time_zone():
    # 23:30 UTC on 1 June is already 2 June in Berlin (UTC+2 in summer).
    ts = ms("2026-06-01T23:30:00+00:00")
    assert local_date(ts, "UTC") == "2026-06-01"
    assert local_date(ts, BERLIN) == "2026-06-02"
    assert day_start(ts, BERLIN) == ms("2026-06-02T00:00:00+02:00")


def test_a_local_day_across_the_daylight_saving_change_lasts_23_hours():
    start = day_start_of_date("2026-03-29", BERLIN)
    end = day_start_of_date("2026-03-30", BERLIN)
    assert end - start == 23 * HOUR_MS


def test_hour_buckets_start_at_the_local_hour_in_half_hour_zones():
    ts = ms("2026-06-01T10:10:00+00:00")  # 15:40 in Kolkata (UTC+5:30)
    assert hour_start(ts, KOLKATA) == ms("2026-06-01T15:00:00+05:30")


def test_days_back_lists_oldest_first_ending_today():
    assert days_back("2026-03-01", 3) == ["2026-02-27", "2026-02-28", "2026-03-01"]


# -- events to counters -----------------------------------------------------------------------
def purchase(**kw):
    base = dict(orderId="o1", productId="p1", productName="Pro", amount=1999, currency="USD",
                userId="u1", sessionId="s1", timestamp=ms("2026-06-01T10:15:00+00:00"))
    return Purchase(**{**base, **kw})


def test_a_purchase_adds_revenue_and_an_order_to_every_granularity():
    delta = event_counters(purchase(), "UTC")
    day = ms("2026-06-01T00:00:00+00:00")
    assert delta.counters[CounterKey("biz", "d", day)] == {"revenue": 1999, "orders": 1}
    assert delta.counters[CounterKey("biz", "h", ms("2026-06-01T10:00:00+00:00"))]["orders"] == 1
    assert delta.counters[CounterKey("biz", "m", ms("2026-06-01T10:15:00+00:00"))]["orders"] == 1
    assert delta.counters[CounterKey("prod", "d", day, "p1")] == {"revenue": 1999, "orders": 1}


def test_page_views_and_custom_events_have_their_own_counters():
    pv = PageView(eventId="e1", sessionId="s1", page="/", timestamp=ms("2026-06-01T10:00:00+00:00"))
    ev = CustomEvent(eventId="e2", name="x", userId="u1", feature="export",
                     timestamp=ms("2026-06-01T10:00:00+00:00"))
    day = ms("2026-06-01T00:00:00+00:00")
    assert event_counters(pv, "UTC").counters[CounterKey("biz", "d", day)] == {"pageviews": 1}
    assert event_counters(ev, "UTC").counters[CounterKey("biz", "d", day)] == {"events": 1}


def test_a_user_counts_once_per_day_however_active():
    state, first = mark_active(ActiveDays(), "2026-06-01", "biz", "", "active_users", "UTC")
    again, second = mark_active(state, "2026-06-01", "biz", "", "active_users", "UTC")
    day = day_start_of_date("2026-06-01", "UTC")
    assert first.counters[CounterKey("biz", "d", day)] == {"active_users": 1, "last_active": 1}
    assert again is state and second.counters == {}


def test_last_active_moves_to_the_latest_day_so_mau_counts_each_user_once():
    state, _ = mark_active(ActiveDays(), "2026-06-01", "biz", "", "active_users", "UTC")
    state, delta = mark_active(state, "2026-06-05", "biz", "", "active_users", "UTC")
    d1, d5 = (day_start_of_date(d, "UTC") for d in ("2026-06-01", "2026-06-05"))
    assert delta.counters[CounterKey("biz", "d", d1)] == {"last_active": -1}
    assert delta.counters[CounterKey("biz", "d", d5)] == {"active_users": 1, "last_active": 1}


def test_a_late_event_for_an_earlier_day_counts_that_day_but_keeps_the_latest_mark():
    state, _ = mark_active(ActiveDays(), "2026-06-05", "biz", "", "active_users", "UTC")
    state, delta = mark_active(state, "2026-06-03", "biz", "", "active_users", "UTC")
    d3 = day_start_of_date("2026-06-03", "UTC")
    assert delta.counters == {CounterKey("biz", "d", d3): {"active_users": 1}}
    assert state.days == ("2026-06-03", "2026-06-05")


def test_a_session_counts_once_with_its_duration_in_the_bucket_it_started():
    t0 = ms("2026-06-01T10:00:00+00:00")
    span, d1 = extend_session(None, t0, "u1", "UTC")
    span, d2 = extend_session(span, t0 + 90_000, None, "UTC")
    total = RollupDelta()
    total.merge(d1)
    total.merge(d2)
    day = CounterKey("biz", "d", ms("2026-06-01T00:00:00+00:00"))
    assert dict(total.nonzero())[day] == {"sessions": 1, "session_ms": 90_000}
    assert span == SessionSpan(t0, t0 + 90_000, "u1")


def test_a_late_event_that_moves_a_session_start_moves_its_bucket():
    t0 = ms("2026-06-01T10:00:30+00:00")
    span, d1 = extend_session(None, t0, None, "UTC")
    span, d2 = extend_session(span, t0 - 60_000, None, "UTC")
    total = RollupDelta()
    total.merge(d1)
    total.merge(d2)
    minutes = {k.bucket: v for k, v in total.nonzero() if k.granularity == "m"}
    # Net effect: counted once, in 09:59, and no longer in 10:00.
    assert minutes == {ms("2026-06-01T09:59:00+00:00"): {"sessions": 1, "session_ms": 60_000}}


# -- KPIs -------------------------------------------------------------------------------------
def test_change_is_a_percentage_and_none_from_zero():
    assert change_percent(123450, 100000) == 23.45
    assert change_percent(50, 100) == -50.0
    assert change_percent(10, 0) is None


def test_average_order_value_rounds_half_up_in_minor_units():
    assert Totals(revenue=1001, orders=2).aov == 501
    assert Totals(revenue=1000, orders=3).aov == 333
    assert Totals().aov == 0


def test_conversion_is_orders_per_session():
    assert Totals(orders=3, sessions=100).conversion == 0.03
    assert Totals(orders=3, sessions=0).conversion == 0.0


def test_kpi_summary_compares_each_kpi_with_the_previous_period():
    summary = kpi_summary(Totals(123450, 10, 200), Totals(100000, 8, 200))
    assert summary["revenue"] == {"value": 123450, "previous": 100000, "change": 23.45}
    assert summary["orders"]["change"] == 25.0
    assert summary["aov"] == {"value": 12345, "previous": 12500, "change": -1.24}
    assert summary["conversion"]["value"] == 0.05


def test_top_products_rank_by_downloads_then_revenue():
    per_bucket = {(1, "a"): {"orders": 2, "revenue": 100, "name": "A"},
                  (2, "a"): {"orders": 1, "revenue": 50},
                  (1, "b"): {"orders": 3, "revenue": 10, "name": "B"},
                  (1, "c"): {"orders": 3, "revenue": 900, "name": "C"}}
    ranked = top_products(per_bucket, 2)
    assert [(p["productId"], p["downloads"], p["revenue"]) for p in ranked] == [("c", 3, 900), ("a", 3, 150)]
    assert ranked[1]["productName"] == "A"


def test_feature_adoption_is_the_share_of_active_users():
    rows = feature_adoption({"export": 25, "api": 50, "unused": 0}, 200)
    assert rows == [{"feature": "api", "users": 50, "share": 0.25},
                    {"feature": "export", "users": 25, "share": 0.125}]


@pytest.mark.parametrize("value", [1_763_900_000, 17_639_000_000_000, "2026-11-23T10:00:00", True, 1.5e12])
def test_timestamps_in_other_units_or_without_offset_are_refused(value):
    with pytest.raises(ValueError):
        purchase(timestamp=value)


def test_iso_timestamps_with_an_offset_become_epoch_ms():
    assert purchase(timestamp="2026-06-01T12:15:00+02:00").timestamp == ms("2026-06-01T10:15:00+00:00")
    assert purchase(timestamp="2026-06-01T10:15:00Z").timestamp == ms("2026-06-01T10:15:00+00:00")
    assert datetime.fromtimestamp(purchase().timestamp / 1000, timezone.utc).hour == 10


def test_revenue_until_a_time_counts_whole_hours_and_the_elapsed_share_of_the_last():
    hour = 3_600_000
    hourly = {0: 1000, hour: 600, 2 * hour: 9999}
    assert revenue_until(hourly, 0) == 0
    assert revenue_until(hourly, hour) == 1000
    assert revenue_until(hourly, hour + 45 * 60_000) == 1000 + 450  # 00:45 into the second hour
    assert revenue_until(hourly, 2 * hour) == 1600  # nothing of the hour that has not begun
    assert revenue_until({0: 1}, hour // 2) == 1  # half a cent rounds half up, never a float
