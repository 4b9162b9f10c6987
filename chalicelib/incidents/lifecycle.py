"""The incident lifecycle, pure: which status may follow which, who may make the move, what
a move stamps, and the time-to-acknowledge / time-to-resolve figures. No storage, no Chalice.

    open → acknowledged → investigating → mitigated → resolved
    resolved → open          (its alarm fires again within the reopen window, or a person reopens)
    any status → closed      (admins only; final: history stays, nothing follows)

A person may skip forward (resolve straight from open, as PagerDuty allows) and may step back
from mitigated to investigating when the mitigation did not hold; nothing else goes backwards.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

STATUSES: tuple[str, ...] = ("open", "acknowledged", "investigating", "mitigated", "resolved", "closed")
#: statuses in which the incident still needs someone (listed first, counted as open)
ACTIVE: frozenset[str] = frozenset({"open", "acknowledged", "investigating", "mitigated"})

TRANSITIONS: Mapping[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "investigating", "mitigated", "resolved", "closed"}),
    "acknowledged": frozenset({"investigating", "mitigated", "resolved", "closed"}),
    "investigating": frozenset({"mitigated", "resolved", "closed"}),
    "mitigated": frozenset({"investigating", "resolved", "closed"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}
#: the least role (``auth.roles`` labels) a person needs to move an incident *to* a status
ROLE_FOR_TARGET: Mapping[str, str] = {"closed": "admin"}
ROLE_RANK = {"viewer": 1, "operator": 2, "admin": 3}


class TransitionRefused(Exception):
    """The lifecycle does not allow ``current → target``; ``allowed`` lists what it allows."""

    def __init__(self, current: str, target: str, allowed: Sequence[str]):
        super().__init__(f"an incident that is {current} cannot become {target}")
        self.current, self.target, self.allowed = current, target, list(allowed)


class RoleTooLow(Exception):
    """The move exists but needs a higher role (closing needs admin)."""


def allowed_targets(current: str, role: str | None = None) -> list[str]:
    """The statuses ``current`` may move to, in lifecycle order; with ``role``, only those
    that role may choose (what the SPA offers as buttons)."""
    targets = TRANSITIONS.get(current, frozenset())
    return [s for s in STATUSES if s in targets and (
        role is None or ROLE_RANK.get(role, 0) >= ROLE_RANK[ROLE_FOR_TARGET.get(s, "operator")])]


def check_transition(current: str, target: str, role: str) -> None:
    """Raises :class:`TransitionRefused` or :class:`RoleTooLow`; returns when the move is allowed."""
    if target not in TRANSITIONS.get(current, frozenset()):
        raise TransitionRefused(current, target, allowed_targets(current))
    if ROLE_RANK.get(role, 0) < ROLE_RANK[ROLE_FOR_TARGET.get(target, "operator")]:
        raise RoleTooLow(f"only an admin may make an incident {target}")


@dataclass(frozen=True)
class Stamps:
    """What a move sets on the incident (epoch ms; None clears)."""

    acknowledged_at: int | None
    resolved_at: int | None
    closed_at: int | None


def stamps_after(current: Mapping, target: str, at: int) -> Stamps:
    """``acknowledgedAt`` is the first time a person moved it on from open (kept through a
    reopen: the team did acknowledge it); ``resolvedAt`` the latest resolution (a reopen clears
    it, so MTTR counts until the incident is really over); ``closedAt`` when an admin closed it."""
    acknowledged = current.get("acknowledgedAt")
    if acknowledged is None and target in ("acknowledged", "investigating", "mitigated", "resolved"):
        acknowledged = at
    resolved = current.get("resolvedAt")
    if target == "resolved":
        resolved = at
    elif target == "open":
        resolved = None
    closed = at if target == "closed" else current.get("closedAt")
    if target == "closed" and resolved is None:
        resolved = at
    return Stamps(acknowledged, resolved, closed)


def within_reopen_window(resolved_at: int | None, fired_at: int, window_ms: int) -> bool:
    """An alarm firing ``fired_at`` reopens an incident resolved at ``resolved_at`` when it
    comes within ``window_ms`` after (a later firing is a new incident)."""
    return resolved_at is not None and 0 <= fired_at - resolved_at <= window_ms


def taken_over(incident: Mapping) -> bool:
    """A person has taken the incident on (acknowledged, moved or assigned it): an alarm's OK
    then records the recovery but leaves resolving to them."""
    return incident.get("assignee") is not None or incident.get("acknowledgedAt") is not None


# -- MTTA / MTTR ---------------------------------------------------------------------------------
def time_to_acknowledge(incident: Mapping) -> int | None:
    """ms from creation to the first acknowledgement; None while unacknowledged."""
    ack = incident.get("acknowledgedAt")
    return None if ack is None else ack - incident["createdAt"]


def time_to_resolve(incident: Mapping) -> int | None:
    """ms from creation to resolution; None while unresolved."""
    resolved = incident.get("resolvedAt")
    return None if resolved is None else resolved - incident["createdAt"]


def percentile(values: Sequence[int], p: float) -> float | None:
    """The ``p``-th percentile (0..100) by linear interpolation between closest ranks (the
    method of numpy's default and of spreadsheets' PERCENTILE.INC); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_stats(incidents: Iterable[Mapping]) -> dict:
    """Counts by severity and status, MTTA and MTTR (median and p90, ms) over ``incidents``."""
    from ..severity import SEVERITIES
    by_severity = {s: 0 for s in SEVERITIES}
    by_status = {s: 0 for s in STATUSES}
    tta, ttr = [], []
    for incident in incidents:
        by_severity[incident["severity"]] = by_severity.get(incident["severity"], 0) + 1
        by_status[incident["status"]] = by_status.get(incident["status"], 0) + 1
        if (a := time_to_acknowledge(incident)) is not None:
            tta.append(a)
        if (r := time_to_resolve(incident)) is not None:
            ttr.append(r)
    return {"count": sum(by_severity.values()), "bySeverity": by_severity, "byStatus": by_status,
            "mttaMs": {"median": percentile(tta, 50), "p90": percentile(tta, 90), "n": len(tta)},
            "mttrMs": {"median": percentile(ttr, 50), "p90": percentile(ttr, 90), "n": len(ttr)}}
