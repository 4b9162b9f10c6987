"""Insights from the metrics table's stream: samples sent over the API, the store's own change
log delivered by the local worker as DynamoDB Streams records, insights read and judged over
the API. Real SQLite store, the real app through chalice.test.Client."""
import json
import random
import time

import pytest

from chalicelib.config import settings
from chalicelib.insights import open_insights, repository
from chalicelib.local.worker import LambdaContext, LocalWorker
from chalicelib.system.deadletters import recent
from tests.shared_data import AWS_EVENTS

JSON = {"content-type": "application/json"}
GO_SAMPLE = AWS_EVENTS / "aws-lambda-go__dynamodb-event.json"
STEP = 10_000


def samples(host, start, n, metric="cpu.percent", level=40.0, sigma=1.0, seed=1, spike_at=None, per_step=0.0):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        value = level + per_step * i + rng.gauss(0, sigma)
        if spike_at is not None and i == spike_at:
            value = level + 40.0
        out.append({"host": host, "kind": "vm", "timestamp": start + i * STEP, "values": {metric: round(value, 3)}})
    return out


def send(api, body):
    for i in range(0, len(body), 500):
        reply = api.http.post("/api/metrics", headers=JSON, body=json.dumps(body[i:i + 500]))
        assert reply.status_code in (200, 201), reply.body


def deliver(worker):
    while worker.deliver_changes():
        pass


def insights(api, query=""):
    reply = api.http.get(f"/api/insights{query}")
    assert reply.status_code == 200, reply.body
    return json.loads(reply.body)


@pytest.fixture
def worker(api, sqlite_store):
    from app import app
    return LocalWorker(app, sqlite_store, settings().table_prefix)


@pytest.fixture
def start():
    return (int(time.time() * 1000) - 3 * 3_600_000) // STEP * STEP


def test_a_spike_sent_over_the_api_becomes_one_anomaly_insight(api, worker, start):
    send(api, samples("web-1", start, 200, spike_at=150))
    deliver(worker)
    found = insights(api)["insights"]
    assert len(found) == 1
    insight = found[0]
    assert insight["type"] == "anomaly" and insight["metric"] == "cpu.percent"
    assert insight["affectedHosts"] == ["web-1"]
    assert insight["startsAt"] == start + 150 * STEP
    assert insight["endsAt"] == start + 150 * STEP  # closed: the series went back to normal
    assert insight["severity"] in ("HIGH", "CRITICAL") and 50 <= insight["confidence"] <= 99
    assert insight["feedback"] is None and 0 < insight["score"] <= 1
    assert [start + 150 * STEP, 80.0] in [[t, round(v)] for t, v in insight["points"]]
    assert "rose to" in insight["message"]


def test_redelivered_records_raise_nothing_twice(api, worker, sqlite_store, start):
    send(api, samples("web-1", start, 200, spike_at=150))
    deliver(worker)
    # Lambda may deliver a batch again (a timeout, a retried shard): replay the whole log.
    sqlite_store.delete("system", "stream-checkpoint", "scoreMetrics")
    deliver(worker)
    assert len(insights(api)["insights"]) == 1


def test_an_open_anomaly_stays_one_insight_across_batches(api, worker, start):
    body = samples("web-1", start, 140)
    stuck = body[-1]["values"]["cpu.percent"]
    body += [{**s, "values": {"cpu.percent": stuck}} for s in samples("web-1", start + 140 * STEP, 60)]
    for i in range(0, len(body), 20):  # many small batches
        send(api, body[i:i + 20])
        deliver(worker)
    found = insights(api)["insights"]
    assert len(found) == 1
    assert found[0]["endsAt"] is None and "stuck" in found[0]["message"]
    assert found[0]["severity"] == "HIGH"


def test_another_tables_stream_record_is_ignored_without_a_crash(api, sqlite_store):
    from app import app
    event = json.loads(GO_SAMPLE.read_text())
    result = app.handler_map["scoreMetrics"](event, LambdaContext("scoreMetrics"))
    assert result == {"batchItemFailures": []}
    assert insights(api)["insights"] == [] and recent(sqlite_store, "insights-stream") == []


def test_a_poison_record_of_our_table_is_set_aside_and_the_rest_is_scored(api, sqlite_store):
    from app import app
    table = settings().table_prefix + "metrics"
    arn = f"arn:aws:dynamodb:local:000000000000:table/{table}/stream/local"
    poison = {"eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
              "awsRegion": "local", "eventSourceARN": arn,
              "dynamodb": {"ApproximateCreationDateTime": 1, "SequenceNumber": "100", "SizeBytes": 1,
                           "StreamViewType": "NEW_AND_OLD_IMAGES",
                           "Keys": {"pk": {"S": "raw#web-9"}, "sk": {"S": "0000000000001#vm"}},
                           "NewImage": {"pk": {"S": "raw#web-9"}, "sk": {"S": "0000000000001#vm"},
                                        "values": {"S": "not a map"}}}}
    result = app.handler_map["scoreMetrics"]({"Records": [poison]}, LambdaContext("scoreMetrics"))
    assert result == {"batchItemFailures": []}
    [dead] = recent(sqlite_store, "insights-stream")
    assert dead["ref"] == "100" and "values" in dead["reason"]


def test_a_host_whose_write_fails_is_reported_alone(api, worker, sqlite_store, start, monkeypatch):
    from chalicelib.insights.repository import InsightsRepository
    real = InsightsRepository.save

    def failing(self, host, kind, series, found):
        if host == "web-2":
            raise ConnectionError("store unavailable")
        return real(self, host, kind, series, found)

    monkeypatch.setattr(InsightsRepository, "save", failing)
    send(api, samples("web-1", start, 40) + samples("web-2", start, 40, seed=2))
    batch = sqlite_store.changes("metrics", limit=1000).changes
    from app import app
    from chalicelib.local.worker import local_stream_arn, stream_record
    arn = local_stream_arn(settings().table_prefix + "metrics")
    result = app.handler_map["scoreMetrics"]({"Records": [stream_record(c, arn) for c in batch]},
                                             LambdaContext("scoreMetrics"))
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    web2 = {c.sequence for c in batch if c.keys["pk"] == "raw#web-2"}
    assert failed == web2 and web2


def test_the_same_anomaly_on_three_hosts_within_minutes_is_one_pattern(api, worker, start):
    body = []
    for n, host in enumerate(("web-1", "web-2", "web-3")):
        body += samples(host, start, 200, seed=n, spike_at=150 + n)
    send(api, body)
    deliver(worker)
    [pattern] = insights(api, "?type=pattern")["insights"]
    assert pattern["affectedHosts"] == ["web-1", "web-2", "web-3"]
    assert pattern["startsAt"] == start + 150 * STEP
    # Notifications get the pattern once, not its three members.
    notified = open_insights(repository(), "LOW", start)
    assert [i["type"] for i in notified] == ["pattern"] or all(i["type"] != "anomaly" or i["endsAt"] for i in notified)


def test_a_filling_disk_gets_a_prediction_with_an_interval(api, worker, start):
    send(api, samples("db-1", start, 600, metric="disk.var.used_percent", level=50.0, sigma=0.05,
                      per_step=0.01))
    deliver(worker)
    [prediction] = insights(api, "?type=prediction")["insights"]
    assert prediction["message"].startswith("disk /var on db-1 full in ")
    forecast = prediction["forecast"]
    assert forecast["earliestMs"] <= forecast["etaMs"] <= forecast["latestMs"]
    # 0.01 % per 10 s is 3.6 %/h: at 56 % after 100 min, 44 % are left, 12.2 h from the last sample.
    assert abs(forecast["etaMs"] - (start + 599 * STEP + 12.2 * 3_600_000)) < 0.5 * 3_600_000


def test_filters_and_cursor_paging_without_scans(api, worker, start):
    body = []
    for n, host in enumerate(("a-1", "b-1")):
        body += samples(host, start, 300, seed=n, spike_at=100)
        body += samples(host, start, 300, metric="mem.used_percent", seed=10 + n, spike_at=200)
    merged = {}
    for s in body:
        merged.setdefault((s["host"], s["timestamp"]), {"host": s["host"], "kind": "vm",
                                                         "timestamp": s["timestamp"], "values": {}})["values"].update(s["values"])
    send(api, list(merged.values()))
    deliver(worker)
    everything = insights(api)["insights"]
    assert len(everything) >= 2
    assert [i["id"] for i in everything] == sorted((i["id"] for i in everything), reverse=True)
    assert {i["affectedHosts"][0] for i in insights(api, "?host=a-1")["insights"]} == {"a-1"}
    assert {i["metric"] for i in insights(api, "?metric=mem.used_percent")["insights"]} == {"mem.used_percent"}
    later = insights(api, f"?since={start + 150 * STEP}")["insights"]
    assert later and all(i["startsAt"] >= start + 150 * STEP for i in later)
    seen, cursor = [], None
    while True:
        page = insights(api, "?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        seen += [i["id"] for i in page["insights"]]
        cursor = page["cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in everything]


@pytest.mark.parametrize("query, field", [("?severity=SEVERE", "severity"), ("?type=guess", "type"),
                                          ("?limit=0", "limit"), ("?since=yesterday", "since"),
                                          ("?colour=red", "colour")])
def test_bad_queries_get_400_naming_the_field(api, query, field):
    reply = api.http.get(f"/api/insights{query}")
    assert reply.status_code == 400
    assert field in [d["field"] for d in json.loads(reply.body)["error"]["details"]]


def test_a_cursor_of_another_query_gets_400(api, worker, start):
    send(api, samples("a-1", start, 200, spike_at=100) + samples("b-1", start, 200, spike_at=120, seed=3))
    deliver(worker)
    cursor = insights(api, "?limit=1")["cursor"]
    reply = api.http.get(f"/api/insights?host=a-1&cursor={cursor}")
    assert reply.status_code == 400
    assert json.loads(reply.body)["error"]["details"][0]["field"] == "cursor"


@pytest.fixture
def feedback_path(api, worker, start):
    """The feedback route of the one insight a spike on web-1 raised."""
    send(api, samples("web-1", start, 200, spike_at=150))
    deliver(worker)
    [insight] = insights(api)["insights"]
    return f"/api/insights/{insight['id']}/feedback"


def test_dismissing_makes_the_series_less_sensitive_and_confirming_takes_it_back(api, feedback_path, issuer):
    path = feedback_path
    operator = {**JSON, "authorization": f"Bearer {issuer.token('operator')}"}
    reply = api.http.post(path, headers=operator, body=json.dumps({"verdict": "dismiss"}))
    assert reply.status_code == 200, reply.body
    answer = json.loads(reply.body)
    assert answer["insight"]["feedback"] == "dismiss"
    assert answer["series"] == {"host": "web-1", "metric": "cpu.percent", "dismissals": 1, "threshold": 0.85}
    assert insights(api)["insights"][0]["feedback"] == "dismiss"
    again = json.loads(api.http.post(path, headers=operator, body=json.dumps({"verdict": "dismiss"})).body)
    assert again["series"]["dismissals"] == 1  # the same verdict twice counts once
    back = json.loads(api.http.post(path, headers=operator, body=json.dumps({"verdict": "confirm"})).body)
    assert back["series"] == {"host": "web-1", "metric": "cpu.percent", "dismissals": 0, "threshold": 0.7}


def test_feedback_needs_an_operator_a_known_insight_and_a_verdict(api, feedback_path, issuer):
    path = feedback_path
    viewer = {**JSON, "authorization": f"Bearer {issuer.token('viewer')}"}
    assert api.http.post(path, headers=viewer, body=json.dumps({"verdict": "dismiss"})).status_code == 403
    reply = api.http.post(path, headers=JSON, body=json.dumps({"verdict": "maybe"}))
    assert reply.status_code == 400
    assert json.loads(reply.body)["error"]["details"][0]["field"] == "verdict"
    assert api.http.post(path, headers=JSON, body="not json").status_code == 400
    missing = api.http.post("/api/insights/0000000000000-nope/feedback", headers=JSON,
                            body=json.dumps({"verdict": "confirm"}))
    assert missing.status_code == 404


def test_a_host_unlike_its_peers_of_the_same_role_is_an_outlier_insight(api, worker, start):
    body = []
    for n, host in enumerate(("web-1", "web-2", "web-3", "web-4")):
        for s in samples(host, start, 60, seed=n, level=95.0 if host == "web-4" else 30.0):
            body.append({**s, "meta": {"role": "web"}})
    send(api, body)
    deliver(worker)
    [outlier] = insights(api, "?host=web-4")["insights"]
    assert outlier["outlier"] is True and outlier["endsAt"] is None
    assert outlier["message"].startswith("cpu.percent on web-4 is 9")
    assert "while its 3 web peers are at about " in outlier["message"]


def test_sales_that_stop_are_an_insight_like_a_cpu_spike(api, sqlite_store):
    from app import app
    from chalicelib.local.worker import scheduled_event
    now = int(time.time() * 1000)
    minute = 60_000
    first = now - now % (5 * minute) - 6 * 3_600_000
    purchases = [{"orderId": f"o-{m}-{k}", "productId": "pro", "productName": "Pro", "amount": 1200 + k,
                  "currency": "USD", "userId": f"u-{m % 50}", "sessionId": f"s-{m}-{k}",
                  "timestamp": first + m * minute + k * 10_000}
                 for m in range(0, 6 * 60 - 30) for k in range(4)]  # 4 a minute, then none for 30 min
    for i in range(0, len(purchases), 500):
        reply = api.http.post("/api/ingest/purchase", headers=JSON, body=json.dumps(purchases[i:i + 500]))
        assert reply.status_code == 200, reply.body
    result = app.handler_map["scoreBusiness"](scheduled_event("scoreBusiness", now / 1000),
                                              LambdaContext("scoreBusiness"))
    assert result["steps"] > 60
    found = insights(api, "?metric=business.orders_per_hour")["insights"]
    assert [i["message"].split(" (")[0] for i in found] == ["business.orders_per_hour on business fell to 0"]
    assert found[0]["startsAt"] == first + (6 * 60 - 30) * minute
    # The next run finds nothing new to score in the same 5 minutes.
    again = app.handler_map["scoreBusiness"](scheduled_event("scoreBusiness", now / 1000),
                                             LambdaContext("scoreBusiness"))
    assert again == {"steps": 0}
