"""Telling the team: new and changed incidents go to the alerts feature's channels (Slack,
webhooks, email) through its outbox and topic, with a link to the incident's page."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from ..field_types import now_ms

logger = logging.getLogger("mission_control.incidents")

#: what is worth a message: an incident opening, reopening, resolving, closing, or escalating
TOLD_STATUSES = frozenset({"open", "resolved", "closed"})


def tell_channels(incident: Mapping[str, Any], what: str, now: int) -> None:
    """``what``: "opened", "reopened", "resolved", "closed", "escalated". Never raises: an
    incident is written whether or not the message goes out (the outbox retries it)."""
    from .. import alerts  # the alerts feature's public function, not its models
    status = "resolved" if what in ("resolved", "closed") else "firing"
    item = {"id": incident["id"], "message": f"Incident {what}: {incident['title']} [{incident['status']}]",
            "labels": {"service": incident["service"]}, "startsAt": incident["createdAt"],
            "endsAt": incident.get("resolvedAt"), "link": f"#/incidents?id={incident['id']}",
            "severity": incident["severity"]}
    try:
        alerts.notify_channels(f"i{incident['id']}-v{incident['version']}", name=f"Incident: {incident['title']}"[:120],
                               severity=incident["severity"], category="incident", status=status,
                               items=[item], now=now)
    except Exception:  # noqa: BLE001 - telling is best effort here; the outbox keeps what it took
        logger.exception("could not tell the channels about incident %s", incident["id"])


def what_changed(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> str | None:
    """The change worth telling, or None."""
    if before is None:
        # An alert's incident: the alert's own notification has just told the same channels.
        return None if after.get("source") == "alert" else "opened"
    if before["status"] != after["status"] and after["status"] in TOLD_STATUSES:
        return {"open": "reopened", "resolved": "resolved", "closed": "closed"}[after["status"]]
    from ..severity import rank
    if rank(after["severity"]) > rank(before["severity"]):
        return "escalated"
    return None


def on_write(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> None:
    """The repository's ``after_write``: tell the channels when the change is worth it."""
    what = what_changed(before, after)
    if what is not None:  # (not the incident's times: an alarm's may be old; the outbox keeps from now)
        tell_channels(after, what, now_ms())
