"""The product started as `make run` starts it: a real `chalice local` and worker."""
import time


def test_purchases_sent_over_http_show_in_the_kpis(product):
    now = int(time.time() * 1000)
    purchases = [{"orderId": f"rt-{i}", "productId": "pro", "productName": "Pro plan", "amount": 2500,
                  "currency": "USD", "userId": f"u-{i}", "sessionId": f"s-{i}", "timestamp": now - i * 1000}
                 for i in range(12)]
    product.ingest_purchases(purchases)
    product.request("POST", "/api/ingest/purchase", purchases)  # redelivered: no change
    kpis = product.get("/api/kpis?period=24h")
    assert (kpis["revenue"]["value"], kpis["orders"]["value"]) == (30000, 12)
    assert product.get("/api/products?window=24h")["products"][0]["downloads"] == 12


def test_the_worker_runs_the_scheduled_jobs(product):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = {s["job"]: s for s in product.get("/api/system-health")["schedules"]}
        if {"aggregateStats", "dailyRollup"} <= set(runs):
            break
        time.sleep(0.5)
    assert runs["aggregateStats"]["outcome"] == "ok"
    assert runs["dailyRollup"]["outcome"] == "ok"


def test_bad_input_over_http_gets_a_json_400(product):
    status, body = product.request("POST", "/api/ingest/purchase", {"orderId": "x"})
    assert status == 400 and body["error"]["code"] == "invalid_input"
