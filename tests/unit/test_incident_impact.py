"""Revenue impact arithmetic: the same hours a week before, and the minimum-volume guard."""
from chalicelib.incidents.impact import HOUR_MS, MAX_HOURS, WEEK_MS, impact_hours, revenue_impact

H0 = 1_800_000_000_000 - 1_800_000_000_000 % HOUR_MS


def utc_hour(ms: int) -> int:
    return ms - ms % HOUR_MS


def test_hours_run_from_the_start_to_the_end_and_are_capped():
    assert impact_hours(H0 + 5, H0 + 2 * HOUR_MS + 1, utc_hour) == [H0, H0 + HOUR_MS, H0 + 2 * HOUR_MS]
    assert impact_hours(H0 + 5, H0 + 5, utc_hour) == [H0]
    assert len(impact_hours(H0, H0 + 500 * HOUR_MS, utc_hour)) == MAX_HOURS


def test_a_drop_against_last_week_is_the_delta_of_the_counted_hours():
    hours = [H0, H0 + HOUR_MS]
    now = {H0: {"revenue": 10_000, "orders": 10}, H0 + HOUR_MS: {"revenue": 500, "orders": 1}}
    before = {H0 - WEEK_MS: {"revenue": 30_000, "orders": 30}, H0 + HOUR_MS - WEEK_MS: {"revenue": 900, "orders": 3}}
    out = revenue_impact(hours, now, before, min_orders=20, currency="EUR")
    assert [r["counted"] for r in out["hours"]] == [True, False]  # 3 orders last week: too quiet to claim
    assert (out["revenue"], out["revenueBefore"], out["revenueDelta"]) == (10_000, 30_000, -20_000)
    assert out["revenueDeltaPercent"] == -66.67 and out["countedHours"] == 1 and out["currency"] == "EUR"


def test_quiet_hours_claim_no_loss():
    out = revenue_impact([H0], {}, {H0 - WEEK_MS: {"revenue": 100, "orders": 1}}, min_orders=20, currency="USD")
    assert out["enoughVolume"] is False and out["revenueDelta"] == 0 and out["revenueDeltaPercent"] is None
