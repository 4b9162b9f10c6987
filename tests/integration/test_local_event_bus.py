"""The local EventBridge bus: ``missionctl events put`` stores the event, the local worker
delivers it to every ``on_cw_event`` handler whose pattern matches (the very handler AWS
invokes), once; on SQLite and on DynamoDB Local."""
from __future__ import annotations

import json

import pytest
from incident_events import CONFIG_CHANGE, STATE_CHANGE, sample

from chalicelib.local.event_bus import LocalEventBus
from tests.conftest import admin_with_every_key_on


@pytest.fixture
def client(store, access_gate, issuer):
    yield from admin_with_every_key_on(store, access_gate, issuer)


def worker(store):
    from app import app
    from chalicelib.local.worker import LocalWorker
    return LocalWorker(app, store, "test-")


def listed(client) -> list[dict]:
    return json.loads(client.http.get("/api/incidents").body)["incidents"]


def test_missionctl_events_put_then_the_worker_opens_the_incident(client, store, capsys):
    from chalicelib.cli import main
    assert main(["events", "put", "--file", str(STATE_CHANGE)]) == 0
    assert "put event c4c1c1c9-6542-e61b-6ef0-8c4d36933a92" in capsys.readouterr().out
    assert listed(client) == []  # nothing happens until the worker delivers
    assert worker(store).deliver_events() == 1
    incidents = listed(client)
    assert len(incidents) == 1 and incidents[0]["source"] == "cloudwatch"
    assert worker(store).deliver_events() == 0  # delivered once, then gone from the bus


def test_the_same_event_put_twice_opens_one_incident(client, store):
    bus = LocalEventBus(store)
    bus.put(sample())
    bus.put(sample())
    assert worker(store).deliver_events() == 2
    assert len(listed(client)) == 1


def test_an_event_no_rule_matches_is_dropped_without_a_call(client, store):
    from chalicelib.cli import main
    assert main(["events", "put", "--file", str(CONFIG_CHANGE)]) == 0
    assert worker(store).deliver_events() == 1
    assert listed(client) == []


def test_a_bad_file_is_refused_and_nothing_is_put(store, tmp_path, capsys):
    from chalicelib.cli import main
    from chalicelib.storage import use_store
    use_store(store)
    try:
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps([sample(), {"source": "x"}]))
        assert main(["events", "put", "--file", str(bad)]) == 2
        assert "detail-type" in capsys.readouterr().err
        assert LocalEventBus(store).pending() == []
    finally:
        use_store(None)


def test_a_failing_handler_is_retried_then_set_aside(store):
    calls = []

    def failing(event, context):
        calls.append(event["id"])
        raise RuntimeError("boom")

    bus = LocalEventBus(store)
    bus.put(sample())
    rule = [("alarmToIncident", {"source": ["aws.cloudwatch"]}, failing)]
    from chalicelib.local.worker import LambdaContext
    assert bus.deliver(rule, LambdaContext) == 0
    assert bus.deliver(rule, LambdaContext) == 0
    assert bus.deliver(rule, LambdaContext) == 1
    assert len(calls) == 3 and bus.pending() == []
    from chalicelib.system.deadletters import recent
    assert recent(store, "bus-alarmToIncident")[0]["ref"] == sample()["id"]
