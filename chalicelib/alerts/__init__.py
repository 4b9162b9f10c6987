"""Alerts and notifications (seeds 000, 002): rules evaluated every minute, alert states with
history, acknowledgements, silences and mute windows, and notifications through a topic to
Slack, webhooks and email.

The pure parts (rules, state machine, routing, mute windows, messages) import no storage and
no Chalice; the rest reaches storage through ``AlertsRepository`` and the other features through
their public read functions (``Sources``).
"""
from __future__ import annotations

from typing import Callable

from .. import config
from ..storage import default_store
from .delivery import Deliverer
from .repository import AlertsRepository
from .settings import alert_settings
from .sources import Sources
from .topic import Topic, open_topic


def repository() -> AlertsRepository:
    return AlertsRepository(default_store(), alert_settings().history_ms)


def topic() -> Topic:
    return open_topic(alert_settings(), default_store())


def outbound_allows_private() -> bool:
    """Loopback and private receivers are allowed in the dev stage only (SSRF)."""
    return config.settings().stage == "dev"


def deliverer(attempts: int | None = None) -> Deliverer:
    s = alert_settings()
    return Deliverer(attempts=attempts or s.NOTIFY_ATTEMPTS, backoff_s=s.NOTIFY_BACKOFF_S,
                     timeout_s=s.NOTIFY_TIMEOUT_S, allow_private=outbound_allows_private())


def metric_limits() -> Callable[[str, str], float | None]:
    """``(host, metric) -> threshold or None`` from the enabled metric rules, read once: what
    the insights feature's forecasts aim at besides a bounded resource's 100 %."""
    import time

    from .defaults import install_default_rules
    from .evaluation import stored_rules
    from .rules import threshold_for
    repo = repository()
    install_default_rules(repo, int(time.time() * 1000))  # a look at the rules, like any other
    rules = [rule for _id, rule in stored_rules(repo)]
    return lambda host, metric: threshold_for(rules, host, metric)


def sources(now: int) -> Sources:
    """What rules read, through the business, metrics, insights and system features' read
    functions."""
    from ..business import repository as business_repository
    from ..business.queries import kpi_totals
    from ..ci import health_series as ci_health_series
    from ..insights import insights_since, repository as insights_repository
    from ..metrics import repository as metrics_repository
    from ..metrics.queries import hosts
    from ..system.probes import ProbeLog
    from ..system.settings import health_settings
    s = config.settings()
    return Sources(
        now, s.team_timezone, s.reporting_currency,
        hosts=lambda at: hosts(metrics_repository(), at, s.team_timezone)["hosts"],
        kpis=lambda granularity, first, last: kpi_totals(business_repository(), granularity, first, last),
        probes=lambda: ProbeLog(default_store()).latest([t.name for t in health_settings().probes]),
        insights=lambda severity, since: insights_since(insights_repository(), severity, since),
        ci=lambda since, until: ci_health_series(since, until))


def notify_channels(notification_id: str, *, name: str, severity: str, category: str, status: str,
                    items: list[dict], now: int) -> bool:
    """Tell every channel about something another feature decided (an incident opened,
    changed, resolved), in the alerts' notification shape and through the same outbox and
    topic: ``items`` are ``{"id", "message", "labels", "startsAt", "endsAt", "link"}`` (``link``
    a dashboard path such as ``#/incidents/<id>``), ``status`` is ``firing`` or ``resolved``.
    Idempotent per ``notification_id``. Returns whether it was new; what cannot be published
    now stays in the outbox for the next evaluation run."""
    from .evaluation import publish_outbox
    from .messages import NOTIFICATION_TYPE
    repo = repository()
    channels = [c["id"] for c in repo.channels()]
    if not channels:
        return False
    listed = [{"severity": severity, "state": status, "value": None, "labels": {}, "endsAt": None, **item}
              for item in items]
    notification = {
        "type": NOTIFICATION_TYPE, "version": 1, "notificationId": notification_id, "status": status,
        "rule": {"id": category, "name": name, "severity": severity, "category": category, "runbookUrl": None},
        "channels": channels, "firing": listed if status == "firing" else [],
        "resolved": listed if status == "resolved" else [], "more": {"firing": 0, "resolved": 0},
        "dashboardUrl": alert_settings().DASHBOARD_URL or None, "createdAt": now}
    new = repo.add_to_outbox(notification_id, notification)
    publish_outbox(repo, topic())
    return new


def alerts_between(since_ms: int, until_ms: int, limit: int) -> list[dict]:
    """Alerts that started in ``[since_ms, until_ms]`` (as listed: state, severity, message,
    startsAt, endsAt), newest first, at most ``limit``; one key-range query."""
    from .repository import public_alert
    return [public_alert(i) for i in repository().alerts_started_between(since_ms, until_ms, limit)]
