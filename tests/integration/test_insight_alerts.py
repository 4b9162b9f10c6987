"""HIGH and CRITICAL insights go out through alerting (issues 10 and 11): the default
``insight`` rule fires while an insight is open and resolves when it closes. Samples over the
API, the metrics stream delivered by the local worker, evaluateAlerts as EventBridge sends it."""
import json

import pytest

from alerting_helpers import evaluate, minute_now
from chalicelib.config import settings
from chalicelib.local.worker import LocalWorker

JSON = {"content-type": "application/json"}
STEP = 10_000


def send_cpu(api, host, start, values):
    body = [{"host": host, "kind": "vm", "timestamp": start + i * STEP, "values": {"cpu.percent": v}}
            for i, v in enumerate(values)]
    for i in range(0, len(body), 500):
        assert api.http.post("/api/metrics", headers=JSON, body=json.dumps(body[i:i + 500])).status_code == 200


def insight_alerts(api):
    reply = api.http.get("/api/alerts?state=all")
    assert reply.status_code == 200, reply.body
    return [a for a in json.loads(reply.body)["alerts"] if a["ruleId"] == "default-high-severity-insight"]


@pytest.fixture
def worker(api, sqlite_store):
    from app import app
    return LocalWorker(app, sqlite_store, settings().table_prefix)


def test_an_open_high_insight_fires_the_default_rule_and_its_close_resolves_it(api, worker):
    minute = minute_now()
    start = minute - 40 * 60_000
    calm = [40.0 + (i % 7) * 0.3 for i in range(200)]
    send_cpu(api, "web-1", start, calm + [95.0])  # the last point jumps: the insight stays open
    while worker.deliver_changes():
        pass
    opened = json.loads(api.http.get("/api/insights").body)["insights"]
    assert len(opened) == 1 and opened[0]["endsAt"] is None
    assert opened[0]["severity"] in ("HIGH", "CRITICAL")

    evaluate(api, minute)
    [alert] = insight_alerts(api)
    assert alert["state"] == "firing" and alert["labels"]["insight"] == opened[0]["id"]
    assert alert["labels"]["host"] == "web-1" and opened[0]["message"] in alert["message"]

    # The series calms down: the insight closes, and the next minute's evaluation resolves.
    send_cpu(api, "web-1", start + 201 * STEP, calm[:60])
    while worker.deliver_changes():
        pass
    closed = json.loads(api.http.get("/api/insights").body)["insights"][0]
    assert closed["endsAt"] is not None
    evaluate(api, minute + 60_000)
    assert [a["state"] for a in insight_alerts(api)] == ["resolved"]


def test_a_metric_climbing_toward_a_rules_threshold_gets_a_forecast_to_it(api, worker):
    """CPU has no natural bound, but the default "CPU hot" rule sets one: 90 %."""
    minute = minute_now()
    start = minute - 3 * 3_600_000
    send_cpu(api, "web-1", start, [round(30.0 + 0.02 * i + (i % 5) * 0.05, 3) for i in range(1080)])
    while worker.deliver_changes():
        pass
    found = json.loads(api.http.get("/api/insights?type=prediction").body)["insights"]
    assert [i["forecast"]["limit"] for i in found] == [90.0]
    assert found[0]["metric"] == "cpu.percent" and found[0]["endsAt"] is None
