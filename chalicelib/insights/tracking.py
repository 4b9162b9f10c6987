"""One series' insights as its points arrive: the detector's scores become anomaly windows
(one insight per window, opened, updated, closed), a credible trend towards a limit becomes a
prediction (withdrawn when the trend goes away). Pure: no I/O, no clock; the stream handler
loads a tracker's state, feeds it the batch's points and writes what it reports.

Redelivery: a point at or before the last point the series took is ignored, so a record
delivered twice changes nothing and raises nothing. Insight ids derive from the series and
the window's start, so rewriting an insight after a partial failure overwrites, never adds.
"""
from __future__ import annotations

import hashlib
from typing import Any, Mapping

from ..severity import Severity
from .detector import FLAT_SCORE, Detector
from .forecast import HOUR_MS, Forecast, Trend, bounded_limit, describe

#: points kept before a window opens, to draw what normal looked like
CONTEXT_POINTS = 12
#: points an insight carries at most (context + window); beyond it the newest replaces the last.
#: With values kept to 6 significant digits a tracker's whole state stays under ~4 KB.
MAX_POINTS = 90
#: each dismissal halves the series' distance from a score of 1 (see ``threshold_for``)
DISMISSAL_FACTOR = 0.5


def insight_id(starts_at: int, *parts: str) -> str:
    """Time-sortable (13-digit start first) and the same for the same window every time."""
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest()
    return f"{starts_at:013d}-{digest}"


def threshold_for(base: float, dismissals: int) -> float:
    """The series' threshold after ``dismissals`` net dismissals: 0.7 → 0.85 → 0.925 ...
    Confirming a dismissed insight takes its dismissal back, so the effect is reversible."""
    return 1.0 - (1.0 - base) * DISMISSAL_FACTOR ** max(0, dismissals)


def anomaly_severity(peak: float, flat: bool) -> Severity:
    if flat:
        return "HIGH"  # a stuck collector or a dead process
    if peak >= 0.995:   # z ≥ ~56 spreads
        return "CRITICAL"
    if peak >= 0.97:    # z ≥ ~23
        return "HIGH"
    return "MEDIUM" if peak >= 0.9 else "LOW"


def prediction_severity(hours: float) -> Severity:
    if hours <= 6:
        return "CRITICAL"
    if hours <= 24:
        return "HIGH"
    return "MEDIUM" if hours <= 72 else "LOW"


class SeriesTracker:
    """Insights of one (host, kind, metric). ``add`` points in time order, then ``finish``:
    the insights opened, updated or closed by the batch, as stored items' fields."""

    def __init__(self, host: str, kind: str, metric: str, state: Mapping[str, Any] | None = None,
                 dismissals: int = 0, close_after_ms: int = 300_000,
                 limit: float | None = None, horizon_ms: int = 168 * HOUR_MS):
        self.host, self.kind, self.metric = host, kind, metric
        state = state or {}
        self.detector = Detector.from_state(state["d"]) if "d" in state else Detector()
        self.recent: list[list[float]] = [list(p) for p in state.get("r", [])]
        self.open: dict[str, Any] | None = state.get("o")
        # A bounded resource is forecast to full ("disk /var full in 6-9 h"), whatever rule
        # watches it; any other metric to its rule's threshold, if one has a rule.
        bound = bounded_limit(metric)
        self.limit = bound if bound is not None else limit
        self.horizon_ms = horizon_ms
        self.trend = (Trend.from_state(state["f"], horizon_ms=horizon_ms) if "f" in state
                      else Trend(horizon_ms=horizon_ms)) if self.limit is not None else None
        self.prediction: dict[str, Any] | None = state.get("p")
        self.threshold = threshold_for(self.detector.threshold, dismissals)
        self.close_after_ms = close_after_ms
        self.changed: dict[str, dict[str, Any]] = {}

    @property
    def last_ms(self) -> int | None:
        return self.detector.t

    def add(self, timestamp_ms: int, value: float) -> None:
        last = self.detector.t
        if last is not None and timestamp_ms <= last:
            return  # redelivered or late: already taken (or too late to judge fairly)
        score = self.detector.score(timestamp_ms, value)
        if self.trend is not None:
            self.trend.update(timestamp_ms, value)
        point = [timestamp_ms, float(f"{value:.6g}")]  # for drawing: 6 digits are plenty
        episode = self.open
        if score >= self.threshold:
            if episode is None:
                episode = self.open = self._open(timestamp_ms, value, score)
            else:
                episode["last"] = timestamp_ms
                episode["peak"] = max(episode["peak"], score)
                episode["flat"] = episode["flat"] or score == FLAT_SCORE
                _append(episode["points"], point)
                if score >= episode["peak"]:
                    episode["value"] = value
                self._touch(episode)
        elif episode is not None:
            _append(episode["points"], point)
            if timestamp_ms - episode["last"] >= self.close_after_ms:
                episode["endsAt"] = episode["last"]
                self._touch(episode)
                self.open = None
        self.recent.append(point)
        if len(self.recent) > CONTEXT_POINTS:
            del self.recent[0]

    def _open(self, ts: int, value: float, score: float) -> dict[str, Any]:
        direction = "up" if value >= self.detector.level else "down"
        episode = {"id": insight_id(ts, "anomaly", self.host, self.kind, self.metric), "startsAt": ts,
                   "last": ts, "peak": score, "value": value, "direction": direction,
                   "expected": self.detector.level, "flat": score == FLAT_SCORE,
                   "points": [*self.recent, [ts, value]], "endsAt": None}
        self._touch(episode)
        return episode

    def _touch(self, episode: dict[str, Any]) -> None:
        self.changed[episode["id"]] = episode

    def finish(self) -> list[dict[str, Any]]:
        """The insights this batch changed, as items (without storage keys), and the
        prediction's state after the batch's last point."""
        out = [self._anomaly_item(e) for e in self.changed.values()]
        self.changed = {}
        prediction = self._prediction()
        if prediction is not None:
            out.append(prediction)
        return out

    def _anomaly_item(self, e: dict[str, Any]) -> dict[str, Any]:
        severity = anomaly_severity(e["peak"], e["flat"])
        if e["flat"]:
            message = f"{self.metric} on {self.host} is stuck at {e['value']:g} (a stopped collector or process?)"
        else:
            verb = "rose to" if e["direction"] == "up" else "fell to"
            message = f"{self.metric} on {self.host} {verb} {e['value']:.4g} (expected about {e['expected']:.4g})"
        base = self.detector.threshold
        confidence = round(50 + 49 * max(0.0, e["peak"] - base) / (1 - base)) if base < 1 else 99
        return {"id": e["id"], "type": "anomaly", "severity": severity, "confidence": min(99, confidence),
                "message": message, "affectedHosts": [self.host], "host": self.host, "kind": self.kind,
                "metric": self.metric, "startsAt": e["startsAt"], "endsAt": e["endsAt"],
                "score": round(e["peak"], 4), "direction": e["direction"],
                "points": [list(p) for p in e["points"]]}

    def _prediction(self) -> dict[str, Any] | None:
        if self.trend is None or self.last_ms is None:
            return None
        forecast = self.trend.forecast(self.limit)
        current = self.prediction
        if forecast is None:
            if current is None:
                return None
            self.prediction = None  # withdrawn: the trend went away
            return {**current, "endsAt": self.last_ms, "withdrawn": True, "points": list(self.recent)}
        if current is not None and not _moved(current["forecast"], forecast):
            return None
        hours = (forecast.eta_ms - forecast.at_ms) / HOUR_MS
        starts = current["startsAt"] if current else forecast.at_ms
        item = {"id": current["id"] if current else insight_id(starts, "prediction", self.host, self.kind, self.metric),
                "type": "prediction", "severity": prediction_severity(hours),
                "confidence": round(100 * forecast.r2), "message": describe(self.metric, self.host, forecast),
                "affectedHosts": [self.host], "host": self.host, "kind": self.kind, "metric": self.metric,
                "startsAt": starts, "endsAt": None, "score": round(forecast.r2, 4),
                "forecast": {"limit": forecast.limit, "etaMs": forecast.eta_ms,
                             "earliestMs": forecast.earliest_ms, "latestMs": forecast.latest_ms,
                             "slopePerHour": forecast.slope_per_hour, "current": forecast.current,
                             "atMs": forecast.at_ms},
                "points": list(self.recent)}
        self.prediction = {k: v for k, v in item.items() if k != "points"}
        return item

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"d": self.detector.state(), "r": self.recent}
        if self.open is not None:
            state["o"] = self.open
        if self.trend is not None:
            state["f"] = self.trend.state()
        if self.prediction is not None:
            state["p"] = self.prediction
        return state


def _append(points: list, point: list) -> None:
    if len(points) >= MAX_POINTS:
        points[-1] = point
    else:
        points.append(point)


def _moved(previous: Mapping[str, Any], forecast: Forecast) -> bool:
    """Rewrite a prediction only when its time to the limit moved by more than 10 %."""
    before = previous["etaMs"] - previous["atMs"]
    now = forecast.eta_ms - forecast.at_ms
    return abs(now - before) > 0.1 * max(before, 1)

