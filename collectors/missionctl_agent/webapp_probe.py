"""Checks one watched web app per interval into a "webapp" sample.

A check is one GET of the watched URL on a new connection (what a new
visitor pays: DNS, connect, TLS), following redirects, with a timeout. It
yields:

- http.response_time_ms: GET sent -> whole body received, milliseconds;
  absent when there was no response;
- http.status: final status code, 0 when there was no response;
- http.error_rate: percent of failed checks (no response, or status >= 400)
  in the last ERROR_RATE_WINDOW_S seconds, this check included.

If the app serves its own counters (`--app-metrics-url`), they are fetched
after the check as a JSON object, e.g.
{"activeUsers": 12, "requestsPerSecond": 3.2, "trafficSources": {"direct": 10}},
and become app.active_users, app.requests_per_s and app.traffic.<source>.
See docs/metrics.md for the exact rules.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from missionctl_agent import __version__
from missionctl_agent.failure_episode import FailureEpisode
from missionctl_agent.metric_names import fit_name, name_segment
from missionctl_agent.samples import make_sample, now_ms

log = logging.getLogger(__name__)

ERROR_RATE_WINDOW_S = 300.0
MAX_TRAFFIC_SOURCES = 50
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class WatchTarget:
    """A web app to watch: `name` becomes the sample's host."""

    name: str
    url: str
    metrics_url: str | None = None


def default_name(url: str) -> str:
    """The URL's host:port (port from the scheme when not written), the
    sample host of a watch that was given no name."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{parts.port or _DEFAULT_PORTS[parts.scheme]}"


def without_credentials(url: str) -> str:
    """`url` without any user:password@ part, for log lines."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


def _number(value: Any) -> float | None:
    """A finite, non-negative number, or None (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _field(doc: Mapping[str, Any], camel: str, snake: str) -> Any:
    return doc[camel] if camel in doc else doc.get(snake)


def parse_app_metrics(doc: Any) -> dict[str, float]:
    """The app.* values in an app metrics document (see module docstring).
    Unknown fields and unusable values are ignored; never raises on bad input."""
    if not isinstance(doc, Mapping):
        return {}
    values: dict[str, float] = {}
    active = _number(_field(doc, "activeUsers", "active_users"))
    if active is not None:
        values["app.active_users"] = active
    rps = _number(_field(doc, "requestsPerSecond", "requests_per_second"))
    if rps is not None:
        values["app.requests_per_s"] = rps
    sources = _field(doc, "trafficSources", "traffic_sources")
    if isinstance(sources, Mapping):
        taken = 0
        for source, count in sources.items():
            if taken == MAX_TRAFFIC_SOURCES:
                break
            segment = name_segment(str(source))
            number = _number(count)
            if not segment or number is None:
                continue
            name = fit_name("app.traffic.", segment)
            if name not in values:
                values[name] = number
                taken += 1
    return values


class ErrorRateWindow:
    """Share of failed checks over a sliding time window (monotonic seconds)."""

    def __init__(self, window_s: float = ERROR_RATE_WINDOW_S, monotonic: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self._monotonic = monotonic
        self._checks: deque[tuple[float, bool]] = deque()

    def record(self, ok: bool) -> float:
        """Add a check; returns the failed percent (0..100) in the window."""
        now = self._monotonic()
        self._checks.append((now, ok))
        while self._checks and self._checks[0][0] <= now - self.window_s:
            self._checks.popleft()
        failed = sum(1 for _, was_ok in self._checks if not was_ok)
        return 100.0 * failed / len(self._checks)


class WebAppProbe:
    """Checks one WatchTarget; call check() once per interval."""

    def __init__(
        self,
        target: WatchTarget,
        timeout_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = now_ms,
    ) -> None:
        self.target = target
        self._timeout_s = timeout_s
        self._wall_ms = wall_ms
        self._errors = ErrorRateWindow(monotonic=monotonic)
        self._down = FailureEpisode(log)
        self._metrics_missing = FailureEpisode(log)
        self._headers = {"user-agent": f"missionctl-agent/{__version__}"}
        self._shown_url = without_credentials(target.url)

    def check(self) -> dict[str, Any]:
        """One webapp sample for the target, stamped with the check's start."""
        timestamp = self._wall_ms()
        values: dict[str, float] = {}
        started = time.perf_counter()
        try:
            # requests.get opens a new session, hence a new connection, each time.
            response = requests.get(self.target.url, timeout=self._timeout_s, headers=self._headers)
        except requests.RequestException as exc:
            values["http.status"] = 0.0
            ok = False
            self._down.failed("%s (%s) check failed: %s: %s", self.target.name, self._shown_url,
                              type(exc).__name__, exc)
        else:
            values["http.response_time_ms"] = (time.perf_counter() - started) * 1000.0
            values["http.status"] = float(response.status_code)
            ok = response.status_code < 400
            if ok:
                self._down.recovered("%s (%s) answers again", self.target.name, self._shown_url)
            else:
                self._down.failed("%s (%s) check failed: HTTP %d", self.target.name, self._shown_url,
                                  response.status_code)
        values["http.error_rate"] = self._errors.record(ok)
        if self.target.metrics_url:
            values.update(self._app_metrics())
        return make_sample(self.target.name, "webapp", timestamp, values)

    def _app_metrics(self) -> dict[str, float]:
        url = self.target.metrics_url
        assert url is not None
        try:
            response = requests.get(url, timeout=self._timeout_s, headers=self._headers)
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            doc = response.json()
            if not isinstance(doc, Mapping):
                raise ValueError("not a JSON object")
        except (requests.RequestException, ValueError) as exc:
            self._metrics_missing.failed("app metrics of %s unavailable (%s): %s", self.target.name,
                                         without_credentials(url), exc)
            return {}
        self._metrics_missing.recovered("app metrics of %s available again", self.target.name)
        return parse_app_metrics(doc)
