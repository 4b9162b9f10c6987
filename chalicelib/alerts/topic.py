"""The notification topic: where evaluation publishes and where email channels subscribe.

On AWS it is the SNS topic (``ALERTS_TOPIC``): SNS invokes the app's ``@app.on_sns_message``
handler, which fans out to Slack and webhooks, and SNS itself emails the topic's email
subscribers (seed 000). On one machine it is the local worker's emulation
(``chalicelib.local.sns``): the same publish, delivered as SNS-shaped events to the same handler,
email written to ``.data/outbox/`` as ``.eml`` files.

Every message is published with SNS's per-protocol structure: the Lambda subscriber gets the
notification as JSON (``default``), email subscribers a text a person reads (``email``). A
``channels`` message attribute (String.Array) names the channels it is for; each email
subscription has a filter policy on it, so an email channel only gets what is meant for it.
"""
from __future__ import annotations

import json
import threading
from typing import Any, Protocol

from .settings import AlertSettings


class Topic(Protocol):
    def publish(self, subject: str, notification: dict[str, Any], email: str,
                channels: list[str]) -> str:
        """Publish one message; returns its message id."""

    def subscribe_email(self, address: str, channel_id: str) -> str:
        """Subscribe an address for the messages naming ``channel_id``; returns the
        subscription's ARN (on AWS "pending confirmation" until the person confirms)."""

    def unsubscribe(self, subscription: str) -> None: ...


def message_structure(notification: dict[str, Any], email: str) -> str:
    return json.dumps({"default": json.dumps(notification, separators=(",", ":")), "email": email})


def channel_filter(channel_id: str) -> dict[str, list[str]]:
    return {"channels": [channel_id]}


class SnsTopic:
    """The SNS topic, through boto3 (imported only here, on first use)."""

    def __init__(self, name: str, arn: str | None = None):
        self.name = name
        self._arn = arn
        self._client = None
        self._lock = threading.Lock()

    def _sns(self):
        with self._lock:
            if self._client is None:
                import boto3
                self._client = boto3.client("sns")
            return self._client

    @property
    def arn(self) -> str:
        if self._arn is None:
            import boto3
            # The topic is created by the stack, in the function's own account and region.
            account = boto3.client("sts").get_caller_identity()["Account"]
            region = self._sns().meta.region_name
            self._arn = f"arn:aws:sns:{region}:{account}:{self.name}"
        return self._arn

    def publish(self, subject: str, notification: dict[str, Any], email: str,
                channels: list[str]) -> str:
        reply = self._sns().publish(
            TopicArn=self.arn, Subject=subject, MessageStructure="json",
            Message=message_structure(notification, email),
            MessageAttributes={"channels": {"DataType": "String.Array",
                                            "StringValue": json.dumps(channels)}})
        return reply["MessageId"]

    def subscribe_email(self, address: str, channel_id: str) -> str:
        reply = self._sns().subscribe(
            TopicArn=self.arn, Protocol="email", Endpoint=address, ReturnSubscriptionArn=True,
            Attributes={"FilterPolicy": json.dumps(channel_filter(channel_id))})
        return reply["SubscriptionArn"]

    def unsubscribe(self, subscription: str) -> None:
        if subscription.startswith("arn:"):  # "pending confirmation" has nothing to remove yet
            self._sns().unsubscribe(SubscriptionArn=subscription)


def open_topic(settings: AlertSettings, store: Any) -> Topic:
    if settings.transport == "sns":
        return SnsTopic(settings.ALERTS_TOPIC, settings.ALERTS_TOPIC_ARN)
    from ..local.sns import LocalTopic  # the local worker's emulation of SNS
    return LocalTopic(store, settings.ALERTS_TOPIC)
