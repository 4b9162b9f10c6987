"""The evaluation harness's adapters for the detectors teams run today (a random cut forest and
Twitter's S-H-ESD) give scores the harness can cut with a threshold: numbers in [0, 1], one
per point, and the obvious anomaly of a short constructed series above the quiet points."""
import math
import random

from benchmarks.detector_eval import MIN, RandomCutForest, SeasonalHybridEsd

T0 = 1_767_225_600_000


def series(n, spike_at, period=60):
    rng = random.Random(5)
    ts = [T0 + i * MIN + rng.randint(-5_000, 5_000) for i in range(n)]
    values = [50 + 10 * math.sin(2 * math.pi * i / period) + rng.gauss(0, 1) for i in range(n)]
    values[spike_at] += 40
    return ts, values


def test_random_cut_forest_scores_are_in_0_1_and_the_spike_stands_out():
    ts, values = series(300, spike_at=250)
    d = RandomCutForest(trees=10, tree_size=64)
    scores = [d.score(t, v) for t, v in zip(ts, values)]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[:67] == [0.0] * 67  # a 4-value shingle, then silent until the trees are full
    assert max(scores[248:256]) >= 0.5 > max(scores[:245] + scores[256:])


def test_s_h_esd_flags_the_spike_and_little_else():
    ts, values = series(6 * 24, spike_at=130, period=24)  # six 'days' of 24 minutes
    scores = SeasonalHybridEsd(period=24).score_series(ts, values)
    assert len(scores) == len(ts) and set(scores) <= {0.0, 1.0}
    assert scores[130] == 1.0
    assert sum(scores) <= 4  # max_anoms (2 %) bounds each of the 4 daily runs
