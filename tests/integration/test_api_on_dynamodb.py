"""The main API flows on DynamoDB Local, so the engine the prod stage runs is proved through
the same handlers as SQLite (the contract suite proves the engine itself)."""
import json
import time

import pytest

from tests.conftest import admin_with_every_key_on

JSON = {"content-type": "application/json"}


@pytest.fixture
def dynamo_api(dynamo_store, access_gate, issuer):
    yield from admin_with_every_key_on(dynamo_store, access_gate, issuer)


def now_ms() -> int:
    return int(time.time() * 1000)


def test_purchases_roll_up_once_on_dynamodb(dynamo_api):
    batch = [{"orderId": f"d-{i}", "productId": "pro", "productName": "Pro", "amount": 1250,
              "currency": "USD", "userId": f"u-{i % 3}", "sessionId": f"s-{i % 4}",
              "timestamp": now_ms() - i * 1000} for i in range(40)]
    first = dynamo_api.http.post("/api/ingest/purchase", headers=JSON, body=json.dumps(batch))
    again = dynamo_api.http.post("/api/ingest/purchase", headers=JSON, body=json.dumps(batch))
    assert json.loads(first.body)["accepted"] == 40 and json.loads(again.body)["duplicates"] == 40
    kpis = json.loads(dynamo_api.http.get("/api/kpis?period=24h").body)
    assert (kpis["revenue"]["value"], kpis["orders"]["value"]) == (50_000, 40)
    users = json.loads(dynamo_api.http.get("/api/users").body)
    assert (users["dau"], users["mau"], users["sessions"]) == (3, 3, 4)
    products = json.loads(dynamo_api.http.get("/api/products").body)["products"]
    assert products == [{"productId": "pro", "productName": "Pro", "downloads": 40, "revenue": 50_000}]


def test_metric_samples_and_series_on_dynamodb(dynamo_api):
    t0 = (now_ms() // 60_000 - 3) * 60_000
    samples = [{"host": "db-1", "kind": "vm", "timestamp": t0 + i * 10_000,
                "values": {"cpu.percent": float(i), "mem.used_percent": 50.5}} for i in range(12)]
    reply = dynamo_api.http.post("/api/metrics", headers=JSON, body=json.dumps(samples))
    assert json.loads(reply.body)["accepted"] == 12
    reply = dynamo_api.http.post("/api/metrics", headers=JSON, body=json.dumps(samples[:3]))
    assert json.loads(reply.body)["duplicates"] == 3
    out = json.loads(dynamo_api.http.get(
        f"/api/metrics?host=db-1&metric=cpu.percent&from={t0}&to={t0 + 119_999}&step=60000").body)
    assert out["series"][0]["avg"] == [2.5, 8.5]
    assert out["series"][0]["min"] == [0.0, 6.0] and out["series"][0]["max"] == [5.0, 11.0]
    hosts = json.loads(dynamo_api.http.get("/api/hosts").body)["hosts"]
    assert hosts[0]["host"] == "db-1" and hosts[0]["values"]["mem.used_percent"] == 50.5
