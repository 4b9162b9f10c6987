"""Ingest folds each sample into its minute and hour buckets in place (issue 8); the bucket
must be what merging each sample's own one-value bucket gives."""
import random

from chalicelib.metrics.series import add_sample, merge_bucket, stats_of


def test_folding_samples_in_place_equals_merging_their_buckets():
    rng = random.Random(5)
    folded: dict = {}
    merged: dict = {}
    for i in range(500):
        ts = rng.randrange(0, 60_000)  # out of order, with ties
        values = {name: rng.choice([rng.uniform(-5, 5), 0.0, 1e9]) for name in
                  rng.sample(["cpu.percent", "mem.used_percent", "load.1m", "net.rx_bytes_per_s"],
                             rng.randrange(1, 5))}
        add_sample(folded, values, ts)
        merge_bucket(merged, {name: stats_of(v, ts) for name, v in values.items()})
    assert folded == merged
