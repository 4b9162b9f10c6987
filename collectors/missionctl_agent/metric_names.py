"""Every metric name the agent can emit, and the rules names obey.

The list below is the code side of the contract; docs/metrics.md is the
human side (unit and meaning of each name). A test asserts the two agree, so
adding a metric means adding it in both places.

Names are dotted and lower case, match :data:`METRIC_NAME_RE` and are at most
:data:`MAX_METRIC_NAME_LENGTH` characters. Templates hold placeholders in
angle brackets for the parts that come from the machine or the app:

- ``<n>``: a CPU core index, 0-based;
- ``<mount>``: a mount point made into a name segment by :func:`mount_segment`;
- ``<source>``: a traffic source name made into a segment by :func:`name_segment`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

Kind = Literal["vm", "webapp"]

METRIC_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
MAX_METRIC_NAME_LENGTH = 128

VM_METRICS: tuple[str, ...] = (
    "cpu.percent",
    "cpu.core.<n>.percent",
    "cpu.freq_mhz",
    "load.1m",
    "load.5m",
    "load.15m",
    "mem.used_percent",
    "mem.used_bytes",
    "mem.available_bytes",
    "mem.total_bytes",
    "swap.used_percent",
    "swap.used_bytes",
    "swap.total_bytes",
    "disk.<mount>.used_percent",
    "disk.read_bytes_per_s",
    "disk.write_bytes_per_s",
    "disk.read_ops_per_s",
    "disk.write_ops_per_s",
    "net.rx_bytes_per_s",
    "net.tx_bytes_per_s",
    "net.rx_packets_per_s",
    "net.tx_packets_per_s",
    "net.rx_errors_per_s",
    "net.tx_errors_per_s",
    "net.rx_drops_per_s",
    "net.tx_drops_per_s",
    "system.uptime_s",
)

WEBAPP_METRICS: tuple[str, ...] = (
    "http.response_time_ms",
    "http.status",
    "http.error_rate",
    "app.active_users",
    "app.requests_per_s",
    "app.traffic.<source>",
)

METRICS_BY_KIND: dict[str, tuple[str, ...]] = {"vm": VM_METRICS, "webapp": WEBAPP_METRICS}

_PLACEHOLDER_PATTERNS = {"<n>": "[0-9]+", "<mount>": "[a-z0-9_]+", "<source>": "[a-z0-9_]+"}


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    for placeholder, segment in _PLACEHOLDER_PATTERNS.items():
        pattern = pattern.replace(re.escape(placeholder), segment)
    return re.compile(f"^{pattern}$")


_TEMPLATE_REGEXES = {
    kind: [(t, _template_regex(t)) for t in templates] for kind, templates in METRICS_BY_KIND.items()
}


def is_valid_metric_name(name: str) -> bool:
    """True when `name` obeys the naming rule (pattern and length)."""
    return len(name) <= MAX_METRIC_NAME_LENGTH and METRIC_NAME_RE.match(name) is not None


def template_of(name: str, kind: str) -> str | None:
    """The documented template that `name` is an instance of, or None."""
    for template, regex in _TEMPLATE_REGEXES.get(kind, ()):
        if regex.match(name):
            return template
    return None


def name_segment(text: str) -> str:
    """`text` as one name segment: lower case, runs of anything outside
    [a-z0-9] become one "_", no "_" at either end. May return "" (caller
    decides what an empty segment means)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def mount_segment(mountpoint: str) -> str:
    """Mount point as a name segment: "/" -> "root", "/var/lib" -> "var_lib",
    "C:\\" -> "c". Returns "" when nothing usable is left."""
    if mountpoint.strip() in ("/", "\\"):
        return "root"
    return name_segment(mountpoint)


def fit_name(prefix: str, segment: str, suffix: str = "") -> str:
    """prefix + segment + suffix, shortening `segment` so the whole name stays
    within MAX_METRIC_NAME_LENGTH. A shortened segment ends with 8 hex digits
    of its SHA-1 so that two long segments sharing a prefix stay distinct."""
    name = f"{prefix}{segment}{suffix}"
    if len(name) <= MAX_METRIC_NAME_LENGTH:
        return name
    digest = hashlib.sha1(segment.encode()).hexdigest()[:8]
    room = MAX_METRIC_NAME_LENGTH - len(prefix) - len(suffix) - len(digest) - 1
    return f"{prefix}{segment[:room].rstrip('_')}_{digest}{suffix}"
