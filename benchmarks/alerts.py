"""Alert evaluation: time and store requests per evaluation for 10, 100 and 1,000 rule × series
pairs (10 rules on host metrics × 1, 10, 100 hosts), each with a little and with much more
metric history stored. Cost must follow pairs, never data stored. Never run as a test.

    .venv/bin/python -m benchmarks.alerts [--engine sqlite|dynamodb] [--pairs 10,100,1000]
                                          [--history-minutes 360]

Per size: the median of 15 steady evaluations (every series inside its threshold: reads only,
plus one mark per rule), the first evaluation with every series over its threshold (each
opens an alert and is written) and, as the raw baseline of the same run, the same store
requests as a steady evaluation made straight on the bare engine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from benchmarks.run import engine_workdir, open_engine

MIN = 60_000
METRICS = [f"bench.m{i}" for i in range(10)]


def samples(hosts: int, at_ms: int, value: float) -> list[dict]:
    return [{"host": f"h{h:04d}", "kind": "vm", "timestamp": at_ms, "values": {m: value for m in METRICS}}
            for h in range(hosts)]


def write(store, batch: list[dict]) -> None:
    from chalicelib.metrics import retention_ms
    from chalicelib.metrics.ingest import record_samples
    from chalicelib.metrics.models import MetricSample
    from chalicelib.metrics.repository import MetricsRepository
    repo = MetricsRepository(store, retention_ms())
    for i in range(0, len(batch), 500):
        record_samples(repo, [MetricSample.model_validate(s) for s in batch[i:i + 500]])


def setup(store, hosts: int, history_minutes: int, start: int) -> None:
    from chalicelib.alerts.defaults import install_default_rules
    from chalicelib.alerts.repository import AlertsRepository
    from chalicelib.alerts.models import parse_rule
    repo = AlertsRepository(store, 30 * 86_400_000)
    install_default_rules(repo, start)
    for rule in repo.rules():  # only the benchmark's rules
        repo.delete_rule(rule["id"])
    for i, metric in enumerate(METRICS):
        body = parse_rule({"name": f"bench {i}", "kind": "threshold", "source": "metric", "metric": metric,
                           "op": ">", "value": 90, "for": "0s", "severity": "LOW"}).as_json()
        repo.create_rule(f"bench-{i}", body, "bench", start)
    # History: every host every 10 s for ``history_minutes`` before the first evaluation.
    for m in range(history_minutes):
        write(store, [s for step in range(0, MIN, 10_000)
                      for s in samples(hosts, start - (history_minutes - m) * MIN + step, 10.0)])


def bare_requests(store, minute: int) -> float:
    """The store requests a steady evaluation makes, straight on the engine (ms)."""
    started = time.perf_counter()
    rules = store.query("alerts", "rule", newest_first=False, limit=500).items
    store.get_many("alerts", [("evaluated", r["sk"]) for r in rules])
    store.query("notifications", "channel", newest_first=False, limit=500)
    store.query("alerts", "silence", newest_first=False, limit=500)
    store.query("metrics", "hosts", newest_first=False, limit=500)
    for rule in rules:
        store.query("alerts", f"open#{rule['sk']}", newest_first=False, limit=500)
        store.put("alerts", {"pk": "evaluated", "sk": rule["sk"], "minute": minute}, if_absent=False)
    store.query("alerts", "outbox", newest_first=False, limit=100)
    return (time.perf_counter() - started) * 1000


def evaluate(store, minute: int, value: float) -> tuple[float, int]:
    from chalicelib.alerts import repository, sources, topic
    from chalicelib.alerts.evaluation import evaluate_alerts
    write(store, samples(len(HOSTS), minute - 1_000, value))
    before, started = store.request_count, time.perf_counter()
    evaluate_alerts(repository(), sources(minute), topic(), tz="UTC", repeat_ms=4 * 3_600_000, dashboard_url="")
    return (time.perf_counter() - started) * 1000, store.request_count - before


HOSTS: list[int] = []


def measure(engine: str, workdir, hosts: int, history_minutes: int, tag: str) -> dict:
    from chalicelib.storage import use_store
    store = open_engine(engine, workdir, f"alerts{hosts}{tag}")
    HOSTS[:] = range(hosts)
    start = int(time.time() * 1000) // MIN * MIN - 60 * MIN
    setup(store, hosts, history_minutes, start)
    use_store(store)
    try:
        steady = [evaluate(store, start + m * MIN, 10.0) for m in range(16)][1:]
        firing_ms, firing_requests = evaluate(store, start + 16 * MIN, 95.0)
        raw = [bare_requests(store, start + 17 * MIN) for _ in range(15)]
    finally:
        use_store(None)
    median = statistics.median(ms for ms, _ in steady)
    raw_ms = statistics.median(raw)
    return {"pairs": hosts * len(METRICS), "history_samples": hosts * history_minutes * 6,
            "steady_median_ms": round(median, 2), "steady_store_requests": max(r for _, r in steady),
            "all_firing_ms": round(firing_ms, 2), "all_firing_store_requests": firing_requests,
            "bare_requests_ms": round(raw_ms, 2), "steady_vs_bare": round(median / raw_ms, 2)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "dynamodb"], default="sqlite")
    parser.add_argument("--pairs", default="10,100,1000")
    parser.add_argument("--history-minutes", type=int, default=360,
                        help="the 'much history' variant: minutes of 10-s samples per host")
    args = parser.parse_args()
    report: dict = {"engine": args.engine, "sizes": []}
    with engine_workdir(args.engine) as workdir:
        for pairs in (int(p) for p in args.pairs.split(",")):
            hosts = max(1, pairs // len(METRICS))
            little = measure(args.engine, workdir, hosts, 1, "a")
            much = measure(args.engine, workdir, hosts, args.history_minutes, "b")
            report["sizes"].append({"little_history": little, "much_history": much,
                                    "much_vs_little_ms": round(much["steady_median_ms"] / little["steady_median_ms"], 2)})
            print(json.dumps(report["sizes"][-1]), file=sys.stderr)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
