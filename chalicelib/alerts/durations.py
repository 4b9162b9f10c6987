"""Durations as people write them in rules: ``0s``, ``90s``, ``5m``, ``1h30m``, ``24h``, ``1d``."""
from __future__ import annotations

import re

UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PART = re.compile(r"(\d{1,6})(ms|s|m|h|d)")


def parse_duration_ms(text: str) -> int:
    """``ValueError`` (whose message a client reads) unless ``text`` is one or more
    ``<number><unit>`` parts, units ms, s, m, h, d, largest first."""
    if not isinstance(text, str) or not text:
        raise ValueError("must be a duration such as 30s, 5m, 1h or 1h30m")
    total, pos, last_unit = 0, 0, None
    order = list(UNIT_MS)[::-1]  # d, h, m, s, ms
    while pos < len(text):
        match = _PART.match(text, pos)
        if not match:
            raise ValueError(f"{text!r} is not a duration such as 30s, 5m, 1h or 1h30m")
        unit = match.group(2)
        if last_unit is not None and order.index(unit) <= order.index(last_unit):
            raise ValueError(f"{text!r}: write the largest unit first, each unit once")
        total += int(match.group(1)) * UNIT_MS[unit]
        pos, last_unit = match.end(), unit
    return total


def format_duration(ms: int) -> str:
    """The shortest spelling in hours at most: 300000 -> "5m", 5400000 -> "1h30m", 0 -> "0s",
    86400000 -> "24h" (a "1d" window means the last complete local day, not 24 hours)."""
    if ms == 0:
        return "0s"
    parts = []
    for unit in ("h", "m", "s", "ms"):
        size = UNIT_MS[unit]
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(parts)
