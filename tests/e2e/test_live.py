"""Live updates in a real browser against the product as `make run` starts it: a purchase
reaches the Overview through a pushed notice, not a poll; with the WebSocket server gone the
page says "polling" and keeps up by polling, and it is "live" again once the server is back."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def purchase(order_id: str, amount: int) -> dict:
    return {"orderId": order_id, "productId": "p-pro", "productName": "Pro plan", "amount": amount,
            "currency": "USD", "userId": f"u-{order_id}", "sessionId": f"s-{order_id}",
            "timestamp": int(time.time() * 1000) - 1000}


def watch_traffic(page) -> list[tuple]:
    """The page's API requests and WebSocket frames received, in the order they happened."""
    log: list[tuple] = []
    page.on("request", lambda r: "/api/kpis" in r.url and log.append(("kpis-request", r.url)))

    def on_socket(ws):
        ws.on("framereceived", lambda payload: log.append(("frame", payload)))
    page.on("websocket", on_socket)
    return log


def notices(log: list[tuple]) -> list[dict]:
    found = []
    for kind, payload in log:
        if kind == "frame":
            message = json.loads(payload)
            if message.get("type") == "changed":
                found.append(message)
    return found


def test_a_purchase_reaches_the_overview_by_push_and_polling_covers_a_websocket_outage(product, signed_in_page, metrics):
    product.ingest_purchases([purchase("o-1", 1000)])
    page = signed_in_page("viewer")
    log = watch_traffic(page)
    page.reload()  # so the socket opened after the watch began; the sign-in session signs in again
    indicator = page.get_by_test_id("live-indicator")
    expect(indicator).to_have_attribute("data-state", "live")
    expect(indicator).to_have_text("live")
    expect(page.get_by_test_id("kpi-orders")).to_have_text("1")
    expect(page.get_by_test_id("as-of")).to_contain_text("updates pushed as they happen")

    # A purchase: the new revenue is on the page, fetched because a notice said so.
    log.clear()
    posted = time.monotonic()
    product.ingest_purchases([purchase("o-2", 2500)])
    expect(page.get_by_test_id("kpi-orders")).to_have_text("2")
    expect(page.get_by_test_id("kpi-revenue")).to_have_text("$35.00")
    metrics["purchase → Overview, pushed (ms, loopback, one sample)"] = (time.monotonic() - posted) * 1000
    first_request = next(i for i, (kind, _p) in enumerate(log) if kind == "kpis-request")
    before = [m for m in notices(log[:first_request]) if m["topic"] == "kpis"]
    assert before, f"the Overview asked for /api/kpis before any notice (a poll): {log}"
    assert before[0]["etag"].startswith('"')

    # The WebSocket server goes away: the page says "polling" and polls.
    ws_pid = product.server_pid("chalicelib.local.websocket")
    os.kill(ws_pid, signal.SIGKILL)
    expect(indicator).to_have_attribute("data-state", "polling", timeout=15_000)
    expect(indicator).to_have_text("polling")
    expect(page.get_by_test_id("as-of")).to_contain_text("refreshes every 5 s")
    log.clear()
    product.ingest_purchases([purchase("o-3", 500)])
    expect(page.get_by_test_id("kpi-orders")).to_have_text("3", timeout=20_000)

    # The runner starts it again; the page reconnects by itself and is live again.
    expect(indicator).to_have_attribute("data-state", "live", timeout=60_000)
    assert product.server_pid("chalicelib.local.websocket") != ws_pid
    log.clear()
    product.ingest_purchases([purchase("o-4", 500)])
    expect(page.get_by_test_id("kpi-orders")).to_have_text("4", timeout=20_000)
    first_request = next(i for i, (kind, _p) in enumerate(log) if kind == "kpis-request")
    assert any(m["topic"] == "kpis" for m in notices(log[:first_request])), log


def test_the_websocket_refuses_a_connection_without_a_valid_token(product):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect
    for query in ("", "?token=not-a-token"):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://127.0.0.1:{product.ws_port}/{query}")
        assert refused.value.response.status_code == 401
    with connect(f"ws://127.0.0.1:{product.ws_port}/?token={product.token('viewer')}") as ws:
        ws.send(json.dumps({"action": "subscribe", "topics": ["kpis", "notifications"]}))
        reply = json.loads(ws.recv(timeout=20))
    assert reply["topics"] == ["kpis"] and reply["refused"][0]["topic"] == "notifications"
