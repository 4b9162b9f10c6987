"""The business API through chalice.test.Client, on a real SQLite store (and on DynamoDB Local
where marked with the ``any_store`` fixture)."""
import json
import threading
import time

import pytest

from chalicelib.business import policy, repository_for
from chalicelib.business.ingest import record_events
from chalicelib.business.models import Purchase
from chalicelib.storage import TransactionCancelled

JSON = {"content-type": "application/json"}


def now_ms() -> int:
    return int(time.time() * 1000)


def purchase(i: int = 1, **kw) -> dict:
    base = {"orderId": f"o-{i}", "productId": f"p-{i % 3}", "productName": f"Product {i % 3}",
            "amount": 1000 + i, "currency": "USD", "userId": f"u-{i % 4}", "sessionId": f"s-{i % 5}",
            "timestamp": now_ms() - 60_000}
    return {**base, **kw}


def post(api, kind: str, body) -> tuple[int, dict]:
    reply = api.http.post(f"/api/ingest/{kind}", headers=JSON,
                          body=body if isinstance(body, (str, bytes)) else json.dumps(body))
    return reply.status_code, json.loads(reply.body) if reply.body else {}


def get(api, path: str) -> dict:
    reply = api.http.get(path)
    assert reply.status_code == 200, reply.body
    return json.loads(reply.body)


def totals(api) -> tuple[int, int]:
    kpis = get(api, "/api/kpis?period=24h")
    return kpis["revenue"]["value"], kpis["orders"]["value"]


# -- ingest -----------------------------------------------------------------------------------
def test_a_purchase_shows_in_the_kpis(api):
    assert post(api, "purchase", purchase(1, amount=1999)) == (200, {"accepted": 1, "duplicates": 0, "refused": []})
    kpis = get(api, "/api/kpis?period=24h")
    assert kpis["revenue"] == {"value": 1999, "previous": 0, "change": None}
    assert kpis["orders"]["value"] == 1 and kpis["aov"]["value"] == 1999
    assert kpis["currency"] == "USD" and kpis["period"] == "24h"


def test_redelivered_purchase_is_counted_once(api):
    post(api, "purchase", purchase(1))
    status, body = post(api, "purchase", purchase(1))
    assert (status, body["accepted"], body["duplicates"]) == (200, 0, 1)
    assert totals(api) == (1001, 1)


def test_a_batch_sent_again_after_a_timeout_changes_nothing(api):
    batch = [purchase(i) for i in range(300)]
    post(api, "purchase", batch)
    before = (totals(api), get(api, "/api/users"), get(api, "/api/products?window=24h"))
    status, body = post(api, "purchase", batch)
    assert (status, body["accepted"], body["duplicates"]) == (200, 0, 300)
    assert (totals(api), get(api, "/api/users"), get(api, "/api/products?window=24h")) == before


def test_duplicates_inside_one_batch_count_once(api):
    status, body = post(api, "purchase", [purchase(7), purchase(7), purchase(8)])
    assert (status, body["accepted"], body["duplicates"]) == (200, 2, 1)
    assert totals(api)[1] == 2


def test_a_batch_keeps_the_good_events_and_names_the_refused_ones(api):
    status, body = post(api, "purchase", [purchase(1), purchase(2, amount=19.99), purchase(3, currency="EUR"),
                                          purchase(4)])
    assert status == 207 and body["accepted"] == 2
    refused = {r["index"]: r["errors"] for r in body["refused"]}
    assert set(refused) == {1, 2}
    assert refused[1][0]["field"] == "amount"
    assert refused[2][0]["field"] == "currency" and "USD" in refused[2][0]["message"]
    assert totals(api)[1] == 2


@pytest.mark.parametrize("body, field", [
    (purchase(1, amount=19.99), "amount"),
    (purchase(1, amount=-5), "amount"),
    (purchase(1, amount="1999"), "amount"),
    (purchase(1, currency="EUR"), "currency"),
    # Computed when the module is collected: a day ahead stays "more than 5 minutes in the
    # future" however long a loaded machine takes to reach the test.
    (purchase(1, timestamp=now_ms() + 86_400_000), "timestamp"),
    (purchase(1, timestamp=now_ms() - 500 * 86_400_000), "timestamp"),
    (purchase(1, timestamp=int(time.time())), "timestamp"),
    (purchase(1, timestamp="2026-11-23T10:00:00"), "timestamp"),
    (purchase(1, orderId=""), "orderId"),
    (purchase(1, amout=5), "amout"),
    ({k: v for k, v in purchase(1).items() if k != "userId"}, "userId"),
])
def test_a_bad_purchase_gets_400_naming_the_field_and_changes_nothing(api, body, field):
    status, reply = post(api, "purchase", body)
    assert status == 400
    assert reply["error"]["code"] == "invalid_input"
    assert field in [d["field"] for d in reply["error"]["details"]]
    assert totals(api) == (0, 0)


@pytest.mark.parametrize("raw, words", [
    ("{not json", "not valid JSON"), ("", "needs a JSON body"), ("42", "JSON object"),
    ("[]", "empty"), (json.dumps([purchase(i) for i in range(501)]), "at most 500"),
    ("[1, 2]", "refused"),
])
def test_an_unusable_body_gets_400_and_changes_nothing(api, raw, words):
    status, reply = post(api, "purchase", raw)
    assert status == 400 and words in json.dumps(reply)
    assert set(reply["error"]) == {"code", "message", "details"}
    assert totals(api) == (0, 0)


def test_pageviews_and_events_are_validated_too(api):
    assert post(api, "pageview", {"eventId": "e1", "page": "/", "timestamp": now_ms()})[0] == 400
    assert post(api, "event", {"eventId": "e1", "name": "x", "userId": "u", "timestamp": now_ms(),
                               "properties": {"nested": {"no": 1}}})[0] == 400
    assert post(api, "event", {"eventId": "e1", "name": "x", "userId": "u", "timestamp": now_ms(),
                               "feature": "bad feature!"})[0] == 400


def test_an_event_and_its_rollups_are_written_all_or_nothing(sqlite_store):
    """A crash in the middle of a batch leaves each event either fully counted or not at all,
    and sending the batch again completes it without counting anything twice."""
    p = policy()
    repo = repository_for(sqlite_store, p)
    events = [Purchase(**purchase(i, userId=f"u-{i}", sessionId=f"s-{i}")) for i in range(120)]
    real = sqlite_store.transact
    calls = {"n": 0}

    def crash_on_second_transaction(ops):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real(ops)

    sqlite_store.transact = crash_on_second_transaction
    with pytest.raises(RuntimeError):
        record_events(repo, events, p, now_ms())
    sqlite_store.transact = real
    stored = len(repo.stored_event_keys(e.key for e in events))
    day = repo.counters("biz", "d", 0, 9_999_999_999_999)
    assert 0 < stored < 120
    assert sum(c.get("orders", 0) for c in day.values()) == stored
    accepted, duplicates = record_events(repo, events, p, now_ms())
    assert (accepted, duplicates) == (120 - stored, stored)
    day = repo.counters("biz", "d", 0, 9_999_999_999_999)
    assert sum(c.get("orders", 0) for c in day.values()) == 120
    assert sum(c.get("revenue", 0) for c in day.values()) == sum(e.amount for e in events)


def test_concurrent_deliveries_of_the_same_batch_count_it_once(tmp_path):
    from chalicelib.storage.sqlite_engine import SqliteStore
    path = str(tmp_path / "shared.db")
    p = policy()
    batch = [Purchase(**purchase(i)) for i in range(200)]
    results = []

    def deliver():
        store = SqliteStore(path)  # its own connection, as another process would have
        results.append(record_events(repository_for(store, p), batch, p, now_ms()))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(a for a, _d in results) == 200
    assert sum(d for _a, d in results) == 600
    repo = repository_for(SqliteStore(path), p)
    day = repo.counters("biz", "d", 0, 9_999_999_999_999)
    assert sum(c.get("orders", 0) for c in day.values()) == 200


def test_a_conflict_with_another_writer_is_retried_not_lost(sqlite_store):
    p = policy()
    repo = repository_for(sqlite_store, p)
    real, calls = sqlite_store.transact, {"n": 0}

    def conflict_once(ops):
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransactionCancelled([0])
        return real(ops)

    sqlite_store.transact = conflict_once
    assert record_events(repo, [Purchase(**purchase(1))], p, now_ms()) == (1, 0)
    sqlite_store.transact = real
    assert calls["n"] == 2


# -- reads ------------------------------------------------------------------------------------
def test_users_metrics_count_distinct_users_sessions_and_features(api):
    # Every event must fall in today (UTC, the tests' team time zone): DAU counts today's users.
    day_ms = 86_400_000
    if now_ms() % day_ms < 125_000:  # the first two minutes of a day: wait for room
        time.sleep((125_000 - now_ms() % day_ms) / 1000)
    now = now_ms()
    t = max(now - 30 * 60_000, now - now % day_ms + 1_000)
    post(api, "pageview", [
        {"eventId": "v1", "sessionId": "s1", "userId": "u1", "page": "/", "timestamp": t},
        {"eventId": "v2", "sessionId": "s1", "userId": "u1", "page": "/a", "timestamp": t + 120_000},
        {"eventId": "v3", "sessionId": "s2", "userId": "u2", "page": "/", "timestamp": t},
        {"eventId": "v4", "sessionId": "s3", "page": "/", "timestamp": t},
    ])
    post(api, "event", [
        {"eventId": "f1", "name": "export.used", "userId": "u1", "feature": "export", "timestamp": t},
        {"eventId": "f2", "name": "export.used", "userId": "u1", "feature": "export", "timestamp": t + 1},
    ])
    users = get(api, "/api/users")
    assert (users["dau"], users["mau"], users["sessions"]) == (2, 2, 3)
    assert users["avgSessionDurationMs"] == 40_000  # (120 s + 0 + 0) / 3
    assert users["featureAdoption"] == [{"feature": "export", "users": 1, "share": 0.5}]


def test_revenue_trend_puts_last_weeks_same_weekday_beside_each_day(api):
    post(api, "purchase", [purchase(1, amount=500, timestamp=now_ms() - 60_000),
                           purchase(2, amount=300, timestamp=now_ms() - 7 * 86_400_000)])
    days = get(api, "/api/revenue?weeks=2")["days"]
    assert len(days) == 14
    assert days[-1]["revenue"] == 500 and days[-1]["previousWeek"] == 300
    assert days[-8]["revenue"] == 300
    assert [d["date"] for d in days] == sorted(d["date"] for d in days)


def test_top_products_rank_by_downloads_with_revenue(api):
    post(api, "purchase", [purchase(i, productId="a" if i < 3 else "b", productName="A" if i < 3 else "B",
                                    amount=100) for i in range(5)])
    products = get(api, "/api/products?limit=1&window=24h")["products"]
    assert products == [{"productId": "a", "productName": "A", "downloads": 3, "revenue": 300}]


@pytest.mark.parametrize("path", ["/api/kpis?period=1y", "/api/revenue?weeks=0", "/api/revenue?weeks=x",
                                  "/api/products?limit=1000", "/api/products?window=2h"])
def test_bad_query_parameters_get_400(api, path):
    reply = api.http.get(path)
    assert reply.status_code == 400
    assert json.loads(reply.body)["error"]["code"] == "invalid_input"


def test_an_unchanged_answer_is_304_not_modified(api):
    post(api, "purchase", purchase(1))
    first = api.http.get("/api/kpis")
    again = api.http.get("/api/kpis", headers={"if-none-match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.body
    post(api, "purchase", purchase(2))
    changed = api.http.get("/api/kpis", headers={"if-none-match": first.headers["ETag"]})
    assert changed.status_code == 200


def test_dashboard_reads_cost_the_same_whatever_the_events_stored(api, sqlite_store):
    def cost(path):
        before = sqlite_store.request_count
        get(api, path)
        return sqlite_store.request_count - before

    paths = ["/api/kpis?period=24h", "/api/kpis?period=30d", "/api/users", "/api/products",
             "/api/revenue?weeks=4"]
    post(api, "purchase", purchase(1))
    small = [cost(p) for p in paths]
    for chunk in range(4):
        post(api, "purchase", [purchase(i, timestamp=now_ms() - (i % 50) * 3_600_000)
                               for i in range(chunk * 500, chunk * 500 + 500)])
    assert [cost(p) for p in paths] == small
    assert max(small) <= 3


def test_daily_stats_job_writes_value_previous_and_change(api, sqlite_store):
    from chalicelib.local.worker import scheduled_event
    post(api, "purchase", purchase(1, amount=2000))
    api.lambda_.invoke("aggregateStats", scheduled_event("aggregateStats", time.time()))
    health = get(api, "/api/system-health")
    assert [s["job"] for s in health["schedules"]] == ["aggregateStats"]
    assert health["schedules"][0]["outcome"] == "ok"
    today = time.strftime("%Y-%m-%d", time.gmtime())
    stat = sqlite_store.get("stats", "stat#revenue", today)
    assert (stat["value"], stat["previousValue"], stat["change"]) == (2000, 0, None)


def test_health_needs_nothing_and_says_ok(api):
    assert get(api, "/api/health") == {"status": "ok"}


def test_today_is_drawn_so_far_against_last_weeks_same_time_of_day(sqlite_store):
    """Early in the day, today's few sales are compared with last week's same day by the same
    time, not with its whole day: today is marked partial. Last week is read from hourly
    roll-ups (the finest kept a week): whole hours, and the elapsed share of the current one."""
    from datetime import datetime, timezone

    from chalicelib.business import queries
    p = policy()
    repo = repository_for(sqlite_store, p)
    now = int(datetime(2026, 11, 23, 2, 45, 30, tzinfo=timezone.utc).timestamp() * 1000)
    week, minute = 7 * 86_400_000, 60_000
    events = [Purchase(**purchase(1, amount=700, timestamp=now - 30 * minute)),              # today 02:15
              Purchase(**purchase(2, amount=400, timestamp=now - week - 135 * minute)),      # a week ago 00:30
              Purchase(**purchase(3, amount=600, timestamp=now - week - 35 * minute)),       # a week ago 02:10
              Purchase(**purchase(4, amount=5000, timestamp=now - week + 60 * minute))]      # a week ago 03:45
    record_events(repo, events, p, now)
    trend = queries.revenue_trend(repo, p, None, now)
    today = trend["days"][-1]
    assert (today["date"], today["revenue"], today["partial"]) == ("2026-11-23", 700, True)
    assert today["previousWeek"] == 6000  # the whole day, as for every day
    assert today["previousWeekSoFar"] == 400 + 450  # by 02:45: 00:00-02:00, and 45/60 of 02:00-03:00
    assert trend["asOf"] == now - 30_000  # this minute
    assert not any("partial" in d for d in trend["days"][:-1])
