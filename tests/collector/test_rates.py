"""Rate maths over counter resets, restarts and stale baselines (pure unit tests)."""

import math
import random

import pytest

from missionctl_agent.rates import CounterRates, CpuBusyPercent


def test_first_snapshot_after_start_yields_no_rate():
    rates = CounterRates(max_age_s=30)
    assert rates.update(100.0, {"net.rx": 5_000}) == {}


def test_rate_is_counter_delta_divided_by_elapsed_seconds():
    rates = CounterRates(max_age_s=30)
    rates.update(100.0, {"net.rx": 5_000})
    assert rates.update(110.0, {"net.rx": 6_000}) == {"net.rx": pytest.approx(100.0)}


def test_unchanged_counter_yields_zero_rate():
    rates = CounterRates(max_age_s=30)
    rates.update(0.0, {"disk.ops": 42})
    assert rates.update(10.0, {"disk.ops": 42}) == {"disk.ops": 0.0}


def test_counter_reset_never_yields_negative_rate():
    rates = CounterRates(max_age_s=30)
    rates.update(0.0, {"net.rx": 1_000_000})
    assert rates.update(10.0, {"net.rx": 300}) == {}


def test_counter_reset_gives_no_spike_and_next_reading_is_normal():
    rates = CounterRates(max_age_s=30)
    rates.update(0.0, {"net.rx": 1_000_000})
    rates.update(10.0, {"net.rx": 300})  # reset: skipped
    assert rates.update(20.0, {"net.rx": 1_300}) == {"net.rx": pytest.approx(100.0)}


def test_reset_of_one_counter_does_not_hide_the_others():
    rates = CounterRates(max_age_s=30)
    rates.update(0.0, {"a": 100, "b": 100})
    assert rates.update(10.0, {"a": 5, "b": 200}) == {"b": pytest.approx(10.0)}


def test_restarted_agent_emits_no_rate_from_counters_it_did_not_see():
    before_restart = CounterRates(max_age_s=30)
    before_restart.update(0.0, {"net.rx": 1_000})
    before_restart.update(10.0, {"net.rx": 2_000})
    after_restart = CounterRates(max_age_s=30)  # new process, nothing persisted
    assert after_restart.update(20.0, {"net.rx": 3_000}) == {}
    assert after_restart.update(30.0, {"net.rx": 4_000}) == {"net.rx": pytest.approx(100.0)}


def test_baseline_older_than_max_age_is_stale_and_yields_no_rate():
    rates = CounterRates(max_age_s=30)
    rates.update(0.0, {"net.rx": 0})
    assert rates.update(31.0, {"net.rx": 31_000}) == {}


def test_stale_reading_becomes_the_new_baseline():
    rates = CounterRates(max_age_s=30)
    rates.update(0.0, {"net.rx": 0})
    rates.update(100.0, {"net.rx": 50_000})  # stale
    assert rates.update(110.0, {"net.rx": 51_000}) == {"net.rx": pytest.approx(100.0)}


def test_baseline_exactly_max_age_old_still_yields_a_rate():
    rates = CounterRates(max_age_s=30)
    rates.update(0.0, {"net.rx": 0})
    assert rates.update(30.0, {"net.rx": 300}) == {"net.rx": pytest.approx(10.0)}


@pytest.mark.parametrize("later", [100.0, 99.0])
def test_clock_that_did_not_advance_yields_no_rate(later):
    rates = CounterRates(max_age_s=30)
    rates.update(100.0, {"net.rx": 0})
    assert rates.update(later, {"net.rx": 10}) == {}


def test_counter_that_appears_later_gets_a_rate_from_its_second_reading():
    rates = CounterRates(max_age_s=30)
    rates.update(0.0, {"a": 0})
    assert rates.update(10.0, {"a": 10, "b": 500}) == {"a": pytest.approx(1.0)}
    assert rates.update(20.0, {"a": 20, "b": 600}) == {"a": pytest.approx(1.0), "b": pytest.approx(10.0)}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1])
def test_unusable_counter_values_are_ignored(bad):
    rates = CounterRates(max_age_s=30)
    rates.update(0.0, {"a": 0, "b": 0})
    assert rates.update(10.0, {"a": bad, "b": 10}) == {"b": pytest.approx(1.0)}


def test_forget_behaves_like_a_restart():
    rates = CounterRates(max_age_s=30)
    rates.update(0.0, {"a": 0})
    rates.forget()
    assert rates.update(10.0, {"a": 10}) == {}


def test_every_emitted_rate_equals_true_growth_over_resets_gaps_and_jitter():
    rng = random.Random(1234)
    rates = CounterRates(max_age_s=30)
    counter, now, emitted = 0, 0.0, 0
    for _ in range(2_000):
        step = rng.choice([0.0, 0.001, 5.0, 10.0, 10.0, 10.0, 45.0])
        now += step
        growth = rng.randrange(0, 10_000)
        # A reset that lands below the old value (one that lands above it is
        # indistinguishable from growth, for any agent).
        reset = counter > 0 and rng.random() < 0.05
        counter = rng.randrange(0, counter) if reset else counter + growth
        result = rates.update(now, {"c": counter})
        if "c" in result:
            emitted += 1
            assert not reset and 0 < step <= 30
            assert math.isfinite(result["c"]) and result["c"] >= 0
            assert result["c"] == pytest.approx(growth / step)
    assert emitted > 1_000  # the normal case does produce rates


def test_max_age_must_be_positive():
    with pytest.raises(ValueError):
        CounterRates(max_age_s=0)


def cpu(user=0.0, system=0.0, idle=0.0, iowait=0.0, guest=0.0):
    return {"user": user, "system": system, "idle": idle, "iowait": iowait, "guest": guest}


def test_first_cpu_reading_after_start_yields_no_percent():
    assert CpuBusyPercent(max_age_s=30).update(0.0, {"total": cpu(10, 5, 100)}) == {}


def test_cpu_percent_is_busy_time_over_elapsed_cpu_time():
    percents = CpuBusyPercent(max_age_s=30)
    percents.update(0.0, {"total": cpu(10, 5, 100), "0": cpu(5, 2, 50)})
    result = percents.update(10.0, {"total": cpu(13, 6, 116), "0": cpu(5, 2, 60)})
    assert result == {"total": pytest.approx(20.0), "0": pytest.approx(0.0)}


def test_iowait_counts_as_idle_and_guest_is_not_counted_twice():
    percents = CpuBusyPercent(max_age_s=30)
    percents.update(0.0, {"total": cpu(user=10, idle=10, iowait=10, guest=1)})
    # +4 user of which 2 guest, +2 idle, +2 iowait: busy 4 of 8 seconds
    assert percents.update(1.0, {"total": cpu(user=14, idle=12, iowait=12, guest=3)}) == {"total": pytest.approx(50.0)}


def test_idle_time_reported_slightly_lower_is_jitter_not_a_reset():
    percents = CpuBusyPercent(max_age_s=30)
    percents.update(0.0, {"total": cpu(user=10, idle=100.0)})
    result = percents.update(10.0, {"total": cpu(user=20, idle=99.99)})
    assert result == {"total": pytest.approx(100.0)}


def test_cpu_percent_stays_within_0_and_100():
    rng = random.Random(7)
    percents = CpuBusyPercent(max_age_s=30)
    reading = cpu()
    for step in range(500):
        reading = {field: max(value + rng.uniform(-0.5, 3), 0.0) for field, value in reading.items()}
        for value in percents.update(float(step), {"total": reading}).values():
            assert 0.0 <= value <= 100.0


def test_no_cpu_percent_when_no_cpu_time_elapsed_or_the_reading_is_stale():
    percents = CpuBusyPercent(max_age_s=30)
    percents.update(0.0, {"total": cpu(10, 5, 100)})
    assert percents.update(10.0, {"total": cpu(10, 5, 100)}) == {}
    assert percents.update(41.0, {"total": cpu(20, 5, 100)}) == {}
    assert percents.update(51.0, {"total": cpu(30, 5, 100)}) == {"total": pytest.approx(100.0)}
