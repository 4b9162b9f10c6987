"""The CI console's pure logic: GitHub's signature (its official test vector), runs and jobs
never moving backwards, flaky runs, and health roll-up arithmetic."""
from __future__ import annotations

import pytest

from chalicelib.ci import events, health
from chalicelib.ci.signature import is_valid, sign

VECTOR = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_official_signature_test_vector():
    assert sign(b"It's a Secret to Everybody", b"Hello, World!") == VECTOR
    assert is_valid(b"It's a Secret to Everybody", b"Hello, World!", VECTOR)


@pytest.mark.parametrize("header", [None, "", VECTOR.upper(), VECTOR[:-1], "sha1=" + VECTOR[7:], VECTOR + "0"])
def test_anything_but_the_exact_signature_is_refused(header):
    assert not is_valid(b"It's a Secret to Everybody", b"Hello, World!", header)


def test_no_secret_verifies_nothing():
    assert not is_valid(b"", b"Hello, World!", sign(b"", b"Hello, World!"))


def run(status, attempt=1, updated=1_000, conclusion=None, **more):
    return {"status": status, "runAttempt": attempt, "updatedAt": updated, "conclusion": conclusion, **more}


@pytest.mark.parametrize("stored, new, moves", [
    (None, run("queued"), True),
    (run("in_progress"), run("completed", updated=1_000), True),
    (run("completed"), run("in_progress", updated=5_000), False),   # late in_progress
    (run("completed"), run("completed"), False),                    # the same state again
    (run("completed", updated=1_000), run("completed", updated=2_000), True),
    (run("completed", attempt=1), run("queued", attempt=2, updated=900), True),  # a re-run
    (run("queued", attempt=2), run("completed", attempt=1, updated=9_000), False),  # the old attempt, late
])
def test_a_run_only_moves_forward(stored, new, moves):
    assert events.advances(new, stored) is moves


def test_a_pass_on_rerun_after_a_failure_is_flaky_once():
    first = events.merged_run(run("completed", conclusion="failure"), None)
    second = events.merged_run(run("queued", attempt=2, updated=2_000), first)
    passed = events.merged_run(run("completed", attempt=2, updated=3_000, conclusion="success"), second)
    assert passed["attempts"] == {"1": "failure", "2": "success"}
    assert events.is_flaky(passed) and not events.is_flaky(first)
    assert events.newly_completed(passed, second) and not events.newly_completed(passed, passed)


def test_health_quantiles_come_from_summed_buckets():
    runs = [{"status": "completed", "conclusion": c, "runAttempt": 1, "createdAt": 0, "startedAt": 10_000,
             "updatedAt": 10_000 + d * 1000} for c, d in
            [("success", 25), ("success", 50), ("failure", 100), ("success", 200), ("cancelled", 1000)]]
    total = health.summed(health.completion_deltas(r) for r in runs)
    stats = health.window_stats(total)
    assert (stats["runs"], stats["failed"], stats["failureRate"]) == (5, 1, 0.25)  # cancelled: not decided
    assert stats["durationMedianS"] == 120.0 and stats["durationP90S"] == 1200.0
    assert stats["queueMedianS"] == 10.0
    assert health.window_stats({})["failureRate"] is None


def test_a_payload_without_its_fields_is_refused_by_name():
    with pytest.raises(events.PayloadRefused, match="workflow_run.id"):
        events.run_of({"status": "queued"}, "a/b")
    with pytest.raises(events.PayloadRefused, match="full_name"):
        events.repository_of({"repository": {"id": 1}})
