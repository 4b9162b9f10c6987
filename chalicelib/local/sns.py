"""An honest local emulation of an SNS topic, for the local worker.

Publishing stores the message in the store (table ``system``, ``sns#<topic>``), so the API
process and the worker process share one queue. The worker then does what SNS does:

- it invokes the Lambda subscriber, the app's ``@app.on_sns_message`` handler, with the event
  Lambda receives from SNS (``Records[0].Sns`` with ``Message``, ``MessageId``, ``Subject``,
  ``TopicArn``, ``Timestamp``, ``MessageAttributes``; ``Message`` is the ``default`` variant of
  a ``MessageStructure=json`` publish), one message per invocation; a failing invocation is
  retried twice, as Lambda retries asynchronous invocations, then set aside as a dead letter;
- it delivers the ``email`` variant to each email subscription whose filter policy matches the
  message attributes, as an ``.eml`` file in the outbox directory (``OUTBOX_DIR``, default
  ``<data dir>/outbox``) that a mail program opens.
"""
from __future__ import annotations

import json
import logging
import os
import time
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Callable

from ..storage import Store

logger = logging.getLogger("mission_control.worker")

ACCOUNT, REGION = "000000000000", "local"
#: Lambda retries a failed asynchronous invocation twice
INVOCATIONS = 3


def topic_arn(topic: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic}"


def outbox_dir() -> Path:
    configured = os.environ.get("OUTBOX_DIR")
    if configured:
        return Path(configured)
    from ..config import auth_settings
    return Path(auth_settings().data_dir) / "outbox"


def filter_matches(policy: dict[str, list], attributes: dict[str, Any]) -> bool:
    """SNS filter policies' exact string matching on message attributes (String and
    String.Array), the part email subscriptions here use."""
    for name, allowed in policy.items():
        attribute = attributes.get(name)
        if attribute is None:
            return False
        raw = attribute.get("Value")
        values = json.loads(raw) if attribute.get("Type") == "String.Array" else [raw]
        if not any(v in allowed for v in values):
            return False
    return True


class LocalTopic:
    def __init__(self, store: Store, name: str):
        self.store = store
        self.name = name
        self.arn = topic_arn(name)

    # -- what the app calls (the SnsTopic interface) --------------------------------------------
    def publish(self, subject: str, notification: dict[str, Any], email: str,
                channels: list[str]) -> str:
        message_id = str(uuid.uuid4())
        now = int(time.time() * 1000)
        self.store.put("system", {
            "pk": f"sns#{self.name}", "sk": f"{now:013d}#{message_id}", "messageId": message_id,
            "subject": subject, "default": json.dumps(notification, separators=(",", ":")),
            "email": email, "publishedAt": now, "invocations": 0, "emailed": False,
            "attributes": {"channels": {"Type": "String.Array", "Value": json.dumps(channels)}}})
        return message_id

    def subscribe_email(self, address: str, channel_id: str) -> str:
        arn = f"{self.arn}:{uuid.uuid4()}"
        self.store.put("system", {"pk": f"sns-subscriptions#{self.name}", "sk": arn,
                                  "protocol": "email", "endpoint": address,
                                  "filterPolicy": {"channels": [channel_id]}})
        return arn

    def unsubscribe(self, subscription: str) -> None:
        self.store.delete("system", f"sns-subscriptions#{self.name}", subscription)

    # -- what the worker calls ------------------------------------------------------------------
    def pending(self, limit: int = 25) -> list[dict]:
        return self.store.query("system", f"sns#{self.name}", newest_first=False, limit=limit).items

    def deliver(self, handler: Callable[[dict, Any], Any], context_for: Callable[[], Any]) -> int:
        """Deliver what was published: email subscriptions first (once), then the Lambda
        subscriber. Returns the messages done with."""
        done = 0
        for message in self.pending():
            if not message["emailed"]:
                self._email(message)
                message = {**message, "emailed": True}
                self.store.put("system", message, if_absent=False)
            try:
                handler(self.event(message), context_for())
            except Exception:  # noqa: BLE001 - as Lambda: retried, then a dead letter
                invocations = message["invocations"] + 1
                if invocations < INVOCATIONS:
                    logger.exception("SNS handler failed on message %s; it will be retried",
                                     message["messageId"])
                    self.store.put("system", {**message, "invocations": invocations}, if_absent=False)
                    continue
                logger.exception("SNS handler failed %d times on message %s; set aside",
                                 invocations, message["messageId"])
                from ..system.deadletters import set_aside
                set_aside(self.store, f"sns-{self.name}", "handler failed 3 times",
                          message["default"], message["messageId"])
            self.store.delete("system", message["pk"], message["sk"])
            done += 1
        return done

    def event(self, message: dict) -> dict:
        """The event Lambda receives from SNS for one message."""
        when = datetime.fromtimestamp(message["publishedAt"] / 1000, timezone.utc)
        return {"Records": [{
            "EventSource": "aws:sns", "EventVersion": "1.0",
            "EventSubscriptionArn": f"{self.arn}:{uuid.uuid5(uuid.NAMESPACE_URL, self.arn)}",
            "Sns": {
                "Type": "Notification", "MessageId": message["messageId"], "TopicArn": self.arn,
                "Subject": message["subject"], "Message": message["default"],
                "Timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
                "SignatureVersion": "1", "Signature": "LOCAL", "SigningCertUrl": "",
                "UnsubscribeUrl": "", "MessageAttributes": message["attributes"]}}]}

    def _email(self, message: dict) -> None:
        subscriptions = self.store.query("system", f"sns-subscriptions#{self.name}",
                                         newest_first=False, limit=500).items
        directory = outbox_dir()
        for n, sub in enumerate(s for s in subscriptions
                                if filter_matches(s["filterPolicy"], message["attributes"])):
            directory.mkdir(parents=True, exist_ok=True)
            email = EmailMessage()
            email["From"] = "AWS Notifications <no-reply@sns.amazonaws.com>"  # as SNS sends it
            email["To"] = sub["endpoint"]
            email["Subject"] = message["subject"]
            email["Date"] = format_datetime(datetime.fromtimestamp(message["publishedAt"] / 1000, timezone.utc))
            email["Message-ID"] = make_msgid(idstring=message["messageId"], domain="sns.local")
            email.set_content(message["email"] + "\n--\nSent by the local emulation of SNS topic "
                              f"{self.arn} (subscription {sub['sk']}).\n", cte="8bit")
            name = f"{message['publishedAt']}-{message['messageId']}-{n}.eml"
            temporary = directory / f".{name}.tmp"
            temporary.write_bytes(bytes(email))
            temporary.replace(directory / name)  # whole files only, for whoever watches the folder
