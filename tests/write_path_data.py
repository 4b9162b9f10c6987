"""The data and the reads behind ``test_write_path_equivalence``: the demo generator's
business traffic and seeded host samples, delivered as clients deliver them (batches of 500,
some sent twice, some late), and every KPI and metric read of the product.

``python tests/write_path_data.py`` records the answers into
``tests/fixtures/write_path_reads.json``; it was run once on the write path before issue 8
changed it, so the test proves the new path answers exactly as the old one did.

Time is pinned: ``NOW_MS`` is the clock of the ingest, of the reads and of the store's expiry
checks, so the fixture stays valid whatever day the test runs.
"""
from __future__ import annotations

import json
import random
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "write_path_reads.json"
NOW_MS = 1_764_000_000_000 + 37 * 60_000 + 12_345  # 2025-11-24 16:37:12 UTC, a Monday
DEMO_DAYS = 8
HOSTS = (("web-1", "vm"), ("db-1", "vm"), ("shop", "webapp"))
SAMPLE_HOURS = 26


@contextmanager
def pinned_clock(store_module: Any) -> Iterator[None]:
    """The store's expiry clock at ``NOW_MS`` (items written "now" must not look expired)."""
    real = store_module._now_s
    store_module._now_s = lambda: NOW_MS // 1000
    try:
        yield
    finally:
        store_module._now_s = real


def business_batches() -> list[list]:
    """Demo events of the last ``DEMO_DAYS`` days in batches of 500 as a shop sends them;
    every 9th batch is sent twice and every 13th is held back and sent at the end (late)."""
    from chalicelib.local.demo import FLAG_ON_DAYS_AGO, DemoTraffic
    from chalicelib.timebuckets import DAY_MS
    start = NOW_MS - DEMO_DAYS * DAY_MS
    traffic = DemoTraffic(11, currency="USD", flag_on_ms=NOW_MS - FLAG_ON_DAYS_AGO * DAY_MS)
    events = list(traffic.events_between(start, NOW_MS, start))
    batches = [events[i:i + 500] for i in range(0, len(events), 500)]
    out, late = [], []
    for n, batch in enumerate(batches):
        if n % 13 == 5:
            late.append(batch)
            continue
        out.append(batch)
        if n % 9 == 4:
            out.append(batch)
    return out + late


def metric_batches() -> list[list[dict]]:
    """Seeded samples every 10 s for ``SAMPLE_HOURS`` hours from three hosts, in batches of
    up to 500 (an agent's backlog), every 7th batch sent twice, the batches shuffled a little."""
    rng = random.Random(5)
    start = NOW_MS - SAMPLE_HOURS * 3_600_000
    start -= start % 10_000
    samples = []
    for ts in range(start, NOW_MS - 20_000, 10_000):
        for host, kind in HOSTS:
            if rng.random() < 0.01:
                continue  # a missed tick: a gap
            if kind == "vm":
                values = {"cpu.percent": round(rng.uniform(2, 95), 2),
                          "mem.used_percent": round(40 + 10 * rng.random(), 3),
                          "net.rx_bytes_per_s": float(rng.randrange(0, 5_000_000)),
                          "load.1m": round(rng.uniform(0, 4), 2)}
            else:
                values = {"http.latency_ms": round(rng.lognormvariate(3, 0.6), 1),
                          "http.up": rng.choice([1, 1, 1, 1, 0])}
            samples.append({"host": host, "kind": kind, "timestamp": ts, "values": values})
    batches = [samples[i:i + 500] for i in range(0, len(samples), 500)]
    out = []
    for n, batch in enumerate(batches):
        out.append(batch)
        if n % 7 == 3:
            out.append(list(reversed(batch)))
    for i in range(0, len(out) - 1, 5):  # some batches arrive out of order
        out[i], out[i + 1] = out[i + 1], out[i]
    return out


def load(store: Any) -> None:
    """Ingest everything through the functions the API routes call."""
    from chalicelib.business import policy, repository_for
    from chalicelib.business.ingest import record_events
    from chalicelib.metrics.ingest import record_samples
    from chalicelib.metrics.models import MetricSample
    from chalicelib.metrics.repository import MetricsRepository
    repo = repository_for(store, policy())
    for batch in business_batches():
        record_events(repo, batch, policy(), NOW_MS)
    metrics = MetricsRepository(store, 90 * 86_400_000)
    for batch in metric_batches():
        record_samples(metrics, [MetricSample.model_validate(s) for s in batch])


def reads(store: Any) -> dict[str, Any]:
    """Every business and metric read the API serves, at ``NOW_MS``."""
    from chalicelib.business import policy, repository_for
    from chalicelib.business import queries
    from chalicelib.metrics import queries as metric_queries
    from chalicelib.metrics.repository import MetricsRepository
    repo, p = repository_for(store, policy()), policy()
    out: dict[str, Any] = {}
    for period in queries.PERIODS:
        out[f"kpis?period={period}"] = queries.kpis(repo, p, period, NOW_MS)
        out[f"products?window={period}"] = queries.products(repo, p, "50", period, NOW_MS)
    for weeks in ("1", "2"):
        out[f"revenue?weeks={weeks}"] = queries.revenue_trend(repo, p, weeks, NOW_MS)
    out["users"] = queries.user_metrics(repo, p, NOW_MS)
    metrics = MetricsRepository(store, 90 * 86_400_000)
    out["hosts"] = metric_queries.hosts(metrics, NOW_MS, "UTC")
    hour = 3_600_000
    for host, kind in HOSTS:
        names = "cpu.percent,mem.used_percent,net.rx_bytes_per_s,load.1m" if kind == "vm" \
            else "http.latency_ms,http.up"
        for label, span, step in (("1h", hour, None), ("6h", 6 * hour, None),
                                  ("26h", 26 * hour, None), ("2h-step-60s", 2 * hour, "60000"),
                                  ("24h-step-1h", 24 * hour, str(hour)),
                                  ("late-edge", 90 * 60_000 + 5_000, None)):
            params = {"host": host, "metric": names, "from": str(NOW_MS - span),
                      "to": str(NOW_MS - (hour // 3 if label == "late-edge" else 0))}
            if step:
                params["step"] = step
            out[f"metrics {host} {label}"] = metric_queries.metric_series(metrics, params,
                                                                         NOW_MS, "UTC")
    return json.loads(json.dumps(out))  # tuples and ints as JSON gives them back


def main() -> int:
    import tempfile
    sys.path.insert(0, str(ROOT))
    from chalicelib.storage import sqlite_engine
    with tempfile.TemporaryDirectory() as tmp, pinned_clock(sqlite_engine):
        store = sqlite_engine.SqliteStore(f"{tmp}/fixture.db")
        load(store)
        answers = reads(store)
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(answers, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"wrote {FIXTURE} ({len(answers)} reads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
