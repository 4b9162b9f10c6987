"""The incident lifecycle and its figures: pure, no storage."""
import itertools

import pytest

from chalicelib.incidents import lifecycle
from chalicelib.incidents.lifecycle import (STATUSES, RoleTooLow, TransitionRefused, check_transition,
                                            percentile, stamps_after, summary_stats, taken_over,
                                            within_reopen_window)

ALLOWED = {
    ("open", "acknowledged"), ("open", "investigating"), ("open", "mitigated"), ("open", "resolved"),
    ("acknowledged", "investigating"), ("acknowledged", "mitigated"), ("acknowledged", "resolved"),
    ("investigating", "mitigated"), ("investigating", "resolved"),
    ("mitigated", "investigating"), ("mitigated", "resolved"),
    ("resolved", "open"),
} | {(s, "closed") for s in STATUSES if s != "closed"}


@pytest.mark.parametrize("current,target", sorted(ALLOWED))
def test_every_allowed_transition_is_allowed(current, target):
    check_transition(current, target, "admin")


@pytest.mark.parametrize("current,target", sorted(
    (a, b) for a, b in itertools.product(STATUSES, STATUSES) if (a, b) not in ALLOWED))
def test_every_other_transition_is_refused_listing_the_allowed_ones(current, target):
    with pytest.raises(TransitionRefused) as refused:
        check_transition(current, target, "admin")
    assert set(refused.value.allowed) == {b for a, b in ALLOWED if a == current}


def test_only_an_admin_may_close():
    with pytest.raises(RoleTooLow):
        check_transition("resolved", "closed", "operator")
    check_transition("open", "acknowledged", "operator")
    with pytest.raises(RoleTooLow):
        check_transition("open", "acknowledged", "viewer")


def test_the_buttons_a_role_is_offered():
    assert lifecycle.allowed_targets("open", "viewer") == []
    assert lifecycle.allowed_targets("open", "operator") == ["acknowledged", "investigating", "mitigated", "resolved"]
    assert lifecycle.allowed_targets("resolved", "admin") == ["open", "closed"]
    assert lifecycle.allowed_targets("closed", "admin") == []


def test_first_move_stamps_acknowledgement_once_and_reopen_clears_resolution():
    incident = {"createdAt": 1000, "acknowledgedAt": None, "resolvedAt": None}
    stamps = stamps_after(incident, "investigating", 1500)
    assert (stamps.acknowledged_at, stamps.resolved_at) == (1500, None)
    incident = {**incident, "acknowledgedAt": 1500}
    assert stamps_after(incident, "resolved", 4000).resolved_at == 4000
    assert stamps_after({**incident, "resolvedAt": 4000}, "open", 5000).resolved_at is None
    assert stamps_after({**incident, "resolvedAt": 4000}, "open", 5000).acknowledged_at == 1500


def test_resolving_straight_from_open_counts_as_acknowledged_then():
    stamps = stamps_after({"createdAt": 0, "acknowledgedAt": None, "resolvedAt": None}, "resolved", 900)
    assert (stamps.acknowledged_at, stamps.resolved_at) == (900, 900)


@pytest.mark.parametrize("resolved_at,fired_at,inside", [
    (1_000_000, 1_000_000, True), (1_000_000, 1_000_000 + 30 * 60_000, True),
    (1_000_000, 1_000_001 + 30 * 60_000, False), (1_000_000, 999_999, False), (None, 5, False)])
def test_reopen_window_is_inclusive_and_only_after_the_resolution(resolved_at, fired_at, inside):
    assert within_reopen_window(resolved_at, fired_at, 30 * 60_000) is inside


def test_a_person_takes_an_incident_over_by_acknowledging_or_assigning():
    assert not taken_over({"assignee": None, "acknowledgedAt": None})
    assert taken_over({"assignee": "ana", "acknowledgedAt": None})
    assert taken_over({"assignee": None, "acknowledgedAt": 5})


def test_percentiles_interpolate_between_ranks():
    assert percentile([], 50) is None
    assert percentile([7], 90) == 7
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(1, 11)), 90) == pytest.approx(9.1)


def test_mtta_and_mttr_median_and_p90():
    incidents = [{"severity": "HIGH", "status": "resolved", "createdAt": 0, "acknowledgedAt": a * 60_000,
                  "resolvedAt": r * 60_000} for a, r in [(1, 10), (2, 20), (3, 30), (4, 40), (5, 50)]]
    incidents.append({"severity": "LOW", "status": "open", "createdAt": 0, "acknowledgedAt": None,
                      "resolvedAt": None})
    stats = summary_stats(incidents)
    assert stats["count"] == 6 and stats["bySeverity"] == {"LOW": 1, "MEDIUM": 0, "HIGH": 5, "CRITICAL": 0}
    assert stats["mttaMs"] == {"median": 3 * 60_000, "p90": pytest.approx(4.6 * 60_000), "n": 5}
    assert stats["mttrMs"] == {"median": 30 * 60_000, "p90": pytest.approx(46 * 60_000), "n": 5}
    assert stats["byStatus"]["open"] == 1 and stats["byStatus"]["resolved"] == 5
