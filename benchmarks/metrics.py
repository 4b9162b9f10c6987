"""Metrics ingest and query benchmarks, as ratios against the raw engine in the same run.

    .venv/bin/python -m benchmarks.metrics [--engine sqlite|dynamodb] [--samples 20000]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from benchmarks.run import client_on, engine_workdir, open_engine

DAY = 86_400_000


def samples(n: int, hosts: int = 20, start_ms: int | None = None, step_ms: int = 10_000) -> list[dict]:
    start_ms = start_ms or int(time.time() * 1000) - n // hosts * step_ms - 60_000
    values = {f"cpu.core.{i}.percent": 10.0 + i for i in range(4)}
    values.update({"cpu.percent": 12.5, "mem.used_percent": 48.1, "net.rx_bytes_per_s": 2048.0,
                   "net.tx_bytes_per_s": 1024.0, "disk.root.used_percent": 61.0, "load.1m": 0.4})
    return [{"host": f"h{i % hosts}", "kind": "vm", "timestamp": start_ms + (i // hosts) * step_ms,
             "values": values} for i in range(n)]


def ingest_ratio(engine: str, workdir: Path, n: int) -> dict:
    """Samples/s through ``POST /api/metrics`` vs raw batched writes of the same sample items,
    each batch of 500 posted and then raw-written in turn (load drift touches both alike)."""
    from chalicelib.metrics.repository import raw_key
    batch = samples(n)
    store = open_engine(engine, workdir, "mapi")
    raw = open_engine(engine, workdir, "mraw")
    api_s = raw_s = 0.0
    with client_on(store) as client:
        before = store.request_count
        for i in range(0, n, 500):
            body = json.dumps(batch[i:i + 500])
            started = time.perf_counter()
            reply = client.http.post("/api/metrics", headers={"content-type": "application/json"},
                                     body=body)
            api_s += time.perf_counter() - started
            assert reply.status_code == 200, reply.body
            items = [{"pk": raw_key(s["host"], s["kind"], s["timestamp"])[0],
                      "sk": raw_key(s["host"], s["kind"], s["timestamp"])[1], "values": s["values"]}
                     for s in batch[i:i + 500]]
            started = time.perf_counter()
            raw.batch_put("metrics", items)
            raw_s += time.perf_counter() - started
        per_sample = (store.request_count - before) / n
    return {"samples": n, "api_samples_per_s": round(n / api_s), "raw_items_per_s": round(n / raw_s),
            "api_vs_raw": round(raw_s / api_s, 3), "store_requests_per_sample_batch_500": round(per_sample, 3)}


def write_cost(engine: str, workdir: Path, n: int = 2000) -> dict:
    """DynamoDB write units and items per sample, 20 hosts live, batches of 500 (see
    benchmarks/capacity.py)."""
    from benchmarks.capacity import CapacityCounter
    from chalicelib.metrics.ingest import record_samples
    from chalicelib.metrics.models import MetricSample
    from chalicelib.metrics.repository import MetricsRepository
    store = CapacityCounter(open_engine(engine, workdir, "mwcu"))
    repo = MetricsRepository(store, 90 * DAY)
    batch = samples(n)
    for i in range(0, n, 500):
        record_samples(repo, [MetricSample(**s) for s in batch[i:i + 500]])
    return {"samples": n, "write_units_per_sample": round(store.write_units / n, 3),
            "items_written_per_sample": round(store.items_written / n, 3)}


def query_cost(engine: str, workdir: Path, days: int = 30, sparse: bool = False) -> dict:
    """/api/metrics for 1 hour vs ``days`` days of one host sampled every 10 s (30 days:
    259,200 samples). ``sparse``: every 10 s for the last 2 hours only, every 5 minutes
    before, which fills the same hourly roll-up items the long read reads (its cost is the
    items it reads, not the samples behind them) in a tenth of the loading time."""
    store = open_engine(engine, workdir, "mq")
    now = int(time.time() * 1000)
    with client_on(store) as client:
        if sparse:
            recent = now - 2 * 3_600_000
            data = [s for s in samples(days * DAY // 10_000, hosts=1, start_ms=now - days * DAY)
                    if s["timestamp"] >= recent or s["timestamp"] % 300_000 < 10_000]
        else:
            data = samples(days * DAY // 10_000, hosts=1, start_ms=now - days * DAY)
        for i in range(0, len(data), 500):
            assert client.http.post("/api/metrics", headers={"content-type": "application/json"},
                                    body=json.dumps(data[i:i + 500])).status_code == 200
        spans = {"1h": 3_600_000, f"{days}d": days * DAY}
        timings = {label: [] for label in spans}
        reqs = {label: 0 for label in spans}
        points = {}
        for _ in range(40):  # the two reads in turn, so a change in load touches both alike
            for label, span in spans.items():
                before, started = store.request_count, time.perf_counter()
                reply = client.http.get(f"/api/metrics?host=h0&metric=cpu.percent&from={now - span}&to={now}")
                timings[label].append(time.perf_counter() - started)
                reqs[label] = max(reqs[label], store.request_count - before)
                assert reply.status_code == 200
                points[label] = len(json.loads(reply.body)["series"][0]["t"])
        out = {label: {"median_ms": round(statistics.median(timings[label]) * 1000, 2),
                       "store_requests": reqs[label], "points": points[label]} for label in spans}
        out[f"{days}d_vs_1h"] = round(out[f"{days}d"]["median_ms"] / out["1h"]["median_ms"], 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "dynamodb"], default="sqlite")
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--query-days", type=int, default=30, help="days of one host to query")
    parser.add_argument("--sparse-history", action="store_true",
                        help="older samples every 5 minutes (same roll-up items, faster to load)")
    args = parser.parse_args()
    with engine_workdir(args.engine) as workdir:
        report = {"engine": args.engine, "ingest": ingest_ratio(args.engine, workdir, args.samples),
                  "write_cost": write_cost(args.engine, workdir),
                  "query": query_cost(args.engine, workdir, args.query_days, args.sparse_history)}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
