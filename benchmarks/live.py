"""Live push (issue 14): what a pushed notice buys over polling. Never run as a test.

    .venv/bin/python -m benchmarks.live [--purchases 50] [--idle-s 60] [--connections 100]

1. **Purchase → Overview**: the product started as `make run` does (the e2e tests' ``Product``:
   the runner on a free loopback port, a temporary SQLite store, no synthetic traffic), the
   Overview open in headless Chromium as a signed-in viewer; per purchase, the time from
   ``POST /api/ingest/purchase`` returning to the Overview's order count showing it, pushed
   (the page "live") and polled (the page's WebSocket refused by Playwright, so it polls as
   when the server is down).
2. **Idle dashboard**: HTTP requests per minute of one open Overview with nothing happening,
   pushed versus polled.
3. **Fan-out**: the push handler, in process, with ``--connections`` WebSocket clients
   subscribed to ``kpis`` on the local WebSocket API: handler time per batch (one notice to
   every subscriber, its ETag computed from the store) and notices delivered per second.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def purchase(order_id: str) -> dict:
    return {"orderId": order_id, "productId": "p-1", "productName": "Plan", "amount": 100, "currency": "USD",
            "userId": f"u-{order_id}", "sessionId": f"s-{order_id}", "timestamp": int(time.time() * 1000) - 1000}


def browser_figures(purchases: int, idle_s: float, spread_s: float) -> dict:
    from conftest import CHROMIUM_ARGS, Product, complete_sign_in, free_port
    from playwright.sync_api import sync_playwright
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        product = Product(Path(tmp) / "data", ROOT / "static-site" / "dist", free_port())
        product.data_dir.mkdir()
        product.start()
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            product.ingest_purchases([purchase("warm-up")])
            orders = 1
            for mode in ("pushed", "polled"):
                context = browser.new_context(locale="en-US", timezone_id="UTC")
                page = context.new_page()
                if mode == "polled":  # the socket refused at once, as with the server down
                    page.route_web_socket(re.compile(".*"), lambda ws: ws.close())
                page.goto(product.base_url + "/")
                complete_sign_in(page, "viewer")
                state = "live" if mode == "pushed" else "polling"
                page.wait_for_selector(f'[data-testid="live-indicator"][data-state="{state}"]')
                page.wait_for_function("n => document.querySelector('[data-testid=kpi-orders]')?.textContent === n",
                                       arg=str(orders))
                # Idle: nothing is sent; count the page's HTTP requests.
                if idle_s:
                    requests: list[str] = []
                    page.on("request", lambda r: requests.append(r.url))
                    page.wait_for_timeout(idle_s * 1000)
                    results[f"idle requests/min, {mode}"] = len(requests) * 60 / idle_s
                latencies = []
                rng = random.Random(14)
                for i in range(purchases):
                    # Purchases arrive at random moments, not in step with the page's polls or
                    # the worker's ticks (posting right after an update would phase-lock to them).
                    page.wait_for_timeout(rng.uniform(0, spread_s) * 1000)
                    orders += 1
                    product.ingest_purchases([purchase(f"{mode}-{i}")])
                    posted = time.monotonic()
                    page.wait_for_function(
                        "n => document.querySelector('[data-testid=kpi-orders]')?.textContent === n",
                        arg=str(orders), polling="raf", timeout=30_000)
                    latencies.append((time.monotonic() - posted) * 1000)
                results[f"purchase → Overview ms, {mode}"] = {
                    "median": statistics.median(latencies), "p95": p95(latencies), "max": max(latencies)}
                context.close()
        finally:
            browser.close()
            product.stop()
    return results


def fanout_figures(connections: int, batches: int) -> dict:
    import os
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STORE"] = f"sqlite:{tmp}/store.db"
        os.environ.setdefault("TEAM_TIMEZONE", "UTC")
        from loopback_issuer import LoopbackIssuer
        issuer = LoopbackIssuer.start(Path(tmp) / "issuer")
        from app import app
        from chalicelib.auth import AccessGate, repository, use_gate
        from chalicelib.storage import default_store
        from chalicelib.storage.interface import Change
        from chalicelib.local.websocket import LocalWebSocketApi
        from chalicelib.local.worker import LambdaContext, local_stream_arn, stream_record
        from chalicelib.config import settings
        default_store().ensure_tables()
        use_gate(AccessGate(issuer.settings(), repository))
        import socket

        def port() -> int:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                return s.getsockname()[1]
        server = LocalWebSocketApi(app, "127.0.0.1", port(), port())
        server.start()
        received = [0]
        ready = threading.Event()
        done = threading.Event()
        expected = connections * batches

        async def clients():
            from websockets.asyncio.client import connect
            url = f"ws://127.0.0.1:{server.port}/?token={issuer.token('viewer')}"
            sockets = [await connect(url) for _ in range(connections)]
            for ws in sockets:
                await ws.send(json.dumps({"action": "subscribe", "topics": ["kpis"]}))
                await ws.recv()

            async def count(ws):
                async for _m in ws:
                    received[0] += 1
                    if received[0] >= expected:
                        done.set()
            readers = [asyncio.create_task(count(ws)) for ws in sockets]
            ready.set()
            while not done.is_set():
                await asyncio.sleep(0.05)
            for ws in sockets:
                await ws.close()
            for r in readers:
                r.cancel()
        thread = threading.Thread(target=lambda: asyncio.run(clients()), daemon=True)
        thread.start()
        ready.wait(120)
        handler = app.handler_map["pushEvents"]
        arn = local_stream_arn(settings().table_prefix + "events")
        times = []
        started = time.perf_counter()
        for b in range(batches):
            records = [stream_record(Change("events", "INSERT", {"pk": f"purchase#b{b}-{i}", "sk": "e"},
                                            {"pk": f"purchase#b{b}-{i}", "sk": "e", "amount": 100}, None, f"{b:08d}{i:04d}"), arn)
                       for i in range(100)]
            t0 = time.perf_counter()
            handler({"Records": records}, LambdaContext("pushEvents"))
            times.append((time.perf_counter() - t0) * 1000)
        done.wait(120)
        elapsed = time.perf_counter() - started
        server.stop()
        issuer.stop()
        return {"connections": connections, "batches of 100 records": batches,
                "handler ms per batch": {"median": statistics.median(times), "p95": p95(times)},
                "notices delivered": received[0], "notices/s": received[0] / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=50)
    parser.add_argument("--idle-s", type=float, default=60)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--spread-s", type=float, default=5.0,
                        help="each purchase waits a random 0..spread seconds first")
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    results = {} if args.skip_browser else browser_figures(args.purchases, args.idle_s, args.spread_s)
    results["fan-out"] = fanout_figures(args.connections, args.batches)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
