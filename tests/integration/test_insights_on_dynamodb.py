"""Insights on DynamoDB Local: the change stream read from DynamoDB Streams, decoded from its
own wire format, scored and written with the severity index, through the same handlers."""
import json
import random
import time

import pytest

from chalicelib.config import settings
from chalicelib.local.worker import LocalWorker
from tests.conftest import SignedInClient, _client_on

JSON = {"content-type": "application/json"}
STEP = 10_000


@pytest.fixture
def dynamo_api(dynamo_store, access_gate, issuer):
    from chalicelib.auth.api_keys import INGEST_SCOPES
    for client in _client_on(dynamo_store):
        key, _record = access_gate.create_key(list(INGEST_SCOPES), "tests", "tests")
        yield SignedInClient(client, {"authorization": f"Bearer {issuer.token('admin')}", "x-api-key": key})


def test_a_spike_becomes_one_insight_on_dynamodb_and_redelivery_adds_none(dynamo_api, dynamo_store):
    from app import app
    rng = random.Random(4)
    start = (int(time.time() * 1000) - 3_600_000) // STEP * STEP
    # ``meta`` given: the engine cannot yet read a stream image holding an empty map (the host
    # registry's ``meta`` of a sample without one), which DynamoDB Local sends as ``{}``.
    samples = [{"host": "db-1", "kind": "vm", "timestamp": start + i * STEP, "meta": {"hostname": "db-1"},
                "values": {"cpu.percent": 90.0 if i == 120 else round(30 + rng.gauss(0, 1), 2)}}
               for i in range(160)]
    reply = dynamo_api.http.post("/api/metrics", headers=JSON, body=json.dumps(samples))
    assert reply.status_code == 200, reply.body
    worker = LocalWorker(app, dynamo_store, settings().table_prefix)
    while worker.deliver_changes():
        pass
    by_severity = json.loads(dynamo_api.http.get("/api/insights?severity=CRITICAL").body)["insights"] + \
        json.loads(dynamo_api.http.get("/api/insights?severity=HIGH").body)["insights"]
    [insight] = by_severity
    assert insight["startsAt"] == start + 120 * STEP and insight["affectedHosts"] == ["db-1"]
    dynamo_store.delete("system", "stream-checkpoint", "scoreMetrics")
    while worker.deliver_changes():
        pass
    assert len(json.loads(dynamo_api.http.get("/api/insights?host=db-1").body)["insights"]) == 1
