"""Topics a connection subscribes to, who may read each, and which stored changes touch which
topic. Pure: no Chalice, no storage, no boto3.

A topic's role is the role its REST read declares (``access.role`` next to the route named in
``path``): a notice is pushed only to connections whose role may make that read, so no push
tells a user about data they could not fetch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping

from ..auth.roles import Role


@dataclass(frozen=True)
class Topic:
    name: str
    #: the REST read a client refetches on a notice; its ETag is the notice's
    path: str
    #: the least role that may read it (the route's ``access.role``)
    role: Role


TOPICS: dict[str, Topic] = {t.name: t for t in (
    Topic("kpis", "/api/kpis", Role.VIEWER),
    Topic("hosts", "/api/hosts", Role.VIEWER),
    Topic("host", "/api/metrics", Role.VIEWER),  # host:<name>; the read is /api/metrics?host=<name>
    Topic("alerts", "/api/alerts", Role.VIEWER),
    Topic("incidents", "/api/incidents", Role.VIEWER),
    Topic("insights", "/api/insights", Role.VIEWER),
    Topic("ci", "/api/repos", Role.VIEWER),
    Topic("notifications", "/api/notifications", Role.ADMIN),  # the delivery log: admins only
)}

#: a host's name as the metrics feature accepts it (chalicelib/metrics/models.py: HOST_NAME)
HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")


class UnknownTopic(ValueError):
    pass


def topic_of(name: str) -> Topic:
    """The topic ``name`` (``host:<name>`` is the ``host`` topic of one host)."""
    base, sep, arg = name.partition(":")
    topic = TOPICS.get(base)
    if topic is None or (base == "host") != bool(sep) or (sep and not HOST_NAME.match(arg)):
        raise UnknownTopic(name)
    return topic


def readable(name: str, role: Role | None) -> bool:
    """Whether a user with ``role`` may receive notices of topic ``name``."""
    try:
        return role is not None and role >= topic_of(name).role
    except UnknownTopic:
        return False


# -- stored changes → topics -------------------------------------------------------------------
#: (keys, new image or None, old image or None) → the topics the change touches
TopicsOf = Callable[[Mapping[str, str], Mapping | None, Mapping | None], set[str]]


def _always(*names: str) -> TopicsOf:
    return lambda keys, new, old: set(names)


def _metrics(keys: Mapping[str, str], new: Mapping | None, old: Mapping | None) -> set[str]:
    pk = keys.get("pk", "")
    if pk.startswith("raw#"):  # a new sample: the host list's last-seen and that host's charts
        host = pk[len("raw#"):]
        return {"hosts", f"host:{host}"} if HOST_NAME.match(host) else {"hosts"}
    return set()  # roll-ups and the registry follow the samples that made them


def _alerts(keys: Mapping[str, str], new: Mapping | None, old: Mapping | None) -> set[str]:
    # The alert items (and their open-per-series entries); rules, marks and the outbox are not
    # what /api/alerts shows.
    pk = keys.get("pk", "")
    return {"alerts"} if pk == "alert" or pk.startswith("open#") or pk == "silence" else set()


def _notifications(keys: Mapping[str, str], new: Mapping | None, old: Mapping | None) -> set[str]:
    return {"notifications"} if keys.get("pk") == "log" else set()


#: logical table (chalicelib/storage/tables.py, ``stream=True``) → the topics its changes
#: touch. A new streamed table is one line here.
TABLE_TOPICS: dict[str, TopicsOf] = {
    "events": _always("kpis"),
    "metrics": _metrics,
    "alerts": _alerts,
    "insights": _always("insights"),
    "notifications": _notifications,
    "incidents": _always("incidents"),
    "ci_runs": _always("ci"),  # runs, jobs and repositories' latest runs: what /api/repos shows
}


def topics_of_change(table: str, keys: Mapping[str, str], new: Mapping | None,
                     old: Mapping | None) -> set[str]:
    """The topics a change to ``table`` (logical name) touches; none for tables nobody pushes."""
    topics_of = TABLE_TOPICS.get(table)
    return topics_of(keys, new, old) if topics_of else set()
