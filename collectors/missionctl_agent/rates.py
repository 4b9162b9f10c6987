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
