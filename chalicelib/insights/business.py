"""Business series for the detector: orders, revenue and conversion as hourly rates, one point
per closed 5-minute step, from the business feature's minute roll-ups. Pure: no I/O, no clock.

A step without any roll-up is 0 orders and 0 revenue (a shop that stopped selling is the
anomaly to see), but has no conversion (no sessions: nothing to divide). Rates are per hour
so that the message reads as people think of sales ("orders_per_hour fell to 0").
"""
from __future__ import annotations

from typing import Mapping

STEP_MS = 300_000
MINUTE_MS = 60_000
#: the first run (no state yet) reads this far back, so the detector is warm at once
BACKFILL_MS = 6 * 3_600_000
HOST = KIND = "business"


def closed_steps(last_scored_ms: int | None, now_ms: int) -> tuple[int, int] | None:
    """[first, last] start of the 5-minute steps closed since the last scored one, or None."""
    last_closed = now_ms - now_ms % STEP_MS - STEP_MS
    first = (last_scored_ms + 1 if last_scored_ms is not None else now_ms - BACKFILL_MS)
    first = first + (-first % STEP_MS)
    return (first, last_closed) if first <= last_closed else None


def business_points(minutes: Mapping[int, Mapping[str, float]], first_step: int,
                    last_step: int) -> list[tuple[int, dict[str, float]]]:
    """(step start, values) for each step in [first_step, last_step]; ``minutes`` maps a minute
    bucket's start to its counters (``orders``, ``revenue`` in minor units, ``sessions``)."""
    per_hour = 3_600_000 / STEP_MS
    out = []
    for step in range(first_step, last_step + 1, STEP_MS):
        orders = revenue = sessions = 0.0
        for minute in range(step, step + STEP_MS, MINUTE_MS):
            counters = minutes.get(minute, {})
            orders += counters.get("orders", 0)
            revenue += counters.get("revenue", 0)
            sessions += counters.get("sessions", 0)
        values = {"business.orders_per_hour": orders * per_hour,
                  "business.revenue_minor_per_hour": revenue * per_hour}
        if sessions > 0:
            values["business.conversion"] = round(orders / sessions, 6)
        out.append((step, values))
    return out
