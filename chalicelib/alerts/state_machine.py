"""The life of one alert (one rule + one label set). Pure: no storage, no clock.

    inactive ──breach──▶ pending ──breach for `for`──▶ firing ──past `recover`──▶ resolved
        │                   │ └─condition stops──▶ resolved        │
        └─breach, for=0s────┼───────────────────────▶ firing        │
                            └──────── no data ──▶ nodata ◀── no data┘

- ``pending`` becomes ``firing`` once the condition has held for the rule's ``for`` period.
- ``firing`` resolves only when the value is past ``recover`` (hysteresis), or past the
  threshold when the rule has no ``recover``.
- No data is its own state (``nodata``), never "resolved": when data comes back the alert
  carries on where it was (a pending one restarts its ``for`` clock).

:func:`step` is idempotent for one evaluation time: applying it again with the same reading and
the same ``now`` gives the same episode and no transition, so an evaluation delivered twice
changes nothing the second time.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

State = Literal["pending", "firing", "nodata", "resolved"]


@dataclass(frozen=True)
class Reading:
    """What a rule saw for one series at one evaluation."""

    value: float
    #: the rule's condition holds (the threshold is crossed)
    breaching: bool
    #: a firing alert stays firing (not yet past ``recover``)
    holding: bool


@dataclass(frozen=True)
class Episode:
    """An open alert: from the first breach until it resolves."""

    alert_id: str
    state: State
    starts_at: int
    #: when the ``for`` clock started (a pending alert back from no data restarts it)
    pending_since: int
    firing_at: int | None = None
    value: float | None = None
    #: the state an alert in ``nodata`` returns to when data comes back
    resume: State | None = None
    ends_at: int | None = None


@dataclass(frozen=True)
class Transition:
    from_state: str  # "inactive" for a new alert
    to_state: str
    at: int
    value: float | None


def step(episode: Episode | None, reading: Reading | None, for_ms: int, now: int,
         new_id: str) -> tuple[Episode | None, list[Transition]]:
    """The episode after one evaluation (None: no open alert) and the transitions it made.
    A resolved episode is returned once, with ``ends_at``; the caller closes it."""
    if episode is None:
        if reading is None or not reading.breaching:
            return None, []
        if for_ms == 0:
            opened = Episode(new_id, "firing", now, now, firing_at=now, value=reading.value)
            return opened, [Transition("inactive", "firing", now, reading.value)]
        opened = Episode(new_id, "pending", now, now, value=reading.value)
        return opened, [Transition("inactive", "pending", now, reading.value)]

    if reading is None:
        if episode.state == "nodata":
            return episode, []
        return (replace(episode, state="nodata", resume=episode.state),
                [Transition(episode.state, "nodata", now, None)])

    state = episode.resume if episode.state == "nodata" else episode.state
    if state == "pending":
        if not reading.breaching:
            return _resolve(episode, reading, now)
        pending_since = now if episode.state == "nodata" else episode.pending_since
        if now - pending_since >= for_ms:
            return (replace(episode, state="firing", firing_at=now, value=reading.value,
                            pending_since=pending_since, resume=None),
                    [Transition(episode.state, "firing", now, reading.value)])
        moved = [Transition(episode.state, "pending", now, reading.value)] if episode.state != "pending" else []
        return replace(episode, state="pending", value=reading.value, pending_since=pending_since,
                       resume=None), moved
    # firing
    if not reading.holding:
        return _resolve(episode, reading, now)
    moved = [Transition(episode.state, "firing", now, reading.value)] if episode.state != "firing" else []
    return replace(episode, state="firing", value=reading.value, resume=None), moved


def _resolve(episode: Episode, reading: Reading, now: int) -> tuple[Episode, list[Transition]]:
    return (replace(episode, state="resolved", value=reading.value, resume=None, ends_at=now),
            [Transition(episode.state, "resolved", now, reading.value)])
