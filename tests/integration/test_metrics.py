"""Metrics ingestion (HTTP and Kinesis) and queries, on a real SQLite store."""
import base64
import json
import time

import pytest

from chalicelib.metrics.ingest import SampleWriteFailed, record_samples
from chalicelib.metrics.models import MetricSample
from chalicelib.metrics.stream import consume_records
from chalicelib.system.deadletters import recent
from tests.shared_data import AWS_EVENTS

JSON = {"content-type": "application/json"}
KINESIS_SAMPLE = AWS_EVENTS / "aws-lambda-go__kinesis-event.json"


def now_ms() -> int:
    return int(time.time() * 1000)


def sample(host="web-1", ts=None, kind="vm", **values) -> dict:
    return {"host": host, "kind": kind, "timestamp": ts if ts is not None else now_ms() - 1000,
            "values": values or {"cpu.percent": 12.5, "mem.used_percent": 48.1}}


def post(api, body) -> tuple[int, dict]:
    reply = api.http.post("/api/metrics", headers=JSON,
                          body=body if isinstance(body, str) else json.dumps(body))
    return reply.status_code, json.loads(reply.body)


def get(api, path) -> dict:
    reply = api.http.get(path)
    assert reply.status_code == 200, reply.body
    return json.loads(reply.body)


def kinesis_event(payloads: list[bytes], first_seq: int = 1000) -> dict:
    template = json.loads(KINESIS_SAMPLE.read_text())["Records"][0]
    records = []
    for i, data in enumerate(payloads):
        record = json.loads(json.dumps(template))
        record["kinesis"]["data"] = base64.b64encode(data).decode()
        record["kinesis"]["sequenceNumber"] = str(first_seq + i)
        records.append(record)
    return {"Records": records}


# -- HTTP ingest ------------------------------------------------------------------------------
def test_a_sample_is_stored_and_its_host_listed(api):
    assert post(api, sample(**{"cpu.percent": 31.0}))[0] == 200
    hosts = get(api, "/api/hosts")["hosts"]
    assert [(h["host"], h["kind"], h["status"]) for h in hosts] == [("web-1", "vm", "online")]
    assert hosts[0]["values"]["cpu.percent"] == 31.0


def test_the_same_sample_sent_again_is_stored_once(api, sqlite_store):
    s = sample(ts=now_ms() - 5000, **{"cpu.percent": 10.0})
    post(api, [s, s])
    status, body = post(api, s)
    assert (status, body["accepted"], body["duplicates"]) == (200, 0, 1)
    rollup = get(api, f"/api/metrics?host=web-1&metric=cpu.percent&from={now_ms() - 60_000}&step=60000")
    counts = [v for v in rollup["series"][0]["avg"] if v is not None]
    assert counts == [10.0]
    assert len(sqlite_store.query("metrics", "raw#web-1").items) == 1


def test_unknown_but_well_formed_metric_names_are_custom_metrics(api):
    assert post(api, sample(**{"app.queue.depth": 7}))[0] == 200


@pytest.mark.parametrize("bad, field", [
    ({"host": "", "kind": "vm", "timestamp": 1, "values": {}}, "host"),
    (sample(kind="container"), "kind"),
    (sample(**{"CPU": 1.0}), "values.CPU"),
    (sample(**{"cpu.percent": "high"}), "values.cpu.percent"),
    (sample(ts=now_ms() + 3_600_000), "timestamp"),
    (sample(ts=now_ms() - 200 * 86_400_000), "timestamp"),
    ({**sample(), "extra": 1}, "extra"),
])
def test_a_bad_sample_gets_400_and_changes_nothing(api, sqlite_store, bad, field):
    status, body = post(api, bad)
    assert status == 400
    assert any(d["field"].startswith(field) for d in body["error"]["details"]), body
    assert get(api, "/api/hosts")["hosts"] == []


def test_non_finite_values_are_refused(api):
    status, body = post(api, '{"host": "h", "kind": "vm", "timestamp": %d, "values": {"cpu.percent": NaN}}' % now_ms())
    assert status == 400


def test_a_batch_keeps_the_good_samples(api):
    status, body = post(api, [sample(ts=now_ms() - 2000), sample(kind="nope"), sample(ts=now_ms() - 1000)])
    assert (status, body["accepted"], [r["index"] for r in body["refused"]]) == (207, 2, [1])


# -- Kinesis ----------------------------------------------------------------------------------
def test_the_real_kinesis_sample_is_set_aside_not_crashing_the_batch(api, sqlite_store):
    event = json.loads(KINESIS_SAMPLE.read_text())
    good = kinesis_event([json.dumps(sample()).encode()], first_seq=99)["Records"][0]
    event["Records"].append(good)
    result = api.lambda_.invoke("consumeMetrics", event).payload
    assert result == {"batchItemFailures": []}
    dead = recent(sqlite_store, "kinesis-metrics")
    assert len(dead) == 2 and all("not valid JSON" in d["reason"] for d in dead)
    assert {d["raw"] for d in dead} == {"Hello World"}
    assert [h["host"] for h in get(api, "/api/hosts")["hosts"]] == ["web-1"]


def test_a_mixed_batch_stores_the_good_sets_aside_the_bad_and_dedupes(api, sqlite_store):
    t = now_ms() - 10_000
    payloads = [json.dumps(sample(ts=t)).encode(), b"{not json", json.dumps({"host": "x"}).encode(),
                json.dumps(sample(ts=t)).encode(), json.dumps(sample(ts=t + 1)).encode()]
    result = api.lambda_.invoke("consumeMetrics", kinesis_event(payloads)).payload
    assert result == {"batchItemFailures": []}
    assert len(sqlite_store.query("metrics", "raw#web-1").items) == 2
    reasons = [d["reason"] for d in recent(sqlite_store, "kinesis-metrics")]
    assert len(reasons) == 2 and any("not a valid sample" in r for r in reasons)


def test_a_store_failure_reports_only_the_records_not_yet_written(sqlite_store):
    from chalicelib.metrics.repository import MetricsRepository
    repo = MetricsRepository(sqlite_store, 90 * 86_400_000)
    t = now_ms() - 3_600_000
    # 40 hosts: one transaction cannot hold them all, so the write is split in chunks.
    payloads = [(str(1000 + i), json.dumps(sample(host=f"h{i}", ts=t)).encode()) for i in range(40)]
    real, calls = sqlite_store.transact, {"n": 0}

    def fail_second(ops):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("throttled")
        return real(ops)

    sqlite_store.transact = fail_second
    result = consume_records(payloads, repo, lambda *a: None, now_ms())
    sqlite_store.transact = real
    failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    stored = {h.host for h in repo.hosts()}
    assert failed and stored
    assert {f"h{int(seq) - 1000}" for seq in failed} == {f"h{i}" for i in range(40)} - stored
    # Kinesis retries exactly those: all stored, none twice.
    retry = [p for p in payloads if p[0] in failed]
    assert consume_records(retry, repo, lambda *a: None, now_ms()) == {"batchItemFailures": []}
    assert len({h.host for h in repo.hosts()}) == 40


def test_record_samples_names_what_it_wrote_before_failing(sqlite_store):
    from chalicelib.metrics.repository import MetricsRepository
    repo = MetricsRepository(sqlite_store, 90 * 86_400_000)
    samples = [MetricSample(**sample(host=f"h{i}")) for i in range(40)]
    real, calls = sqlite_store.transact, {"n": 0}

    def fail_second(ops):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("throttled")
        return real(ops)

    sqlite_store.transact = fail_second
    with pytest.raises(SampleWriteFailed) as raised:
        record_samples(repo, samples)
    assert 0 < len(raised.value.written) < 40


# -- queries ----------------------------------------------------------------------------------
def test_a_series_shows_gaps_as_gaps(api):
    t0 = (now_ms() // 60_000 - 10) * 60_000
    post(api, [sample(ts=t0, **{"cpu.percent": 10.0}), sample(ts=t0 + 30_000, **{"cpu.percent": 30.0})])
    out = get(api, f"/api/metrics?host=web-1&metric=cpu.percent&from={t0}&to={t0 + 50_000}")
    s = out["series"][0]
    assert out["resolution"] == "10s"
    assert s["avg"] == [10.0, None, None, 30.0, None, None]


def test_several_hosts_and_metrics_in_one_call(api):
    post(api, [sample(host="a"), sample(host="b")])
    out = get(api, "/api/metrics?host=a,b&metric=cpu.percent,mem.used_percent")
    assert [(s["host"], s["metric"]) for s in out["series"]] == [
        ("a", "cpu.percent"), ("a", "mem.used_percent"), ("b", "cpu.percent"), ("b", "mem.used_percent")]


@pytest.mark.parametrize("query", ["", "?host=a", "?metric=cpu.percent", "?host=a&metric=x&from=1&to=0",
                                   "?host=a&metric=x&step=15000", "?host=a&metric=x&from=0&to=100000000000&step=10000",
                                   "?host=a&metric=x&from=yesterday"])
def test_bad_queries_get_400(api, query):
    reply = api.http.get("/api/metrics" + query)
    assert reply.status_code == 400, reply.body


def test_a_30_day_read_costs_about_what_a_1_hour_read_costs(api, sqlite_store):
    """Reads grow with the points returned, not the points stored: 30 days of 10 s samples
    are read as 720 hourly roll-ups."""
    now = now_ms()
    day = 86_400_000
    batch = []
    for i in range(0, 30 * day, 60_000):  # one sample a minute for 30 days: 43,200 samples
        batch.append(sample(ts=now - 30 * day + i + 1, **{"cpu.percent": 1.0}))
        if len(batch) == 500:
            post(api, batch)
            batch = []
    post(api, batch)

    def requests(path):
        before = sqlite_store.request_count
        out = get(api, path)
        return sqlite_store.request_count - before, out

    hour_cost, hour = requests(f"/api/metrics?host=web-1&metric=cpu.percent&from={now - 3_600_000}&to={now}")
    month_cost, month = requests(f"/api/metrics?host=web-1&metric=cpu.percent&from={now - 30 * day}&to={now}")
    assert hour["resolution"] == "10s" and month["resolution"] == "1h"
    assert len(month["series"][0]["t"]) <= 722
    assert month_cost <= 2 and hour_cost <= 2


def test_a_backlog_batch_gives_the_hosts_real_sampling_interval(api):
    t = now_ms() - 600_000
    post(api, sample(ts=t - 3_600_000))
    post(api, [sample(ts=t + i * 10_000) for i in range(30)])
    host = get(api, "/api/hosts")["hosts"][0]
    assert host["intervalMs"] == 10_000
    assert host["status"] == "offline"  # last sample 5 min ago at a 10 s cadence


def test_metric_reads_say_the_team_time_zone(api):
    post(api, sample())
    assert get(api, "/api/hosts")["timezone"] == "UTC"
    assert get(api, "/api/metrics?host=web-1&metric=cpu.percent")["timezone"] == "UTC"


def test_a_rollup_bucket_that_starts_before_from_still_counts(api):
    minute = (now_ms() // 60_000 - 5) * 60_000
    post(api, sample(ts=minute + 5_000, **{"cpu.percent": 42.0}))
    out = get(api, f"/api/metrics?host=web-1&metric=cpu.percent&from={minute + 30_000}"
                   f"&to={minute + 90_000}&step=60000")
    assert out["series"][0]["t"][0] == minute and out["series"][0]["avg"][0] == 42.0
