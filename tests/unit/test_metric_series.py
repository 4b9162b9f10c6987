"""Metric roll-up and series arithmetic: pure functions."""
from chalicelib.metrics.series import (
    HOUR_MS, MINUTE_MS, RAW_MS, choose_step, estimate_interval, host_status, merge_bucket,
    merge_stats, series, stats_of,
)


def test_merging_stats_keeps_min_max_sum_count_and_the_latest_value():
    merged = merge_stats(stats_of(5.0, 2000), stats_of(3.0, 1000))
    assert merged == [3.0, 5.0, 8.0, 2, 5.0, 2000]


def test_merging_is_the_same_in_any_order():
    a, b, c = stats_of(1.0, 1), stats_of(9.0, 3), stats_of(4.0, 2)
    assert merge_stats(merge_stats(a, b), c) == merge_stats(a, merge_stats(c, b))


def test_buckets_merge_per_metric():
    into = {"cpu.percent": stats_of(10.0, 1)}
    merge_bucket(into, {"cpu.percent": stats_of(20.0, 2), "mem.used_percent": stats_of(1.0, 2)})
    assert into["cpu.percent"][:4] == [10.0, 20.0, 30.0, 2]
    assert "mem.used_percent" in into


def test_the_finest_resolution_with_at_most_1000_points_is_chosen():
    assert choose_step(0, HOUR_MS, None) == ("10s", RAW_MS, RAW_MS)
    assert choose_step(0, 12 * HOUR_MS, None) == ("1m", MINUTE_MS, MINUTE_MS)
    assert choose_step(0, 30 * 24 * HOUR_MS, None) == ("1h", HOUR_MS, HOUR_MS)


def test_a_range_too_long_even_for_hours_gets_a_coarser_step():
    resolution, _length, step = choose_step(0, 400 * 24 * HOUR_MS, None)
    assert resolution == "1h" and step % HOUR_MS == 0
    assert 400 * 24 * HOUR_MS / step <= 1000


def test_an_explicit_step_wins_and_reads_the_coarsest_resolution_that_divides_it():
    assert choose_step(0, HOUR_MS, 300_000) == ("1m", MINUTE_MS, 300_000)
    assert choose_step(0, HOUR_MS, 20_000) == ("10s", RAW_MS, 20_000)
    assert choose_step(0, 30 * 24 * HOUR_MS, 2 * HOUR_MS) == ("1h", HOUR_MS, 2 * HOUR_MS)


def test_missing_steps_are_gaps_not_zeros():
    out = series([(0, stats_of(1.0, 0)), (20_000, stats_of(3.0, 20_000))], 0, 30_000, 10_000)
    assert out["t"] == [0, 10_000, 20_000, 30_000]
    assert out["avg"] == [1.0, None, 3.0, None]
    assert out["min"][1] is None and out["max"][2] == 3.0


def test_points_are_re_aggregated_onto_a_coarser_step():
    points = [(i * 10_000, stats_of(float(i), i * 10_000)) for i in range(6)]
    out = series(points, 0, 59_999, 60_000)
    assert out["avg"] == [2.5] and out["min"] == [0.0] and out["max"] == [5.0]


def test_hosts_go_stale_after_three_missed_intervals_and_offline_after_thirty():
    assert host_status(0, 10_000, 30_000) == "online"
    assert host_status(0, 10_000, 31_000) == "stale"
    assert host_status(0, 10_000, 301_000) == "offline"


def test_the_interval_follows_the_sampling_cadence_within_bounds():
    assert estimate_interval(None, 1000, None) == RAW_MS
    assert estimate_interval(0, 15_000, 10_000) == 15_000
    assert estimate_interval(0, 10**9, 10_000) == 600_000
    assert estimate_interval(5000, 5000, 10_000) == 10_000
