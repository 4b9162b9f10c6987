"""Business ingest and read benchmarks. Figures are ratios against the raw engine in the same
run, so a busy machine shifts both sides alike. Never run as tests.

    .venv/bin/python -m benchmarks.run --engine sqlite [--large 1000000]
    .venv/bin/python -m benchmarks.run --engine dynamodb   (starts DynamoDB Local itself)
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STORE", "sqlite::memory:")


def purchases(n: int, start: int = 0, now_ms: int | None = None) -> list[dict]:
    now_ms = now_ms or int(time.time() * 1000)
    return [{"orderId": f"b-{i}", "productId": f"p-{i % 40}", "productName": f"Product {i % 40}",
             "amount": 500 + i % 5000, "currency": "USD", "userId": f"u-{i % 20000}",
             "sessionId": f"s-{i // 3}", "timestamp": now_ms - (i * 2_654_435_761) % (29 * 86_400_000)}
            for i in range(start, start + n)]


def live_purchases(n: int, start: int = 0, now_ms: int | None = None) -> list[dict]:
    """Purchases as a live shop sends them: every one within the last 10 minutes, from
    20,000 users, three to a session."""
    now_ms = now_ms or int(time.time() * 1000)
    return [{**event, "timestamp": now_ms - (i * 7_919) % 600_000}
            for i, event in enumerate(purchases(n, start, now_ms), start)]


def open_engine(engine: str, workdir: Path, name: str):
    if engine == "sqlite":
        from chalicelib.storage.sqlite_engine import SqliteStore
        return SqliteStore(str(workdir / f"{name}.db"))
    from chalicelib.storage.dynamodb_engine import DynamoStore
    store = DynamoStore(f"bench-{name}-{int(time.time())}-")
    store.ensure_tables()
    return store


def client_on(store):
    """The app on ``store`` through chalice.test.Client, with the credentials a client has: an
    admin token and an API key with every ingest scope (see benchmarks/access_check.py)."""
    from benchmarks.access_check import signed_in_client
    return signed_in_client(store)


def ingest_ratio(engine: str, workdir: Path, n: int, live: bool) -> dict:
    """Events/s through the API handler vs raw batched writes of the same event items, for
    live traffic (every event in the last 10 minutes) or a backfill (spread over 29 days).
    Each batch of 500 is posted and then raw-written, in turn, so a change in the machine's
    load touches both sides alike."""
    from chalicelib.business import policy, repository_for
    from chalicelib.business.models import Purchase
    label = "live" if live else "backfill"
    events = (live_purchases if live else purchases)(n)
    api_store = open_engine(engine, workdir, f"api-{label}")
    raw_store = open_engine(engine, workdir, f"raw-{label}")
    repo = repository_for(raw_store, policy())
    api_s = raw_s = 0.0
    with client_on(api_store) as client:
        for i in range(0, n, 500):
            batch = events[i:i + 500]
            body = json.dumps(batch)
            started = time.perf_counter()
            reply = client.http.post("/api/ingest/purchase", headers={"content-type": "application/json"},
                                     body=body)
            api_s += time.perf_counter() - started
            assert reply.status_code == 200, reply.body
            items = [repo._event_item(Purchase(**e), 0) for e in batch]
            started = time.perf_counter()
            raw_store.batch_put("events", items)
            raw_s += time.perf_counter() - started
    return {"events": n, "api_events_per_s": round(n / api_s), "raw_items_per_s": round(n / raw_s),
            "api_vs_raw": round(raw_s / api_s, 3)}


def write_cost(engine: str, workdir: Path) -> dict:
    """Store requests and DynamoDB write units per event, live purchases, by batch size.
    Requests are counted on a bare store; write units on a second store through the
    counting wrapper (its own reads of the items before and after would add requests)."""
    from benchmarks.capacity import CapacityCounter
    from chalicelib.business import policy, repository_for
    from chalicelib.business.ingest import record_events
    from chalicelib.business.models import Purchase
    out = {}
    # Half past the hour before last: a batch's ten minutes then lie within one hour, as
    # most do (one crossing an hour writes its hour buckets twice: 6.21 WCU, not 5.78).
    now = int(time.time() * 1000) // 3_600_000 * 3_600_000 - 3_600_000 - 1_800_000
    for size in (1, 25, 500):
        batches = max(4, 2000 // size)
        bare = open_engine(engine, workdir, f"req{size}")
        counted = CapacityCounter(open_engine(engine, workdir, f"wcu{size}"))
        for store in (bare, counted):
            repo = repository_for(store, policy())
            before = store.request_count
            for b in range(batches):
                record_events(repo, [Purchase(**e) for e in live_purchases(size, b * size, now)],
                              policy(), now)
            if store is bare:
                requests = store.request_count - before
        n = batches * size
        out[f"batch_{size}"] = {"store_requests_per_event": round(requests / n, 4),
                                "write_units_per_event": round(counted.write_units / n, 3),
                                "items_written_per_event": round(counted.items_written / n, 3)}
    return out


def raw_kpi_read(store, period: str, now_ms: int) -> int:
    """The range query /api/kpis makes, straight on the engine; returns the items read."""
    from chalicelib.business.queries import _windows
    granularity, current, previous = _windows(period, "UTC", now_ms)
    page = store.query("rollups", f"biz#{granularity}", sk_min=f"{previous[0]:013d}",
                       sk_max=f"{current[-1]:013d}#\uffff", newest_first=False, limit=1000)
    return len(page.items)


def kpi_latency(engine: str, workdir: Path, sizes: list[int]) -> dict:
    """/api/kpis latency with each number of events stored (median of 60 calls, 24h/7d/30d),
    the stores timed in turn, round by round, so a change in the machine's load touches every
    size alike. The read cost is bounded by buckets x shards, not by events: it rises while
    buckets fill and then stays flat; ``items_read_30d`` says how full they are."""
    from chalicelib.business import policy, repository_for
    from chalicelib.business.ingest import record_events
    from chalicelib.business.models import Purchase
    from chalicelib.storage import use_store
    now = int(time.time() * 1000)
    stores = {}
    for n in sizes:
        store = open_engine(engine, workdir, f"kpi{n}")
        repo = repository_for(store, policy())
        for i in range(0, n, 500):
            record_events(repo, [Purchase(**e) for e in purchases(min(500, n - i), i, now)], policy(), now)
        stores[n] = store
    timings = {n: [] for n in sizes}
    raw = {n: [] for n in sizes}
    requests = {n: 0 for n in sizes}
    items = {}
    with contextlib.ExitStack() as stack:
        clients = {n: stack.enter_context(client_on(stores[n])) for n in sizes}
        for period in ["24h", "7d", "30d"] * 20:
            for n in sizes:
                use_store(stores[n])  # the app's store is per process: this round's
                before = stores[n].request_count
                started = time.perf_counter()
                assert clients[n].http.get(f"/api/kpis?period={period}").status_code == 200
                timings[n].append(time.perf_counter() - started)
                requests[n] = max(requests[n], stores[n].request_count - before)
                started = time.perf_counter()  # the same range read, on the bare engine
                items[n] = raw_kpi_read(stores[n], period, now)
                raw[n].append(time.perf_counter() - started)
    result = {}
    for n in sizes:
        api_ms, raw_ms = statistics.median(timings[n]) * 1000, statistics.median(raw[n]) * 1000
        result[f"events_{n}"] = {"median_ms": round(api_ms, 2), "raw_read_median_ms": round(raw_ms, 2),
                                 "api_vs_raw_read": round(api_ms / raw_ms, 2),
                                 "store_requests": requests[n], "items_read_30d": items[n]}
    a, b = result[f"events_{sizes[0]}"], result[f"events_{sizes[-1]}"]
    result["largest_vs_smallest"] = round(b["median_ms"] / a["median_ms"], 2)
    return result


@contextlib.contextmanager
def engine_workdir(engine: str):
    """A scratch directory, and for DynamoDB a DynamoDB Local started for the run (and stopped)."""
    local = None
    if engine == "dynamodb":
        sys.path.insert(0, str(ROOT / "tests"))
        import dynamodb_local
        local = dynamodb_local.start()
        os.environ.update(AWS_ENDPOINT_URL_DYNAMODB=local.endpoint, AWS_ACCESS_KEY_ID="local",
                          AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION="us-east-1")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            yield Path(tmp)
    finally:
        if local is not None:
            local.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "dynamodb"], default="sqlite")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--sizes", default="1000,100000,1000000",
                        help="numbers of stored events to time /api/kpis with")
    args = parser.parse_args()
    with engine_workdir(args.engine) as workdir:
        report = {"engine": args.engine,
                  "ingest_live": ingest_ratio(args.engine, workdir, args.events, live=True),
                  "ingest_backfill": ingest_ratio(args.engine, workdir, args.events, live=False),
                  "write_cost_live": write_cost(args.engine, workdir),
                  "kpis": kpi_latency(args.engine, workdir, [int(n) for n in args.sizes.split(",")])}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
