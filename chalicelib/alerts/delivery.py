"""Sending one notification to one Slack or webhook channel: bounded retries with back-off,
each attempt bounded by a timeout, the outcome returned for the notification log.

Webhook bodies are signed so a receiver can tell they are ours and fresh::

    X-MissionControl-Timestamp: <epoch seconds>
    X-MissionControl-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
    X-MissionControl-Delivery: <notification id>   (the same on a retry: deduplicate on it)

A receiver recomputes the HMAC over the timestamp and the raw body, compares in constant time,
and refuses a timestamp more than a few minutes old (a replayed request).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .messages import slack_payload
from .outbound import RefusedAddress, check_url, outbound_session, refused

if TYPE_CHECKING:
    import requests

#: statuses worth another attempt: the receiver is busy or failing, not refusing the message
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}
MAX_RETRY_AFTER_S = 10.0
USER_AGENT = "MissionControl-Alerts/1"


@dataclass
class Outcome:
    status: str  # delivered | failed | by-topic (email: the topic's subscription sends it)
    attempts: int
    http_status: int | None = None
    error: str | None = None
    duration_ms: int = 0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, given: str, now_s: int,
                     tolerance_s: int = 300) -> bool:
    """What a receiver does (and what the tests do as one): constant-time comparison, and a
    timestamp within ``tolerance_s`` of now."""
    if not timestamp.isdigit() or abs(now_s - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), given)


class Deliverer:
    def __init__(self, *, attempts: int, backoff_s: float, timeout_s: float, allow_private: bool,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time):
        self.attempts, self.backoff_s, self.timeout_s = attempts, backoff_s, timeout_s
        self.allow_private = allow_private
        self.sleep, self.clock = sleep, clock

    def request_for(self, channel: Mapping[str, Any], notification: Mapping[str, Any]) -> tuple[bytes, dict]:
        if channel["type"] == "slack":
            body = json.dumps(slack_payload(notification)).encode()
            return body, {"Content-Type": "application/json"}
        body = json.dumps(notification, separators=(",", ":"), sort_keys=True).encode()
        return body, {"Content-Type": "application/json",
                      "X-MissionControl-Delivery": str(notification["notificationId"])}

    def deliver(self, channel: Mapping[str, Any], notification: Mapping[str, Any]) -> Outcome:
        started = time.monotonic()
        outcome = self._attempts(channel, notification)
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        return outcome

    def _attempts(self, channel: Mapping[str, Any], notification: Mapping[str, Any]) -> Outcome:
        url = channel["url"]
        try:
            check_url(url, self.allow_private)
        except RefusedAddress as exc:
            return Outcome("failed", 0, error=f"refused: {exc}")
        body, headers = self.request_for(channel, notification)
        headers["User-Agent"] = USER_AGENT
        session = outbound_session(self.allow_private)
        import requests  # loaded by outbound_session already; here for its exceptions
        last = Outcome("failed", 0)
        try:
            for attempt in range(1, self.attempts + 1):
                if channel["type"] == "webhook":  # signed per attempt: a fresh timestamp
                    now = int(self.clock())
                    headers["X-MissionControl-Timestamp"] = str(now)
                    headers["X-MissionControl-Signature"] = signature(channel["secret"], now, body)
                wait = None
                try:
                    reply = session.post(url, data=body, headers=headers, timeout=self.timeout_s,
                                         allow_redirects=False)
                except requests.RequestException as exc:
                    why = refused(exc)
                    if why is not None:
                        return Outcome("failed", attempt, error=f"refused: {why}")
                    last = Outcome("failed", attempt, error=_describe(exc))
                else:
                    if 200 <= reply.status_code < 300:
                        return Outcome("delivered", attempt, reply.status_code)
                    last = Outcome("failed", attempt, reply.status_code,
                                   f"HTTP {reply.status_code}: {reply.text[:200]}")
                    if reply.status_code not in RETRY_STATUSES:
                        return last  # the receiver refuses this message: retrying will not help
                    wait = _retry_after(reply.headers.get("Retry-After"))
                if attempt < self.attempts:
                    backoff = self.backoff_s * 2 ** (attempt - 1) * (1 + random.random() / 4)
                    self.sleep(wait if wait is not None else backoff)
        finally:
            session.close()
        return last


def _retry_after(header: str | None) -> float | None:
    if header and header.strip().isdigit():
        return min(float(header.strip()), MAX_RETRY_AFTER_S)
    return None


def _describe(exc: requests.RequestException) -> str:
    import requests
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect"
    return type(exc).__name__
