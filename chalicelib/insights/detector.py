"""A streaming anomaly detector for one metric series. Pure Python, no I/O, no clock.

Model: a time-aware local linear trend (Holt's method with decays over elapsed time, so
irregular intervals and gaps weigh correctly) predicts each point; the residual is scaled by an
exponentially weighted mean absolute residual (a robust spread that follows noise as it grows
and shrinks through the day). Smooth daily and weekly cycles are followed by the trend, so a
seasonal peak is predicted, not flagged; a point far from the prediction is.

- Spikes and dips: one large residual. Updates are clipped (Huber), so a spike moves neither
  the level nor the spread much.
- Level shifts: a run of same-sided anomalous points lasting ``relearn_ms`` re-seats the level
  on the run's mean: the shift is flagged, then learned (the new normal scores low).
- Flat line: a value repeated exactly for ``flat_points`` points, on a series where repeats
  were rare before the run began (a stuck collector, a dead process), scores ``FLAT_SCORE``;
  a series that sat still for that long within the last 7 days and then moved again by itself
  (a disk idle at night, orders at 0) is one that does, and is not flagged for it.
- Warm-up: the first ``warmup_points`` points and the first point after a gap longer than
  ``gap_reset_ms`` score 0 (nothing is known yet).

Cost: O(1) time and state per point; ``state()`` is a flat dict of about 20 numbers
(a few hundred bytes of JSON, far under the 4 KB budget). Values may be on any scale: every
threshold is relative to the series' own spread.

The defaults below were chosen by ``benchmarks/detector_eval.py`` (see benchmarks/README.md,
"Insights"), not by hand.
"""
from __future__ import annotations

import math
from typing import Any

STATE_VERSION = 2
#: the score of a flat-lined series: above any threshold the harness may choose
FLAT_SCORE = 0.99
#: the clip, in spreads, of a residual's pull on level, trend and spread
CLIP = 3.0
#: how fast the share of repeated values forgets, per point
REPEAT_MEMORY = 0.02
#: a series that sat still this recently, and moved again, is one that sits still (an idle
#: disk at night): its flat lines are not flagged until it has not done so for this long
STILL_MEMORY_MS = 7 * 86_400_000
#: E|r| = sqrt(2/pi)·sigma for Gaussian noise: turns the mean absolute residual into a sigma
MAD_TO_SIGMA = 1.2533


class Detector:
    """``score(ts_ms, value) -> [0, 1]``; ``threshold``: the score at and above which a point
    is anomalous; ``state()`` / ``from_state()``: continue exactly where another stopped."""

    __slots__ = ("threshold", "tau_level_ms", "tau_trend_ms", "tau_scale_ms", "z_half",
                 "relearn_ms", "flat_points", "warmup_points", "gap_reset_ms", "rel_floor",
                 "t", "n", "level", "trend", "scale", "run", "run_sum", "run_start", "flat",
                 "last", "repeat_rate", "run_rate", "still_ended", "_dt", "_al", "_at", "_as")

    def __init__(self, threshold: float = 0.7, tau_level_ms: float = 900_000.0,
                 tau_trend_ms: float = 3_600_000.0, tau_scale_ms: float = 7_200_000.0,
                 z_half: float = 4.0, relearn_ms: float = 600_000.0, flat_points: int = 10,
                 warmup_points: int = 30, gap_reset_ms: float = 21_600_000.0,
                 rel_floor: float = 1e-4):
        self.threshold = threshold
        #: decay times (ms) of the level, the trend and the spread
        self.tau_level_ms, self.tau_trend_ms, self.tau_scale_ms = tau_level_ms, tau_trend_ms, tau_scale_ms
        #: the z (residual in sigmas) that scores 0.5; score = z² / (z² + z_half²)
        self.z_half = z_half
        self.relearn_ms, self.flat_points, self.warmup_points = relearn_ms, flat_points, warmup_points
        self.gap_reset_ms = gap_reset_ms
        #: the spread never falls under this share of the level (a near-constant series)
        self.rel_floor = rel_floor
        self.t: int | None = None  # last timestamp, ms
        self.n = 0                 # points since the last reset
        self.level = 0.0
        self.trend = 0.0           # change of the level per ms
        self.scale = 0.0           # EW mean absolute residual, in the series' unit
        self.run = 0               # signed length of the current run of anomalous points
        self.run_sum = 0.0
        self.run_start = 0
        self.flat = 0              # how many times in a row the value repeated exactly
        self.last = 0.0
        self.repeat_rate = 0.0     # EW share of points equal to their predecessor
        self.run_rate = 0.0        # repeat_rate when the current run of repeats began
        self.still_ended = -STILL_MEMORY_MS - 1  # when a long run of repeats last ended (ms)
        self._dt = -1              # the interval of the cached decays below
        self._al = self._at = self._as = 0.0

    # -- scoring ------------------------------------------------------------------------------
    def score(self, timestamp_ms: int, value: float) -> float:
        t = self.t
        if t is None or timestamp_ms - t > self.gap_reset_ms:
            self._reset(timestamp_ms, value)
            return 0.0
        dt = timestamp_ms - t
        if dt <= 0:  # a duplicate or late point: score it against the current model, learn nothing
            return self._score_only(value)
        if dt != self._dt:
            self._dt = dt
            self._al = 1.0 - math.exp(-dt / self.tau_level_ms)
            self._at = 1.0 - math.exp(-dt / self.tau_trend_ms)
            self._as = 1.0 - math.exp(-dt / self.tau_scale_ms)
        self.t = timestamp_ms
        n = self.n = self.n + 1
        level = self.level
        # The trend is extrapolated at most one level time: across a long gap it is unknown.
        predicted = level + self.trend * (dt if dt < self.tau_level_ms else self.tau_level_ms)
        residual = value - predicted
        floor = self.rel_floor * abs(level) + 1e-12
        scale = self.scale if self.scale > floor else floor

        # Flat line: exact repeats on a series that normally moves.
        if value == self.last:
            self.flat += 1
            if self.flat == 1:
                self.run_rate = self.repeat_rate  # how usual repeats were before this run
        else:
            if self.flat >= self.flat_points:
                self.still_ended = timestamp_ms  # it sat still, and it moves again by itself
            self.flat = 0
        self.last = value
        flat = self.flat
        if flat < self.flat_points:  # past that length the run is the anomaly, not a lesson
            self.repeat_rate += REPEAT_MEMORY * ((1.0 if flat else 0.0) - self.repeat_rate)

        if n <= self.warmup_points:
            # Plain running means while warming up: early points weigh as much as late ones.
            w = 1.0 / n if 1.0 / n > self._al else self._al
            new_level = level + w * residual
            self.trend += self._at * ((new_level - level) / dt - self.trend) if n > 2 else 0.0
            self.level = new_level
            self.scale += (1.0 / n if 1.0 / n > self._as else self._as) * (abs(residual) - self.scale)
            return 0.0

        z = abs(residual) / (MAD_TO_SIGMA * scale)
        limit = CLIP * MAD_TO_SIGMA * scale
        clipped = residual if -limit <= residual <= limit else (limit if residual > 0 else -limit)
        new_level = predicted + self._al * clipped
        self.trend += self._at * ((new_level - level) / dt - self.trend)
        self.level = new_level
        if flat < 2:  # a repeated value carries no news about the spread
            self.scale += self._as * ((abs(clipped) if abs(clipped) > floor else floor) - self.scale)

        s = z * z / (z * z + self.z_half * self.z_half)
        if s >= self.threshold:
            sign = 1 if residual > 0 else -1
            if self.run * sign <= 0:  # a new run (or one changing side)
                self.run, self.run_sum, self.run_start = sign, value, timestamp_ms
            else:
                self.run += sign
                self.run_sum += value
                if timestamp_ms - self.run_start >= self.relearn_ms and abs(self.run) >= 3:
                    # A new normal: learn it. The points so far were flagged; the next are not.
                    self.level = self.run_sum / abs(self.run)
                    self.trend = 0.0
                    self.scale = max(self.scale, abs(value - self.level) / MAD_TO_SIGMA)
                    self.run = 0
        else:
            self.run = 0
        if (flat >= self.flat_points and self.run_rate < 0.2 and scale > floor
                and timestamp_ms - self.still_ended > STILL_MEMORY_MS):
            return FLAT_SCORE if FLAT_SCORE > s else s
        return s

    def _score_only(self, value: float) -> float:
        if self.n <= self.warmup_points:
            return 0.0
        floor = self.rel_floor * abs(self.level) + 1e-12
        z = abs(value - self.level) / (MAD_TO_SIGMA * max(self.scale, floor))
        return z * z / (z * z + self.z_half * self.z_half)

    def _reset(self, timestamp_ms: int, value: float) -> None:
        self.t, self.n, self.level, self.trend = timestamp_ms, 1, float(value), 0.0
        self.scale, self.run, self.run_sum, self.flat = 0.0, 0, 0.0, 0
        self.last = float(value)

    # -- persistence --------------------------------------------------------------------------
    PARAMETERS = ("threshold", "tau_level_ms", "tau_trend_ms", "tau_scale_ms", "z_half",
                  "relearn_ms", "flat_points", "warmup_points", "gap_reset_ms", "rel_floor")
    VARIABLES = ("t", "n", "level", "trend", "scale", "run", "run_sum", "run_start", "flat",
                 "last", "repeat_rate", "run_rate", "still_ended")

    def state(self) -> dict[str, Any]:
        """Everything needed to continue: parameters that differ from the defaults, and the
        model's variables. JSON-serialisable; a few hundred bytes."""
        defaults = _DEFAULTS
        state: dict[str, Any] = {"v": STATE_VERSION}
        for name in self.PARAMETERS:
            value = getattr(self, name)
            if value != defaults[name]:
                state[name] = value
        for name in self.VARIABLES:
            state[name] = getattr(self, name)
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "Detector":
        if state.get("v") != STATE_VERSION:
            return cls()  # a state from another model version: start afresh rather than guess
        d = cls(**{k: state[k] for k in cls.PARAMETERS if k in state})
        for name in cls.VARIABLES:
            setattr(d, name, state[name])
        return d


_DEFAULTS = {name: getattr(Detector(), name) for name in Detector.PARAMETERS}
