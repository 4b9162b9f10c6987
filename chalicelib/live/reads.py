"""The body each topic's REST read answers with no query parameters, through the owning
feature's public read functions; a notice carries its ETag (``web.etag_of``, the one
``json_response`` sends), so a client already holding that body skips the refetch.

A topic whose read is not here (``ci``: ``/api/repos`` is shaped by each user's pinned
repositories, so there is no one body to tag) gets a notice without an ETag, which a client
treats as "refetch".
"""
from __future__ import annotations

from typing import Any, Callable

from ..field_types import now_ms as clock_ms
from ..web import etag_of


def _kpis(now_ms: int, arg: str) -> Any:
    from .. import business
    from ..business import queries
    return queries.kpis(business.repository(), business.policy(), None, now_ms)


def _hosts(now_ms: int, arg: str) -> Any:
    from .. import metrics
    from ..config import settings
    from ..metrics import queries
    return queries.hosts(metrics.repository(), now_ms, settings().team_timezone)


def _alerts(now_ms: int, arg: str) -> Any:
    from .. import alerts
    from ..alerts import alert_views
    return alert_views.list_alerts(alerts.repository(), {}, now_ms)


def _insights(now_ms: int, arg: str) -> Any:
    from .. import insights
    from ..insights.feed import list_insights
    return list_insights(insights.repository(), {})


def _notifications(now_ms: int, arg: str) -> Any:
    from .. import alerts
    from ..alerts import alert_views
    return alert_views.notification_log(alerts.repository(), {})


def _incidents(now_ms: int, arg: str) -> Any:
    from .. import incidents
    from ..incidents import workflow
    return workflow.list_incidents(incidents.repository(), {})


#: topic (its base name) → the body of its default read at ``now_ms``
READS: dict[str, Callable[[int, str], Any]] = {
    "kpis": _kpis, "hosts": _hosts, "alerts": _alerts, "insights": _insights,
    "notifications": _notifications, "incidents": _incidents,
}


def etag_of_topic(topic: str, now_ms: int | None = None) -> str | None:
    base, _sep, arg = topic.partition(":")
    read = READS.get(base)
    if read is None:
        return None
    return etag_of(read(now_ms if now_ms is not None else clock_ms(), arg))
