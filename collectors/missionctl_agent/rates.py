"""Per-second rates from cumulative counters (bytes, operations, packets...).

Counters only ever go up while the thing counting them lives; the rate over
an interval is (new - old) / seconds. What makes this module worth having is
the cases where that formula lies:

- **First reading** (agent just started, or a counter just appeared): there
  is no previous value, so there is no rate. We never persist counters across
  restarts, so the first sample after every start has no rates.
- **Counter went down** (interface re-created, driver reloaded, 32-bit
  wrap, VM migrated): we treat it as a reset and emit *no* rate for that
  counter on that reading; the new value becomes the baseline and the next
  reading yields a normal rate. We chose "skip" over "use the new value as
  the delta" because we cannot know when the reset happened inside the
  interval, nor whether it was a wrap, so any number would be a guess; a
  one-sample gap is honest and can never be negative or a spike.
- **Stale baseline**: if the previous reading is older than `max_age_s`
  (the agent was suspended, or blocked on a slow sink), the average over that
  long window would hide whatever happened; no rate, re-baseline.
- **Time did not advance** (dt <= 0): no rate, re-baseline.

Timestamps must come from a monotonic clock (seconds); wall-clock jumps
would otherwise turn into rate spikes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


class CounterRates:
    """Turns successive counter snapshots into per-second rates.

    Invariants: every rate returned is finite and >= 0; a rate is returned for
    a key only when the same key was in the previous snapshot, that snapshot
    is at most `max_age_s` old, and the counter did not go down.
    """

    def __init__(self, max_age_s: float) -> None:
        if max_age_s <= 0:
            raise ValueError("max_age_s must be positive")
        self.max_age_s = max_age_s
        self._previous_at: float | None = None
        self._previous: dict[str, float] = {}

    def update(self, now_s: float, counters: Mapping[str, float]) -> dict[str, float]:
        """Record a snapshot taken at monotonic time `now_s` (seconds) and
        return {key: units per second} for the keys that have a usable
        baseline. Keys whose value is negative or not finite are ignored."""
        current = {
            key: float(value)
            for key, value in counters.items()
            if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0
        }
        rates: dict[str, float] = {}
        if self._previous_at is not None:
            elapsed = now_s - self._previous_at
            if 0 < elapsed <= self.max_age_s:
                for key, value in current.items():
                    previous = self._previous.get(key)
                    if previous is None or value < previous:
                        continue  # new counter, or reset: no rate this time
                    rates[key] = (value - previous) / elapsed
        self._previous_at = now_s
        self._previous = current
        return rates

    def forget(self) -> None:
        """Drop the baseline, as if the agent had just started."""
        self._previous_at = None
        self._previous = {}


class CpuBusyPercent:
    """CPU busy percent (0..100) from successive cpu_times() readings.

    Same first-reading and staleness rules as CounterRates, but NOT its reset
    rule: CPU times are seconds since boot and do not reset while the machine
    runs, yet Linux may report a field (idle, iowait) slightly lower than
    before (accounting jitter, e.g. with NO_HZ). Like psutil, we clamp each
    field's delta at 0 instead of skipping the whole reading.

    Readings are keyed by scope ("total", "0", "1"...: one per core); a
    reading is a mapping of cpu_times field name -> seconds.
    """

    IDLE_FIELDS = ("idle", "iowait")
    # On Linux guest time is already counted in user/nice (as psutil and htop do).
    DOUBLE_COUNTED_FIELDS = ("guest", "guest_nice")

    def __init__(self, max_age_s: float) -> None:
        if max_age_s <= 0:
            raise ValueError("max_age_s must be positive")
        self.max_age_s = max_age_s
        self._previous_at: float | None = None
        self._previous: dict[str, Mapping[str, float]] = {}

    def update(self, now_s: float, readings: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
        """Record readings taken at monotonic `now_s`; returns {scope: percent}
        for scopes with a usable previous reading in which CPU time elapsed."""
        percents: dict[str, float] = {}
        if self._previous_at is not None and 0 < now_s - self._previous_at <= self.max_age_s:
            for scope, current in readings.items():
                previous = self._previous.get(scope)
                if previous is not None:
                    percent = self.busy_percent(previous, current)
                    if percent is not None:
                        percents[scope] = percent
        self._previous_at = now_s
        self._previous = dict(readings)
        return percents

    @classmethod
    def busy_percent(cls, previous: Mapping[str, float], current: Mapping[str, float]) -> float | None:
        """Busy share of the CPU time elapsed between two readings, or None
        if no CPU time elapsed."""
        deltas = {field: max(current[field] - previous.get(field, current[field]), 0.0) for field in current}
        total = sum(deltas.values()) - sum(deltas.get(f, 0.0) for f in cls.DOUBLE_COUNTED_FIELDS)
        idle = sum(deltas.get(f, 0.0) for f in cls.IDLE_FIELDS)
        if not math.isfinite(total) or total <= 0:
            return None
        return min(max((total - idle) / total * 100.0, 0.0), 100.0)
