"""The streaming detector, on small constructed series of each kind real metrics show."""
import json
import math
import random

import pytest

from chalicelib.insights.detector import Detector

T0 = 1_767_225_600_000  # 2026-01-01T00:00Z
STEP = 10_000           # the collectors' 10 s
DAY = 86_400_000


def noisy(n, level=50.0, sigma=1.0, seed=1, step=STEP, start=T0):
    rng = random.Random(seed)
    return [(start + i * step, level + rng.gauss(0, sigma)) for i in range(n)]


def scores(detector, points):
    return [detector.score(t, v) for t, v in points]


def test_scores_are_between_0_and_1_and_warm_up_raises_nothing():
    d = Detector()
    result = scores(d, noisy(2000))
    assert all(0.0 <= s <= 1.0 for s in result)
    assert result[:d.warmup_points] == [0.0] * d.warmup_points


def test_the_first_points_raise_nothing_even_when_wild():
    d = Detector()
    wild = [(T0 + i * STEP, v) for i, v in enumerate([1, 1000, 3, 5e6, 0, 42] * 5)]
    assert max(scores(d, wild)[:d.warmup_points]) == 0.0


def test_a_spike_is_flagged_and_its_neighbours_are_not():
    d = Detector()
    points = noisy(1000)
    points[800] = (points[800][0], 50.0 + 15.0)
    result = scores(d, points)
    assert result[800] >= d.threshold
    assert max(result[d.warmup_points:800] + result[801:]) < d.threshold


def test_a_dip_is_flagged():
    d = Detector()
    points = noisy(1000)
    points[700] = (points[700][0], 50.0 - 15.0)
    assert scores(d, points)[700] >= d.threshold


def test_a_level_shift_is_flagged_then_learned_as_the_new_normal():
    d = Detector()
    before = noisy(1000)
    after = noisy(1000, level=70.0, seed=2, start=before[-1][0] + STEP)
    scores(d, before)
    result = scores(d, after)
    assert result[0] >= d.threshold                        # flagged at once
    assert max(result[-900:]) < d.threshold                # learned: the new level is normal
    assert abs(d.level - 70.0) < 1.0


def test_a_flat_line_on_a_series_that_normally_moves_is_flagged():
    d = Detector()
    points = noisy(1000)
    stuck = points[699][1]
    points[700:] = [(t, stuck) for t, _ in points[700:]]
    result = scores(d, points)
    assert max(result[700:700 + d.flat_points - 1]) < d.threshold  # a few repeats are chance
    assert min(result[700 + d.flat_points:]) >= d.threshold          # stuck stays flagged


def test_a_series_that_is_naturally_constant_does_not_alarm():
    d = Detector()
    assert max(scores(d, [(T0 + i * STEP, 0.0) for i in range(2000)])) == 0.0


def test_a_daily_cycle_does_not_alarm_at_its_peak():
    d = Detector()
    rng = random.Random(5)
    points = [(T0 + i * STEP, 40 + 30 * math.sin(2 * math.pi * (i * STEP) / DAY) + rng.gauss(0, 1.5))
              for i in range(3 * DAY // STEP)]
    result = scores(d, points)
    peak = max(range(len(points)), key=lambda i: points[i][1])
    assert result[peak] < d.threshold
    assert max(result) < d.threshold


def test_the_scale_of_the_values_does_not_matter():
    small = noisy(1500, level=0.5, sigma=0.01)
    large = [(t, v * 1e8) for t, v in small]
    small[1200] = (small[1200][0], 0.5 + 0.2)
    large[1200] = (large[1200][0], (0.5 + 0.2) * 1e8)
    a, b = scores(Detector(), small), scores(Detector(), large)
    assert max(abs(x - y) for x, y in zip(a, b)) < 1e-6
    assert a[1200] >= Detector().threshold


def test_irregular_intervals_and_a_gap_do_not_alarm():
    rng = random.Random(9)
    t, points = T0, []
    for i in range(3000):
        t += rng.randint(5_000, 15_000) + (2 * 3_600_000 if i == 1500 else 0)
        points.append((t, 50 + rng.gauss(0, 1)))
    d = Detector()
    assert max(scores(d, points)) < d.threshold


def test_a_state_round_trip_scores_the_next_points_identically():
    points = noisy(3000, seed=4)
    points[2500] = (points[2500][0], 90.0)
    first, second = Detector(), Detector()
    scores(first, points[:2000])
    scores(second, points[:2000])
    restored = Detector.from_state(json.loads(json.dumps(first.state())))
    assert scores(restored, points[2000:]) == scores(second, points[2000:])
    assert restored.state() == second.state()


def test_state_stays_under_4_kb_on_any_scale():
    d = Detector()
    scores(d, [(t, v * 1e12 + 0.123456789) for t, v in noisy(5000)])
    assert len(json.dumps(d.state())) <= 4096


def test_non_default_parameters_survive_a_round_trip():
    d = Detector(threshold=0.95, flat_points=12)
    restored = Detector.from_state(d.state())
    assert (restored.threshold, restored.flat_points) == (0.95, 12)


def test_a_state_of_another_model_version_starts_afresh():
    assert Detector.from_state({"v": 0, "level": 3}).state() == Detector().state()


@pytest.mark.parametrize("late_by", [0, 5_000])
def test_a_repeated_or_late_point_is_scored_but_learns_nothing(late_by):
    d = Detector()
    scores(d, noisy(500))
    before = d.state()
    d.score(before["t"] - late_by, 50.0)
    assert d.state() == before


def test_a_series_that_often_sits_still_is_not_flagged_when_it_does_again():
    rng = random.Random(8)
    points, t = [], T0
    for _cycle in range(6):  # busy, then exactly 0 for half an hour (an idle disk), again and again
        for i in range(360):
            t += STEP
            points.append((t, 0.0 if 120 <= i < 300 else abs(rng.gauss(500, 100))))
    d = Detector()
    result = scores(d, points)
    # The drop to 0 is a change (flagged, then learned); sitting at 0 is not a stuck collector.
    still = [result[c * 360 + i] for c in range(3, 6) for i in range(220, 300)]
    assert max(still) < d.threshold
