"""The time a scheduled event stands for. EventBridge delivers at least once, and a
redelivered event carries the same ``time``: work keyed by it is done once however often the
event arrives."""
from __future__ import annotations

import time
from datetime import datetime


def event_minute(event) -> int:
    """Start (epoch ms) of the minute of a scheduled event's ``time``; now if it has none."""
    raw = getattr(event, "time", None)
    if raw is None and isinstance(event, dict):
        raw = event.get("time")
    try:
        ms = int(datetime.fromisoformat(str(raw).replace("Z", "+00:00")).timestamp() * 1000)
    except (TypeError, ValueError):
        ms = int(time.time() * 1000)
    return ms - ms % 60_000
