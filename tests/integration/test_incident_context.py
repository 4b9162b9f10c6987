"""What no anchor has: an incident's revenue impact from the business roll-ups, what changed in
the hour before it, and the product's one timeline. Real SQLite store, the app through
chalice.test.Client; sales arrive through the ingest API."""
from __future__ import annotations

import json
import time

from alerting_helpers import MIN, fire_load_alert, get, minute_now, post

HOUR, WEEK = 3_600_000, 7 * 86_400_000
LOAD = {"name": "Load high", "kind": "threshold", "source": "metric", "host": "*", "metric": "load.1m",
        "op": ">", "value": 4, "severity": "HIGH", "for": "0s"}


def sell(api, at_ms: int, orders: int, amount: int, tag: str) -> None:
    batch = [{"orderId": f"{tag}-{i}", "productId": "pro", "productName": "Pro", "amount": amount, "currency": "USD",
              "userId": f"u-{i}", "sessionId": f"s-{i}", "timestamp": at_ms + i} for i in range(orders)]
    reply = api.http.post("/api/ingest/purchase", headers={"content-type": "application/json"}, body=json.dumps(batch))
    assert reply.status_code == 200, reply.body


def declare(api) -> dict:
    status, incident = post(api, "/api/incidents", {"title": "Checkout down", "severity": "CRITICAL",
                                                    "service": "checkout"})
    assert status == 201, incident
    return incident


def test_revenue_impact_against_the_same_hour_last_week_with_the_volume_guard(api):
    now = int(time.time() * 1000)
    hour = now - now % HOUR
    sell(api, hour - WEEK, 30, 1_000, "last-week")
    sell(api, hour, 10, 1_000, "now")
    incident = declare(api)
    status, impact = get(api, f"/api/incidents/{incident['id']}/impact")
    assert status == 200, impact
    assert impact["ongoing"] is True and impact["currency"] == "USD" and impact["minOrders"] == 20
    assert (impact["revenue"], impact["revenueBefore"], impact["revenueDelta"]) == (10_000, 30_000, -20_000)
    assert impact["orders"] == 10 and impact["ordersBefore"] == 30 and impact["enoughVolume"] is True


def test_a_quiet_hour_last_week_claims_no_loss(api):
    now = int(time.time() * 1000)
    sell(api, now - now % HOUR - WEEK, 3, 1_000, "quiet")
    incident = declare(api)
    impact = get(api, f"/api/incidents/{incident['id']}/impact")[1]
    assert impact["enoughVolume"] is False and impact["revenueDelta"] == 0
    assert impact["hours"][0]["ordersBefore"] == 3 and impact["hours"][0]["counted"] is False


def test_what_changed_before_lists_the_alert_that_fired_in_the_hour_before(api):
    fire_load_alert(api, LOAD, minutes_ago=20)
    incident = declare(api)
    status, before = get(api, f"/api/incidents/{incident['id']}/before")
    assert status == 200, before
    assert [e["kind"] for e in before["entries"]] == ["alerts"]
    assert before["entries"][0]["title"].startswith("Load high") and before["entries"][0]["link"].startswith("#/alerts")
    assert before["until"] - before["since"] == HOUR


def test_one_timeline_merges_kinds_newest_first_and_filters_them(api):
    t0 = fire_load_alert(api, LOAD, minutes_ago=20)
    incident = declare(api)
    status, feed = get(api, f"/api/timeline?since={t0 - HOUR}")
    assert status == 200, feed
    assert [e["kind"] for e in feed["entries"]] == ["incidents", "alerts"]
    assert feed["entries"][0]["link"] == f"#/incidents?id={incident['id']}"
    only = get(api, f"/api/timeline?since={t0 - HOUR}&kinds=alerts")[1]
    assert [e["kind"] for e in only["entries"]] == ["alerts"]
    assert get(api, f"/api/timeline?since={t0 - HOUR}&until={t0 - 30 * MIN}")[1]["entries"] == []


def test_bad_timeline_queries_are_400(api):
    for query in ("kinds=deploys", "since=yesterday", f"since={minute_now()}&until={minute_now() - 1000}",
                  f"since={minute_now() - 40 * 86_400_000}", "limit=0"):
        status, body = get(api, f"/api/timeline?{query}")
        assert status == 400 and body["error"]["code"] == "invalid_input", query
