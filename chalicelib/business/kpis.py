"""KPI arithmetic over roll-up totals. Pure: numbers in, numbers out.

Money is integer minor units; changes are percentages rounded to 2 places, ``None`` when the
previous value is 0 (a change from nothing has no percentage).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping


@dataclass(frozen=True)
class Totals:
    revenue: int = 0
    orders: int = 0
    sessions: int = 0

    @classmethod
    def of(cls, buckets: Iterable[Mapping[str, int]]) -> "Totals":
        revenue = orders = sessions = 0
        for counters in buckets:
            revenue += counters.get("revenue", 0)
            orders += counters.get("orders", 0)
            sessions += counters.get("sessions", 0)
        return cls(revenue, orders, sessions)

    @property
    def aov(self) -> int:
        """Average order value in minor units, rounded half up."""
        return (2 * self.revenue + self.orders) // (2 * self.orders) if self.orders else 0

    @property
    def conversion(self) -> float:
        """Orders per session, a fraction (0.031 is 3.1 %)."""
        return round(self.orders / self.sessions, 4) if self.sessions else 0.0


def revenue_until(hourly_revenue: Mapping[int, int], cutoff_ms: int, hour_ms: int = 3_600_000) -> int:
    """Revenue earned before ``cutoff_ms`` from hourly buckets (bucket start -> revenue): the
    whole of every hour that ended by then, and of the hour it falls in the share already
    elapsed (rounded), since hours are the finest roll-up kept for a week."""
    total = 0
    for start, revenue in hourly_revenue.items():
        if start + hour_ms <= cutoff_ms:
            total += revenue
        elif start < cutoff_ms:
            total += (revenue * (cutoff_ms - start) * 2 + hour_ms) // (2 * hour_ms)
    return total


def change_percent(value: float, previous: float) -> float | None:
    if not previous:
        return None
    return round((value - previous) / previous * 100, 2)


def compared(value: float, previous: float) -> dict[str, Any]:
    return {"value": value, "previous": previous, "change": change_percent(value, previous)}


def kpi_summary(current: Totals, previous: Totals) -> dict[str, Any]:
    return {
        "revenue": compared(current.revenue, previous.revenue),
        "orders": compared(current.orders, previous.orders),
        "aov": compared(current.aov, previous.aov),
        "conversion": compared(current.conversion, previous.conversion),
    }


def top_products(per_bucket: Mapping[tuple[int, str], Mapping[str, Any]], limit: int) -> list[dict]:
    """Products ranked by downloads (orders), then revenue, then id for a stable order."""
    totals: dict[str, dict[str, Any]] = {}
    for (_bucket, product), counters in per_bucket.items():
        row = totals.setdefault(product, {"productId": product, "productName": product,
                                          "downloads": 0, "revenue": 0})
        row["downloads"] += counters.get("orders", 0)
        row["revenue"] += counters.get("revenue", 0)
        if counters.get("name"):
            row["productName"] = counters["name"]
    ranked = sorted(totals.values(), key=lambda r: (-r["downloads"], -r["revenue"], r["productId"]))
    return ranked[:limit]


def feature_adoption(per_feature_users: Mapping[str, int], active_users: int) -> list[dict]:
    """Share of the active users who used each feature, largest first."""
    rows = [{"feature": f, "users": n,
             "share": round(n / active_users, 4) if active_users else 0.0}
            for f, n in per_feature_users.items() if n > 0]
    return sorted(rows, key=lambda r: (-r["users"], r["feature"]))
