"""Driving alerting as AWS and the local worker do: scheduled events for ``evaluateAlerts``,
the worker's SNS delivery for ``notifyChannels``, metric samples through the API."""
from __future__ import annotations

import json
import time

MIN = 60_000


def minute_now() -> int:
    now = int(time.time() * 1000)
    return now - now % MIN


def scheduled(minute_ms: int, name: str = "evaluateAlerts") -> dict:
    """EventBridge's event for the minute (a redelivery is the very same event)."""
    from chalicelib.local.worker import scheduled_event
    event = scheduled_event(name, minute_ms / 1000 + 7)  # EventBridge fires a few s into the minute
    event["id"] = f"evt-{minute_ms}"
    return event


def evaluate(api, minute_ms: int) -> dict:
    return api.lambda_.invoke("evaluateAlerts", scheduled(minute_ms)).payload


def deliver(store) -> int:
    """What the local worker does each tick for SNS: publish → notifyChannels (and email)."""
    from app import app
    from chalicelib.local.worker import LocalWorker
    return LocalWorker(app, store, "test-").deliver_notifications()


def send_samples(api, at_ms: int, values_by_host: dict[str, dict[str, float]], kind: str = "vm") -> None:
    body = [{"host": host, "kind": kind, "timestamp": at_ms, "values": values}
            for host, values in values_by_host.items()]
    reply = api.http.post("/api/metrics", headers={"content-type": "application/json"}, body=json.dumps(body))
    assert reply.status_code == 200, reply.body


def post(api, path: str, body, headers=None):
    reply = api.http.post(path, headers={"content-type": "application/json", **(headers or {})},
                          body=json.dumps(body))
    return reply.status_code, json.loads(reply.body) if reply.body else None


def put(api, path: str, body, headers=None):
    reply = api.http.put(path, headers={"content-type": "application/json", **(headers or {})},
                         body=json.dumps(body))
    return reply.status_code, json.loads(reply.body) if reply.body else None


def get(api, path: str, headers=None):
    reply = api.http.get(path, headers=headers or {})
    return reply.status_code, json.loads(reply.body) if reply.body else None


def remove_default_rules(api) -> None:
    """Tests that watch one rule's notifications start from an install with no other rule."""
    status, body = get(api, "/api/alert-rules")
    assert status == 200
    for rule in body["rules"]:
        assert api.http.delete(f"/api/alert-rules/{rule['id']}").status_code == 204


def fire_load_alert(api, rule: dict, minutes_ago: int = 10) -> int:
    """A fresh install with only ``rule`` (on ``load.1m`` over 4), web-1's load at 6.5, one
    evaluation: returns the minute it fired."""
    remove_default_rules(api)
    post(api, "/api/alert-rules", rule)
    t0 = minute_now() - minutes_ago * MIN
    send_samples(api, t0 - 2_000, {"web-1": {"load.1m": 6.5}})
    evaluate(api, t0)
    return t0
