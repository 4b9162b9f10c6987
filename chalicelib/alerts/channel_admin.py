"""Notification channels, as admins manage them (``/api/channels``). Secrets are write-only:
a Slack webhook URL (the URL is the credential) and a webhook's signing secret are stored and
used, never returned and never logged; a channel shows where it sends (the host) instead."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..errors import Conflict, InvalidInput
from ..storage import VersionConflict
from .delivery import Deliverer
from .fanout import log_entry
from .messages import email_text, subject
from .models import SECRET_FIELDS, Channel, EmailChannel, parse_channel
from .outbound import RefusedAddress, check_url, public_addresses
from .repository import AlertsRepository, existing, new_id
from .topic import Topic


def channel_view(item: dict[str, Any]) -> dict[str, Any]:
    view = {"id": item["id"], "name": item["name"], "type": item["type"],
            "muteWindows": item.get("muteWindows", []), "createdAt": item["createdAt"],
            "updatedAt": item["updatedAt"]}
    if item["type"] == "email":
        view["address"] = item["address"]
        # On AWS the address confirms the topic's subscription from AWS's own email first.
        view["subscribed"] = bool(item.get("subscription"))
    else:
        parts = urlsplit(item["url"])
        view["target"] = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    if item["type"] == "webhook":
        view["secretSet"] = bool(item.get("secret"))
    return view


def list_channels(repo: AlertsRepository) -> dict[str, Any]:
    items = sorted(repo.channels(), key=lambda i: (i["name"].lower(), i["id"]))
    return {"channels": [channel_view(i) for i in items]}


def get_channel(repo: AlertsRepository, channel_id: str) -> dict[str, Any]:
    return channel_view(existing(repo.channel(channel_id), f"channel {channel_id}"))


def _check_url(channel: Channel, allow_private: bool) -> None:
    url = getattr(channel, "url", None)
    if url is None:
        return
    try:
        check_url(url, allow_private)
        if not allow_private:
            # Early feedback; the address is checked again on every send (DNS may change).
            parts = urlsplit(url)
            public_addresses(parts.hostname or "", parts.port or 443)
    except RefusedAddress as exc:
        raise InvalidInput("this URL cannot receive notifications", [
            {"field": "url", "message": str(exc)}]) from None


def _stored(channel: Channel, base: dict[str, Any]) -> dict[str, Any]:
    item = {**base, **channel.model_dump(mode="json", exclude_none=True)}
    return item


def create_channel(repo: AlertsRepository, topic: Topic, body: Any, allow_private: bool,
                   now: int) -> dict[str, Any]:
    channel = parse_channel(body, creating=True)
    _check_url(channel, allow_private)
    channel_id = new_id(now)
    item = _stored(channel, {"id": channel_id, "createdAt": now, "updatedAt": now})
    if isinstance(channel, EmailChannel):
        item["subscription"] = topic.subscribe_email(channel.address, channel_id)
    return channel_view(repo.save_channel(item, None))


def replace_channel(repo: AlertsRepository, topic: Topic, channel_id: str, body: Any,
                    allow_private: bool, now: int) -> dict[str, Any]:
    stored = existing(repo.channel(channel_id), f"channel {channel_id}")
    channel = parse_channel(body, creating=False)
    if channel.type != stored["type"]:
        raise InvalidInput("a channel keeps its type; create another channel instead", [
            {"field": "type", "message": f"this channel is {stored['type']}"}])
    _check_url(channel, allow_private)
    item = _stored(channel, {"id": channel_id, "createdAt": stored["createdAt"], "updatedAt": now})
    for secret in SECRET_FIELDS[channel.type]:  # left out: kept
        if getattr(channel, secret) is None:
            item[secret] = stored[secret]
    if isinstance(channel, EmailChannel):
        if channel.address != stored["address"]:
            topic.unsubscribe(stored.get("subscription") or "")
            item["subscription"] = topic.subscribe_email(channel.address, channel_id)
        else:
            item["subscription"] = stored.get("subscription")
    try:
        return channel_view(repo.save_channel(item, stored["version"]))
    except VersionConflict:
        raise Conflict("the channel was changed by someone else meanwhile; try again") from None


def delete_channel(repo: AlertsRepository, topic: Topic, channel_id: str) -> None:
    stored = existing(repo.channel(channel_id), f"channel {channel_id}")
    using = [r["rule"]["name"] for r in repo.rules() if channel_id in (r["rule"].get("channels") or [])]
    if using:
        raise Conflict("rules send to this channel; change them first", [
            {"field": "channels", "message": f"used by {', '.join(sorted(using))}"}])
    if stored["type"] == "email" and stored.get("subscription"):
        topic.unsubscribe(stored["subscription"])
    repo.delete_channel(channel_id)


def test_notification(channel_id: str, now: int, dashboard_url: str) -> dict[str, Any]:
    return {"type": "mission-control.alerts", "version": 1, "status": "test",
            "notificationId": f"test-{new_id(now)}",
            "rule": {"id": None, "name": "Test message", "severity": "LOW", "category": "system",
                     "runbookUrl": None},
            "channels": [channel_id], "firing": [], "resolved": [], "more": {"firing": 0, "resolved": 0},
            "dashboardUrl": dashboard_url or None, "createdAt": now}


def test_channel(repo: AlertsRepository, topic: Topic, deliverer: Deliverer, channel_id: str,
                 dashboard_url: str, now: int) -> tuple[int, dict[str, Any]]:
    """Slack and webhooks: sent at once, one attempt, the outcome answered and logged. Email:
    published to the topic for this channel's subscription (it arrives as alerts do)."""
    stored = existing(repo.channel(channel_id), f"channel {channel_id}")
    notification = test_notification(channel_id, now, dashboard_url)
    if stored["type"] == "email":
        message_id = topic.publish(subject(notification), notification, email_text(notification),
                                   [channel_id])
        return 202, {"status": "published", "messageId": message_id,
                     "detail": "sent to the topic; it reaches the address through its subscription"}
    outcome = deliverer.deliver(stored, notification)
    repo.log(log_entry(notification, stored, outcome, now))
    return 200, {"status": outcome.status, "attempts": outcome.attempts,
                 "httpStatus": outcome.http_status, "error": outcome.error,
                 "durationMs": outcome.duration_ms}
