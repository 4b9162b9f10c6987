"""Revenue impact of an incident, pure: the hours it spans against the same hours of the
previous week, from the business roll-ups. An hour whose comparison hour had fewer orders than
the minimum volume claims nothing (a quiet hour cannot show a loss), and is listed as such.

Money is integer minor units; hours are bucket starts (epoch ms).
"""
from __future__ import annotations

from typing import Mapping

HOUR_MS = 3_600_000
WEEK_MS = 7 * 24 * HOUR_MS
#: an incident's impact covers at most this many hours (from its start)
MAX_HOURS = 72


def impact_hours(created_at: int, ended_at: int, hour_start) -> list[int]:
    """The hour buckets from the incident's start to its end (or now), at most ``MAX_HOURS``.
    ``hour_start(ms)``: the team time zone's hour bucket of a time."""
    first, last = hour_start(created_at), hour_start(max(created_at, ended_at))
    hours, at = [], first
    while at <= last and len(hours) < MAX_HOURS:
        hours.append(at)
        at = hour_start(at + HOUR_MS + 60_000)  # (+1 min: a DST hour never repeats a bucket)
    return hours


def revenue_impact(hours: list[int], now: Mapping[int, Mapping[str, int]], week_before: Mapping[int, Mapping[str, int]],
                   min_orders: int, currency: str) -> dict:
    """Per hour and in total: revenue and orders against the same hour a week before.
    ``week_before`` is keyed by the earlier hour (``hour - WEEK_MS``). Only hours whose earlier
    hour had at least ``min_orders`` orders count towards the totals."""
    rows, counted = [], {"revenue": 0, "orders": 0, "revenueBefore": 0, "ordersBefore": 0}
    for hour in hours:
        current = now.get(hour, {})
        before = week_before.get(hour - WEEK_MS, {})
        enough = before.get("orders", 0) >= min_orders
        row = {"hour": hour, "revenue": current.get("revenue", 0), "orders": current.get("orders", 0),
               "revenueBefore": before.get("revenue", 0), "ordersBefore": before.get("orders", 0),
               "counted": enough}
        rows.append(row)
        if enough:
            for key in counted:
                counted[key] += row[key]
    delta = counted["revenue"] - counted["revenueBefore"]
    percent = round(100 * delta / counted["revenueBefore"], 2) if counted["revenueBefore"] else None
    return {"currency": currency, "minOrders": min_orders, "hours": rows,
            "countedHours": sum(1 for r in rows if r["counted"]),
            "revenue": counted["revenue"], "revenueBefore": counted["revenueBefore"],
            "orders": counted["orders"], "ordersBefore": counted["ordersBefore"],
            "revenueDelta": delta, "revenueDeltaPercent": percent,
            "enoughVolume": any(r["counted"] for r in rows)}
