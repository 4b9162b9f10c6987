"""The SNS handler's work: one published notification, out to each channel it names.

- Slack and webhook channels get it over HTTP, each in its own thread with its own retries, so
  one failing or slow channel never delays the others.
- Email channels are the topic's own email subscriptions (SNS on AWS, the local topic's outbox
  here): they already have it; the log says so.
- SNS delivers at least once: each (notification, channel) is claimed before it is sent, so a
  redelivered message sends nothing twice (a claim whose invocation died is taken over).
- A message that is not ours (another publisher on the topic, a test event) is logged and
  ignored: never a crash, never a retry loop.
"""
from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

from .delivery import Deliverer, Outcome
from .messages import NOTIFICATION_TYPE
from .repository import AlertsRepository, new_id

logger = logging.getLogger("mission_control.alerts")

#: a claim older than this belonged to an invocation that died (the Lambda timeout is 30 s)
CLAIM_STALE_MS = 5 * 60_000


def parse_notification(message: str) -> dict[str, Any] | None:
    try:
        body = json.loads(message)
    except (TypeError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("type") != NOTIFICATION_TYPE or not isinstance(
            body.get("channels"), list) or not isinstance(body.get("notificationId"), str):
        return None
    return body


def log_entry(notification: Mapping[str, Any], channel: Mapping[str, Any], outcome: Outcome,
              now: int) -> dict[str, Any]:
    """What the notification log keeps: never a URL, a secret or an address's credentials."""
    rule = notification.get("rule") or {}
    return {"id": new_id(now), "at": now, "notificationId": notification["notificationId"],
            "status": outcome.status, "attempts": outcome.attempts, "httpStatus": outcome.http_status,
            "error": outcome.error, "durationMs": outcome.duration_ms,
            "channelId": channel["id"], "channelName": channel["name"], "channelType": channel["type"],
            "kind": notification.get("status"), "ruleId": rule.get("id"), "ruleName": rule.get("name"),
            "alerts": len(notification.get("firing", [])) + len(notification.get("resolved", []))}


def fan_out(repo: AlertsRepository, deliverer: Deliverer, message: str, message_id: str,
            now: int) -> dict[str, int]:
    notification = parse_notification(message)
    if notification is None:
        logger.info("SNS message %s is not a Mission Control notification; ignored", message_id)
        return {"ignored": 1}
    channels = repo.channels_by_id(notification["channels"])
    missing = [c for c in notification["channels"] if c not in channels]
    if missing:
        logger.info("notification %s: channels %s were removed since; skipped",
                    notification["notificationId"], ", ".join(missing))
    counts = {"delivered": 0, "failed": 0, "byTopic": 0, "alreadyDone": 0}
    http_channels = []
    for channel in channels.values():
        if not repo.claim_delivery(notification["notificationId"], channel["id"], now, CLAIM_STALE_MS):
            counts["alreadyDone"] += 1
            continue
        if channel["type"] == "email":
            # The topic emails its subscribers itself; the log records that it was handed over.
            repo.finish_delivery(notification["notificationId"], channel["id"], log_entry(
                notification, channel, Outcome("by-topic", 0), now))
            counts["byTopic"] += 1
        else:
            http_channels.append(channel)

    def send(channel: Mapping[str, Any]) -> Outcome:
        try:
            outcome = deliverer.deliver(channel, notification)
        except Exception as exc:  # noqa: BLE001 - one broken channel must not stop the others
            logger.exception("delivery to channel %s failed unexpectedly", channel["id"])
            outcome = Outcome("failed", 1, error=type(exc).__name__)
        repo.finish_delivery(notification["notificationId"], channel["id"],
                             log_entry(notification, channel, outcome, int(deliverer.clock() * 1000)))
        logger.info("notification %s to channel %s (%s): %s after %d attempt(s)",
                    notification["notificationId"], channel["id"], channel["type"], outcome.status,
                    outcome.attempts)
        return outcome

    if http_channels:
        with ThreadPoolExecutor(max_workers=len(http_channels)) as pool:
            for outcome in pool.map(send, http_channels):
                counts["delivered" if outcome.status == "delivered" else "failed"] += 1
    return counts

