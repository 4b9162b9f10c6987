"""When will a series cross a limit? A streaming, exponentially weighted least-squares line.
Pure: no I/O, no clock.

``Trend`` keeps six decayed sums (O(1) state, JSON-serialisable), so the stream handler can
update it with every point as it does the detector. ``forecast(limit)`` answers only when the
trend is credible: enough points over enough time, a line that explains most of the variance
(R²), and a slope whose 95 % interval stays on the limit's side of zero. The time to the limit
comes with an interval from that slope interval: "full in 6–9 h".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Forecast:
    limit: float
    #: when the fitted line crosses the limit, and the early and late ends of its interval (ms)
    eta_ms: int
    earliest_ms: int
    latest_ms: int
    #: change per hour, in the series' unit
    slope_per_hour: float
    r2: float
    #: the fitted line at the last point, in the series' unit
    current: float
    #: the last point's time (ms): the forecast's "now"
    at_ms: int


class Trend:
    """A line fitted to the recent points, older points weighing exp(-age / tau_ms)."""

    def __init__(self, tau_ms: float = 6 * HOUR_MS, min_points: int = 30,
                 min_span_ms: float = HOUR_MS, min_r2: float = 0.8, horizon_ms: float = 7 * 24 * HOUR_MS):
        self.tau_ms, self.min_points, self.min_span_ms = tau_ms, min_points, min_span_ms
        self.min_r2, self.horizon_ms = min_r2, horizon_ms
        self.t0: int | None = None  # the time origin of the sums (ms); moves with the points
        self.t = 0                  # the last point's time (ms)
        self.first = 0              # the first point's time since the last reset (ms)
        self.n = 0
        # decayed sums of 1, x, y, x², xy, y² (x in hours since t0), and of the squared weights
        self.w = self.wx = self.wy = self.wxx = self.wxy = self.wyy = self.ww = 0.0

    def update(self, timestamp_ms: int, value: float) -> None:
        if self.t0 is None:
            self.t0 = self.t = self.first = timestamp_ms
        if timestamp_ms <= self.t and self.n:
            return  # late or repeated: the line only moves forward
        decay = math.exp(-(timestamp_ms - self.t) / self.tau_ms) if self.n else 1.0
        d2 = decay * decay
        self.w, self.wx, self.wy = self.w * decay, self.wx * decay, self.wy * decay
        self.wxx, self.wxy, self.wyy, self.ww = self.wxx * decay, self.wxy * decay, self.wyy * decay, self.ww * d2
        if timestamp_ms - self.t0 > 24 * HOUR_MS:
            self._move_origin(timestamp_ms)
        x = (timestamp_ms - self.t0) / HOUR_MS
        self.w += 1.0
        self.wx += x
        self.wy += value
        self.wxx += x * x
        self.wxy += x * value
        self.wyy += value * value
        self.ww += 1.0
        self.t = timestamp_ms
        self.n += 1

    def _move_origin(self, timestamp_ms: int) -> None:
        """Shift x by d hours so sums stay small (precision), without changing the fit."""
        d = (timestamp_ms - self.t0) / HOUR_MS
        self.wxx += -2 * d * self.wx + d * d * self.w
        self.wxy -= d * self.wy
        self.wx -= d * self.w
        self.t0 = timestamp_ms

    def fit(self) -> tuple[float, float, float, float] | None:
        """(slope per hour, value at the last point, R², slope's standard error), or None."""
        w = self.w
        if self.n < 3 or w <= 0:
            return None
        sxx = self.wxx - self.wx * self.wx / w
        syy = self.wyy - self.wy * self.wy / w
        sxy = self.wxy - self.wx * self.wy / w
        if sxx <= 1e-12:
            return None
        slope = sxy / sxx
        x_last = (self.t - self.t0) / HOUR_MS
        current = self.wy / w + slope * (x_last - self.wx / w)
        sse = max(syy - slope * sxy, 0.0)
        r2 = 1.0 - sse / syy if syy > 0 else 0.0
        n_eff = w * w / self.ww if self.ww > 0 else 0.0
        if n_eff <= 2:
            return None
        # Weighted least squares with weights summing to w: residual variance per unit weight.
        se = math.sqrt(sse / (n_eff - 2) * n_eff / w / sxx)
        return slope, current, r2, se

    def forecast(self, limit: float) -> Forecast | None:
        """When the line reaches ``limit``, if the trend is credible and it does so within the
        horizon; None otherwise (so an insight is withdrawn when the trend goes away)."""
        if self.n < self.min_points or self.t - self.first < self.min_span_ms:
            return None
        fitted = self.fit()
        if fitted is None:
            return None
        slope, current, r2, se = fitted
        gap = limit - current
        if r2 < self.min_r2 or gap == 0 or (gap > 0) != (slope > 0):
            return None
        fast, slow = abs(slope) + 2 * se, abs(slope) - 2 * se
        if slow <= 0:
            return None  # the slope's interval includes flat: not a credible trend
        hours = abs(gap) / abs(slope)
        if hours * HOUR_MS > self.horizon_ms:
            return None
        return Forecast(limit, self.t + round(hours * HOUR_MS), self.t + round(abs(gap) / fast * HOUR_MS),
                        self.t + round(abs(gap) / slow * HOUR_MS), slope, r2, current, self.t)

    # -- persistence --------------------------------------------------------------------------
    SUMS = ("t0", "t", "first", "n", "w", "wx", "wy", "wxx", "wxy", "wyy", "ww")

    def state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.SUMS}

    @classmethod
    def from_state(cls, state: dict[str, Any], **parameters: Any) -> "Trend":
        trend = cls(**parameters)
        for name in cls.SUMS:
            setattr(trend, name, state[name])
        return trend


def bounded_limit(metric: str) -> float | None:
    """The limit of a bounded resource: a ``*used_percent`` metric (disk, memory, swap) is full
    at 100. Other metrics get a limit only from a rule threshold."""
    return 100.0 if metric.endswith("used_percent") else None


def describe(metric: str, host: str, forecast: Forecast) -> str:
    """'disk /var on web-1 full in 6–9 h'; 'cpu.percent on web-1 reaches 90 in 2–3 h'."""
    low, high = _duration(forecast.earliest_ms - forecast.at_ms), _duration(forecast.latest_ms - forecast.at_ms)
    if low == high:
        when = f"{low[0]} {low[1]}"
    elif low[1] == high[1]:  # same unit: "6–9 h"
        when = f"{low[0]}–{high[0]} {high[1]}"
    else:
        when = f"{low[0]} {low[1]}–{high[0]} {high[1]}"
    if forecast.limit == 100.0 and metric.endswith(".used_percent"):
        what = f"disk {_mount(metric[len('disk.'):-len('.used_percent')])}" if metric.startswith("disk.") \
            else metric.split(".")[0]
        return f"{what} on {host} full in {when}"
    return f"{metric} on {host} reaches {forecast.limit:g} in {when}"


def _mount(segment: str) -> str:
    """A mount's name segment (docs/metrics.md: ``/`` is ``root``, ``/var`` is ``var``) as a path;
    a ``_`` may have been a ``/`` or another character, so it is left as it is."""
    return "/" if segment == "root" else f"/{segment}"


def _duration(ms: float) -> tuple[int, str]:
    minutes = ms / 60_000
    if minutes < 90:
        return max(1, round(minutes)), "min"
    if minutes < 48 * 60:
        return round(minutes / 60), "h"
    return round(minutes / 1440), "d"
