"""The one-machine product under a team's load for minutes on end (issue 16). Never run as a
test.

    .venv/bin/python -m benchmarks.soak [--minutes 10] [--json soak.json]

Starts the product as `make run` does (`missionctl demo load --if-empty`, then `missionctl run`)
on a free loopback port with a temporary STORE, without its synthetic live traffic (`--no-live`:
the soak is the traffic, and every number it sends must come back exact), and drives it with:

- purchases, 200/s in batches of 10 on kept-open connections; besides, an earlier batch sent
  again (redelivered) for 5% of batches; 1% of batches malformed (one bad event in the batch,
  or a body that is not JSON);
- page views, 50/s in batches of 10, each batch on a connection of its own (as curl and
  urllib clients do), 5% redelivered, 1% malformed;
- 20 hosts posting a sample every 10 s (5% sent again);
- 20 dashboard tabs, each polling the Overview's four reads every 5 s on its kept-open
  connection with If-None-Match, as the SPA does.

Credentials as a user gets them: API keys from `missionctl apikey create`, a viewer token from
`missionctl token`. Every 10 s it samples the server process (the one listening on the port):
RSS, open descriptors and those on the store's files; and the store's size on disk. At the end:
achieved rates, exactness (API answers against what was sent), p50/p95/p99 per route over the
first and the last minute, memory growth after warm-up and after the traffic stopped, and disk
growth per record against the records' own JSON size. ``--project-dir`` runs another checkout
(e.g. the code before a change) with this script, for a before/after.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' way of counting a process's open files
from open_files import open_files  # noqa: E402

BATCH = 10
REFRESH_S = 5.0  # the SPA's REFRESH_MS
SAMPLE_EVERY_S = 10.0
PRODUCTS = [(f"soak-p{n}", f"Soak plan {n}") for n in range(5)]
#: `missionctl` of the checkout it runs in (the installed script would import this one's code)
MISSIONCTL = [sys.executable, "-c", "import sys; from chalicelib.cli import main; sys.exit(main())"]
OVERVIEW_READS = ["/api/kpis?period=24h", "/api/revenue?weeks=1", "/api/users",
                  "/api/products?window=24h&limit=5"]


def compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# -- the product, started as make run starts it -------------------------------------------------

class Product:
    def __init__(self, project_dir: Path, data_dir: Path):
        self.project_dir = project_dir
        self.data_dir = data_dir
        self.database = data_dir / "mission-control.db"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "product.log"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {**os.environ, "STORE": f"sqlite:{self.database}", "PYTHONUNBUFFERED": "1"}

    def missionctl(self, *args: str) -> str:
        done = subprocess.run([*MISSIONCTL, *args], cwd=self.project_dir, env=self.env(),
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"missionctl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.strip()

    def start(self, timeout_s: float = 120) -> None:
        with open(self.log_path, "w") as log:  # the product writes to its own copy
            self.proc = subprocess.Popen(
                [*MISSIONCTL, "run", "--host", "127.0.0.1", "--port", str(self.port), "--no-live"],
                cwd=self.project_dir, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)  # its own process group: Ctrl-C reaches all of it
        deadline = time.monotonic() + timeout_s
        while "listening on" not in self.log_path.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the product did not start:\n" + self.log_path.read_text()[-3000:])
            time.sleep(0.2)

    def printed_lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()

    def interrupt(self) -> int:
        """Ctrl-C, as in a terminal: SIGINT to the process group."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()

    def server_pid(self) -> int:
        """The runner's child process that listens on the port (chalice local, or our server)."""
        assert self.proc is not None
        wanted = f":{self.port:04X}"
        inodes = {line.split()[9] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                  if line.split()[1].endswith(wanted) and line.split()[3] == "0A"}
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                for fd in Path(f"/proc/{child}/fd").iterdir():
                    try:
                        if os.readlink(fd).removeprefix("socket:[").rstrip("]") in inodes:
                            return int(child)
                    except OSError:
                        continue
        raise RuntimeError("no process of the product listens on its port")

    def disk_bytes(self) -> dict[str, int]:
        return {suffix or "db": (self.data_dir / f"mission-control.db{suffix}").stat().st_size
                for suffix in ("", "-wal", "-shm")
                if (self.data_dir / f"mission-control.db{suffix}").exists()}


def process_figures(pid: int, database: Path) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    threads = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))
    return {"rss_mb": rss_kb / 1024, "fds": len(open_files(pid, "")),
            "store_fds": len(open_files(pid, str(database))), "threads": threads}


# -- recording ------------------------------------------------------------------------------------

@dataclass
class Recorder:
    started: float = field(default_factory=time.monotonic)
    calls: list[tuple[float, str, float, int]] = field(default_factory=list)  # at, route, ms, status
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, began: float, status: int) -> None:
        now = time.monotonic()
        with self.lock:
            self.calls.append((began - self.started, route, (now - began) * 1000, status))

    def percentiles(self, since_s: float, until_s: float) -> dict[str, tuple[float, float, float, int]]:
        by_route: dict[str, list[float]] = {}
        for at, route, ms, _status in self.calls:
            if since_s <= at < until_s:
                by_route.setdefault(route, []).append(ms)
        out = {}
        for route, values in sorted(by_route.items()):
            if len(values) >= 2:
                q = statistics.quantiles(values, n=100, method="inclusive")
                out[route] = (q[49], q[94], q[98], len(values))
        return out


class Client:
    """HTTP on one kept-open connection (``keep_open``) or a new one per request."""

    def __init__(self, product: Product, recorder: Recorder, keep_open: bool):
        self.product, self.recorder, self.keep_open = product, recorder, keep_open
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, route: str, headers: dict, body: bytes | None = None
             ) -> tuple[int, dict[str, str], bytes]:
        began = time.monotonic()
        status, reply_headers, data = 0, {}, b""
        for attempt in (1, 2):  # a kept-open connection the server closed (idle): reconnect once
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.product.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                reply = self.conn.getresponse()
                status, data = reply.status, reply.read()
                reply_headers = {k.lower(): v for k, v in reply.getheaders()}
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    status = -1
        if not self.keep_open and self.conn is not None:
            self.conn.close()
            self.conn = None
        self.recorder.record(route, began, status)
        return status, reply_headers, data


# -- the load -------------------------------------------------------------------------------------

class Paced:
    """Slots at ``rate`` per second from a start time, taken by ``threads`` threads: each sleeps
    until its slot is due (a thread that fell behind catches up without sleeping)."""

    def __init__(self, rate: float, start: float, end: float):
        self.rate, self.start, self.end = rate, start, end
        self.next_slot = 0
        self.lock = threading.Lock()

    def run(self, stop: threading.Event, send: Callable[[int], None]) -> None:
        while not stop.is_set():
            with self.lock:
                slot = self.next_slot
                self.next_slot += 1
            due = self.start + slot / self.rate
            if due >= self.end:
                return
            if stop.wait(max(0.0, due - time.monotonic())):
                return
            send(slot)


@dataclass
class Ledger:
    """What the soak sent, to check the product's answers against."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    accepted: dict[str, int] = field(default_factory=dict)  # per kind, from the API's answers
    expected: dict[str, int] = field(default_factory=dict)  # per kind, unique valid records
    raw_json_bytes: dict[str, int] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)
    redelivered: dict[str, int] = field(default_factory=dict)
    malformed: dict[str, int] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    revenue: int = 0
    products: dict[str, list[int]] = field(default_factory=dict)  # productId: [orders, revenue]
    sessions: set[str] = field(default_factory=set)
    samples: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # host: (ts, value)

    def add(self, name: str, kind: str, n: int = 1) -> None:
        with self.lock:
            table = getattr(self, name)
            table[kind] = table.get(kind, 0) + n


class BusinessStream:
    """Purchases or page views in batches, some sent again, some malformed."""

    def __init__(self, kind: str, key: str, ledger: Ledger, run_id: str, seed: int):
        self.kind, self.key, self.ledger, self.run_id = kind, key, ledger, run_id
        self.rng = random.Random(seed)
        self.sent: list[bytes] = []  # recent good batches, for redelivery
        self.lock = threading.Lock()

    def event(self, n: int) -> dict:
        now = int(time.time() * 1000)
        session = f"{self.run_id}-s{n // 25}"
        if self.kind == "purchase":
            product, name = PRODUCTS[n % len(PRODUCTS)]
            return {"orderId": f"{self.run_id}-o{n}", "productId": product, "productName": name,
                    "amount": 500 + (n * 37) % 4500, "currency": "USD",
                    "userId": f"{self.run_id}-u{n % 4000}", "sessionId": session, "timestamp": now}
        return {"eventId": f"{self.run_id}-v{n}", "sessionId": session,
                "userId": f"{self.run_id}-u{n % 4000}", "page": f"/docs/{n % 40}",
                "referrer": "https://search.example/", "timestamp": now}

    def send(self, client: Client, slot: int) -> None:
        with self.lock:
            roll = self.rng.random()
            again = self.sent[self.rng.randrange(len(self.sent))] if self.rng.random() < 0.05 and self.sent else None
        headers = {"Content-Type": "application/json", "x-api-key": self.key}
        path, route = f"/api/ingest/{self.kind}", f"POST /api/ingest/{self.kind}"
        if again is not None:  # a batch sent before, on top of this slot's new one
            status, _h, body = client.call("POST", path, route, headers, again)
            self._check(status, body, accepted=0, again=True)
            self.ledger.add("redelivered", self.kind)
        events = [self.event(slot * BATCH + i) for i in range(BATCH)]
        if roll < 0.01:  # 1% malformed
            self.ledger.add("malformed", self.kind)
            if slot % 2:
                client.call("POST", path, route, headers, b'{"not json')  # 400, nothing kept
                return
            events[3] = {k: v for k, v in events[3].items()
                         if k not in ("productId", "page")}  # refused, the others kept
        payload = compact_json(events)
        status, _h, body = client.call("POST", path, route, headers, payload)
        good = [e for e in events if "productId" in e or "page" in e]
        self._check(status, body, accepted=len(good), again=False)
        self.ledger.add("batches", self.kind)
        with self.ledger.lock:
            self.ledger.add("expected", self.kind, len(good))
            self.ledger.add("raw_json_bytes", self.kind, sum(len(compact_json(e)) for e in good))
            for e in good:
                self.ledger.sessions.add(e["sessionId"])
                if self.kind == "purchase":
                    self.ledger.revenue += e["amount"]
                    row = self.ledger.products.setdefault(e["productId"], [0, 0])
                    row[0] += 1
                    row[1] += e["amount"]
        if len(good) == BATCH:
            with self.lock:
                self.sent = [*self.sent[-199:], payload]

    def _check(self, status: int, body: bytes, accepted: int, again: bool) -> None:
        try:
            answer = json.loads(body)
        except ValueError:
            answer = {}
        self.ledger.add("accepted", self.kind, answer.get("accepted", 0))
        wanted = 200 if accepted in (0, BATCH) else 207
        if status != wanted or answer.get("accepted") != accepted:
            with self.ledger.lock:
                self.ledger.unexpected.append(f"{self.kind}{' (again)' if again else ''}: {status} {body[:200]!r}")


class Hosts:
    """Hosts posting a sample every 10 s, aligned to the 10 s grid (one point per step)."""

    def __init__(self, count: int, key: str, ledger: Ledger, run_id: str):
        self.names = [f"{run_id}-h{n:02d}" for n in range(count)]
        self.key, self.ledger = key, ledger
        self.rng = random.Random(count)

    def send(self, client: Client, slot: int) -> None:
        host = self.names[slot % len(self.names)]
        round_ = slot // len(self.names)
        ts = (int(time.time() * 1000) // 10_000) * 10_000
        samples = self.ledger.samples.setdefault(host, [])
        if samples and samples[-1][0] == ts:
            return  # this host already has this step's point (the sender fell behind)
        value = float(round_ % 97)
        sample = {"host": host, "kind": "vm", "timestamp": ts,
                  "values": {"cpu.percent": value, "mem.used_percent": 40.0 + value / 10,
                             "load.1m": value / 50, "disk.used_percent": 61.5}}
        payload = compact_json(sample)
        headers = {"Content-Type": "application/json", "x-api-key": self.key}
        for attempt in range(2 if self.rng.random() < 0.05 else 1):  # 5% sent twice
            status, _h, body = client.call("POST", "/api/metrics", "POST /api/metrics", headers, payload)
            if status != 200:
                with self.ledger.lock:
                    self.ledger.unexpected.append(f"metrics: {status} {body[:200]!r}")
            if attempt:
                self.ledger.add("redelivered", "sample")
        samples.append((ts, value))
        with self.ledger.lock:
            self.ledger.add("expected", "sample")
            self.ledger.add("raw_json_bytes", "sample", len(payload))


def dashboard_tab(client: Client, token: str, stop: threading.Event, start: float, end: float,
                  ledger: Ledger) -> None:
    etags: dict[str, str] = {}
    tick = 0
    while not stop.is_set():
        due = start + tick * REFRESH_S
        if due >= end or stop.wait(max(0.0, due - time.monotonic())):
            return
        tick += 1
        for path in OVERVIEW_READS:
            headers = {"Authorization": f"Bearer {token}"}
            if path in etags:
                headers["If-None-Match"] = etags[path]
            status, reply_headers, body = client.call("GET", path, "GET " + path.split("?")[0], headers)
            if status == 200:
                etags[path] = reply_headers.get("etag", "")
            elif status != 304:
                ledger.unexpected.append(f"GET {path}: {status} {body[:200]!r}")


# -- exactness ------------------------------------------------------------------------------------

def read_json(product: Product, path: str, token: str) -> Any:
    request = urllib.request.Request(product.base_url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


def business_totals(product: Product, token: str) -> dict[str, Any]:
    kpis = read_json(product, "/api/kpis?period=24h", token)
    products = read_json(product, "/api/products?window=24h&limit=50", token)["products"]
    users = read_json(product, "/api/users", token)
    return {"orders": kpis["orders"]["value"], "revenue": kpis["revenue"]["value"],
            "sessions": users["sessions"], "date": users["date"],
            "products": {p["productId"]: [p["downloads"], p["revenue"]] for p in products}}


def exactness(product: Product, token: str, ledger: Ledger, before: dict, after: dict) -> list[tuple[str, Any, Any]]:
    """(what, expected, found) for every number the soak can check."""
    checks = [
        ("purchases accepted", ledger.expected.get("purchase", 0), ledger.accepted.get("purchase", 0)),
        ("page views accepted", ledger.expected.get("pageview", 0), ledger.accepted.get("pageview", 0)),
        ("orders, 24 h", ledger.expected.get("purchase", 0), after["orders"] - before["orders"]),
        ("revenue, 24 h", ledger.revenue, after["revenue"] - before["revenue"]),
    ]
    for product_id, (orders, revenue) in sorted(ledger.products.items()):
        checks.append((f"{product_id} downloads and revenue", [orders, revenue],
                       after["products"].get(product_id)))
    if before["date"] == after["date"]:
        checks.append(("sessions today", len(ledger.sessions), after["sessions"] - before["sessions"]))
    points_ok, minutes_ok = 0, 0
    for host, samples in sorted(ledger.samples.items()):
        if not samples:
            continue
        first, last = samples[0][0], samples[-1][0]
        raw = read_json(product, f"/api/metrics?host={host}&metric=cpu.percent&from={first}"
                                 f"&to={last + 1}&step=10000", token)["series"][0]
        found = {t: v for t, v in zip(raw["t"], raw["avg"]) if v is not None}
        points_ok += found == dict(samples)
        minute = read_json(product, f"/api/metrics?host={host}&metric=cpu.percent"
                                    f"&from={first - first % 60_000}&to={last + 1}&step=60000", token)["series"][0]
        expected: dict[int, list[float]] = {}
        for ts, value in samples:
            expected.setdefault(ts - ts % 60_000, []).append(value)
        found_minutes = {t: v for t, v in zip(minute["t"], minute["avg"]) if v is not None}
        minutes_ok += found_minutes.keys() == expected.keys() and all(
            abs(found_minutes[t] - statistics.fmean(v)) < 1e-9 for t, v in expected.items())
    checks.append(("hosts whose 10 s points are exactly the samples sent", len(ledger.samples), points_ok))
    checks.append(("hosts whose 1-minute averages are exact (samples sent twice included)",
                   len(ledger.samples), minutes_ok))
    return checks


def store_breakdown(database: Path) -> dict[str, Any]:
    """Bytes per SQLite b-tree (dbstat) and per logical table, read after the product stopped."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        btrees = dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
        logical = {tbl: (n, size) for tbl, n, size in conn.execute(
            "SELECT tbl, COUNT(*), SUM(LENGTH(pk) + LENGTH(sk) + LENGTH(data)) FROM items GROUP BY tbl")}
        change_log = conn.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(new) + COALESCE(LENGTH(old), 0)), 0) "
                                  "FROM changes").fetchone()
        change_log_by_table = {tbl: size for tbl, size in conn.execute(
            "SELECT tbl, SUM(LENGTH(pk) + LENGTH(sk) + COALESCE(LENGTH(new), 0) + COALESCE(LENGTH(old), 0)) "
            "FROM changes GROUP BY tbl")}
        free = conn.execute("PRAGMA freelist_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
        vacuum = conn.execute("PRAGMA auto_vacuum").fetchone()[0]
    finally:
        conn.close()
    return {"btrees": btrees, "logical": logical, "change_log": change_log,
            "change_log_by_table": change_log_by_table, "free_bytes": free, "auto_vacuum": vacuum}


#: the logical tables each kind of record fills (the rest: keys, checkpoints, schedule runs)
TABLES_OF = {"event": ("events", "actors", "rollups", "stats"), "sample": ("metrics",)}


def _stored_bytes(store: dict[str, Any]) -> dict[str, int]:
    stored = {tbl: size for tbl, (_n, size) in store["logical"].items()}
    for tbl, size in store["change_log_by_table"].items():
        stored[tbl] = stored.get(tbl, 0) + size
    return stored


def disk_per_kind(before: dict[str, Any], after: dict[str, Any], grown: int) -> dict[str, float]:
    """The disk growth shared out by each kind's share of the bytes the soak added (items and
    change log): an estimate, as SQLite's pages hold rows of every kind."""
    was, now = _stored_bytes(before), _stored_bytes(after)
    logical = {tbl: max(0, size - was.get(tbl, 0)) for tbl, size in now.items()}
    total = sum(logical.values()) or 1
    return {kind: grown * sum(logical.get(t, 0) for t in tables) / total
            for kind, tables in TABLES_OF.items()}


# -- the soak ------------------------------------------------------------------------------------

def soak(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="soak-"))
    product = Product(Path(args.project_dir).resolve(), data_dir)
    try:
        if args.demo:
            product.missionctl("demo", "load", "--if-empty")
        product.start()
        return drive(product, args)
    finally:  # whatever happened, nothing is left running or lying about
        if product.proc is not None and product.proc.poll() is None:
            product.interrupt()
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)


def drive(product: Product, args: argparse.Namespace) -> dict[str, Any]:
    from chalicelib.cli import progress_bar
    token = product.missionctl("token", "--role", "viewer", "--minutes", str(int(args.minutes) + 60))
    keys = {kind: product.missionctl("apikey", "create", "--scope", scope, "--name", f"soak {kind}")
            for kind, scope in (("purchase", "ingest:business"), ("pageview", "ingest:business"),
                                ("sample", "ingest:metrics"))}
    server = product.server_pid()
    # The worker trims the change log the demo load left once it is a minute old: measure the
    # store after that, or the soak's own growth would look smaller by those pages.
    time.sleep(args.settle_seconds)
    ledger, recorder = Ledger(), Recorder()
    run_id = f"soak{int(time.time())}"
    before = business_totals(product, token)
    disk_before = product.disk_bytes()
    store_before = store_breakdown(product.database)
    timeline: list[dict[str, Any]] = []
    stop = threading.Event()
    start = time.monotonic() + 1.0
    end = start + args.minutes * 60
    recorder.started = start

    def sample() -> None:
        timeline.append({"t_s": round(time.monotonic() - start, 1), **process_figures(server, product.database),
                         "runner_rss_mb": process_figures(product.proc.pid, product.database)["rss_mb"],
                         "disk": product.disk_bytes(), "calls": len(recorder.calls)})

    threads: list[threading.Thread] = []
    purchases = BusinessStream("purchase", keys["purchase"], ledger, run_id, seed=1)
    pageviews = BusinessStream("pageview", keys["pageview"], ledger, run_id, seed=2)
    hosts = Hosts(args.hosts, keys["sample"], ledger, run_id)
    for stream, rate, keep_open, senders in ((purchases, args.purchases / BATCH, True, 4),
                                              (pageviews, args.pageviews / BATCH, False, 2),
                                              (hosts, args.hosts / 10, False, 2)):
        if rate <= 0:
            continue
        paced = Paced(rate, start, end)
        for _ in range(senders):
            client = Client(product, recorder, keep_open)
            threads.append(threading.Thread(
                target=paced.run, args=(stop, lambda slot, s=stream, c=client: s.send(c, slot)), daemon=True))
    for n in range(args.tabs):
        offset = REFRESH_S * n / max(args.tabs, 1)
        threads.append(threading.Thread(target=dashboard_tab, daemon=True, args=(
            Client(product, recorder, keep_open=True), token, stop, start + offset, end, ledger)))
    sample()
    for thread in threads:
        thread.start()
    total_s = int(args.minutes * 60)
    try:
        with progress_bar(total_s, f"soak on {product.base_url}", "s") as bar:
            next_sample = start + SAMPLE_EVERY_S
            while time.monotonic() < end:
                time.sleep(min(1.0, max(0.0, end - time.monotonic())))
                bar.n = min(total_s, int(time.monotonic() - start))
                bar.set_postfix_str(f"{len(recorder.calls)} requests, RSS "
                                    f"{timeline[-1]['rss_mb']:.0f} MB")
                bar.refresh()
                if time.monotonic() >= next_sample:
                    sample()
                    next_sample += SAMPLE_EVERY_S
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    elapsed = time.monotonic() - start
    sample()
    lines_during_traffic = len(product.printed_lines())
    after = business_totals(product, token)
    checks = exactness(product, token, ledger, before, after)
    time.sleep(args.idle_seconds)  # the traffic has stopped: is anything given back?
    sample()
    exit_code = product.interrupt()
    disk_after_stop = product.disk_bytes()
    store_after = store_breakdown(product.database)
    output = product.printed_lines()
    statuses: dict[int, int] = {}
    for _at, _route, _ms, status in recorder.calls:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "project_dir": str(product.project_dir), "minutes": args.minutes, "elapsed_s": elapsed,
        "targets": {"purchases_per_s": args.purchases, "pageviews_per_s": args.pageviews,
                    "hosts": args.hosts, "tabs": args.tabs},
        "achieved_per_s": {kind: n / elapsed for kind, n in ledger.expected.items()},
        "requests": len(recorder.calls), "statuses": statuses,
        "batches": ledger.batches, "redelivered": ledger.redelivered, "malformed": ledger.malformed,
        "unexpected": ledger.unexpected[:20], "unexpected_count": len(ledger.unexpected),
        "checks": checks,
        "latency_first_minute": recorder.percentiles(0, 60),
        "latency_last_minute": recorder.percentiles(elapsed - 60, elapsed + 1),
        "timeline": timeline,
        "disk_before": disk_before, "disk_after_stop": disk_after_stop,
        "raw_json_bytes": ledger.raw_json_bytes, "records": ledger.expected,
        "store_before": store_before, "store": store_after,
        "printed_lines_during_traffic": lines_during_traffic,
        "product_output_tail": output[-15:], "exit_code": exit_code,
        "data_dir": str(product.data_dir) if args.keep_data else None,
    }


def memory_growth_mb_per_10_min(timeline: list[dict], from_s: float, until_s: float) -> float | None:
    points = [(p["t_s"], p["rss_mb"]) for p in timeline if from_s <= p["t_s"] <= until_s]
    if len(points) < 3:
        return None
    return statistics.linear_regression(*zip(*points)).slope * 600


def report(result: dict[str, Any], warmup_s: float) -> str:
    mb = 1e6
    lines = [f"soak of {result['project_dir']}: {result['elapsed_s'] / 60:.1f} min, "
             f"{result['requests']:,} requests, statuses {dict(sorted(result['statuses'].items()))}"]
    targets, achieved = result["targets"], result["achieved_per_s"]
    lines.append(f"achieved: purchases {achieved.get('purchase', 0):.1f}/s (target {targets['purchases_per_s']}), "
                 f"page views {achieved.get('pageview', 0):.1f}/s (target {targets['pageviews_per_s']}), "
                 f"samples {achieved.get('sample', 0):.2f}/s ({targets['hosts']} hosts every 10 s), "
                 f"{targets['tabs']} tabs; batches {result['batches']}, sent again {result['redelivered']}, "
                 f"malformed {result['malformed']}")
    five_xx = sum(n for status, n in result["statuses"].items() if int(status) >= 500 or int(status) < 0)
    lines.append(f"5xx or failed requests: {five_xx}; unexpected answers: {result['unexpected_count']} "
                 f"{result['unexpected'][:3]}")
    exact = all(expected == found for _what, expected, found in result["checks"])
    lines.append(f"exact at the end: {'yes' if exact else 'NO'}")
    for what, expected, found in result["checks"]:
        lines.append(f"  {'ok ' if expected == found else 'BAD'} {what}: expected {expected}, found {found}")
    lines.append("latency ms, p50 / p95 / p99 (requests): first minute | last minute")
    first, last = result["latency_first_minute"], result["latency_last_minute"]
    for route in sorted(set(first) | set(last)):
        def fmt(q):
            return f"{q[0]:7.1f} {q[1]:7.1f} {q[2]:7.1f} ({q[3]:>5})" if q else " " * 31
        lines.append(f"  {route:<26} {fmt(first.get(route))} | {fmt(last.get(route))}")
    timeline = result["timeline"]
    traffic = [p for p in timeline if p["t_s"] <= result["elapsed_s"] + 1]
    lines.append("every 10 s: t s, server RSS MB, descriptors (on the store), threads, runner RSS MB, "
                 "store+WAL MB")
    for p in timeline:
        disk = sum(p["disk"].values()) / mb
        lines.append(f"  {p['t_s']:7.1f} {p['rss_mb']:7.1f} {p['fds']:5} ({p['store_fds']:3}) "
                     f"{p['threads']:4} {p['runner_rss_mb']:7.1f} {disk:8.1f}")
    growth = memory_growth_mb_per_10_min(traffic, warmup_s, result["elapsed_s"] + 1)
    lines.append(f"server RSS: {traffic[0]['rss_mb']:.1f} MB at start, {traffic[-1]['rss_mb']:.1f} MB at "
                 f"the end of traffic, {timeline[-1]['rss_mb']:.1f} MB after idling; growth after "
                 f"{warmup_s:.0f} s of warm-up: "
                 + (f"{growth:+.2f} MB per 10 min" if growth is not None else "(too short to say)"))
    lines.append(f"descriptors on the store: max {max(p['store_fds'] for p in timeline)}; "
                 f"all descriptors: {timeline[0]['fds']} at start, max {max(p['fds'] for p in timeline)}, "
                 f"{timeline[-1]['fds']} after idling")
    records = sum(result["records"].values())
    raw = sum(result["raw_json_bytes"].values())
    grown_running = sum(traffic[-1]["disk"].values()) - sum(result["disk_before"].values())
    grown_stopped = sum(result["disk_after_stop"].values()) - sum(result["disk_before"].values())
    # Pages in use, not the file's size: free pages (a trimmed change log's) are reused by
    # new rows before the file grows, which would hide the soak's own growth.
    in_use_before, in_use = sum(result["store_before"]["btrees"].values()), sum(result["store"]["btrees"].values())
    grown = in_use - in_use_before
    lines.append(f"disk: file {sum(result['disk_before'].values()) / mb:.1f} MB before, {grown_running / mb:+.1f} MB "
                 f"at the end of traffic (with WAL), {grown_stopped / mb:+.1f} MB once stopped; pages in use "
                 f"{in_use_before / mb:.1f} MB before, {grown / mb:+.1f} MB, for {records:,} records "
                 f"({raw / mb:.1f} MB of their own compact JSON)")
    if records:
        lines.append(f"  per record: {grown / records:.0f} B in use against {raw / records:.0f} B of JSON: "
                     f"{grown / raw:.2f}x")
        events = result["records"].get("purchase", 0) + result["records"].get("pageview", 0)
        events_json = result["raw_json_bytes"].get("purchase", 0) + result["raw_json_bytes"].get("pageview", 0)
        shares = disk_per_kind(result["store_before"], result["store"], grown)
        samples, samples_json = result["records"].get("sample", 0), result["raw_json_bytes"].get("sample", 0)
        if events and samples:
            lines.append(f"  by kind (shared out by stored bytes, an estimate): per event "
                         f"{shares['event'] / events:.0f} B against {events_json / events:.0f} B of JSON "
                         f"({shares['event'] / events_json:.2f}x); per sample {shares['sample'] / samples:.0f} B "
                         f"against {samples_json / samples:.0f} B ({shares['sample'] / samples_json:.2f}x)")
    store = result["store"]
    lines.append(f"  SQLite b-trees (MB): " + ", ".join(
        f"{name} {size / mb:.1f}" for name, size in sorted(store["btrees"].items(), key=lambda kv: -kv[1])))
    lines.append(f"  logical tables (items, MB of keys + JSON): " + ", ".join(
        f"{tbl} {n:,} / {size / mb:.1f}" for tbl, (n, size) in sorted(store["logical"].items())))
    lines.append(f"  change log: {store['change_log'][0]:,} entries, {store['change_log'][1] / mb:.1f} MB of "
                 f"images; free pages {store['free_bytes'] / mb:.1f} MB; auto_vacuum {store['auto_vacuum']}")
    lines.append(f"terminal: {result['printed_lines_during_traffic']} lines printed by the product up to the "
                 f"end of traffic; exit code after Ctrl-C {result['exit_code']}; its last lines:")
    lines += [f"  | {line}" for line in result["product_output_tail"]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--purchases", type=float, default=200.0, help="purchases per second")
    parser.add_argument("--pageviews", type=float, default=50.0, help="page views per second")
    parser.add_argument("--hosts", type=int, default=20, help="hosts posting a sample every 10 s")
    parser.add_argument("--tabs", type=int, default=20, help="dashboard tabs polling every 5 s")
    parser.add_argument("--idle-seconds", type=float, default=30.0,
                        help="how long to watch the server after the traffic stops")
    parser.add_argument("--settle-seconds", type=float, default=75.0,
                        help="how long the started product runs alone before the store is measured")
    parser.add_argument("--no-demo", dest="demo", action="store_false",
                        help="skip `missionctl demo load` (make run loads 45 days first)")
    parser.add_argument("--project-dir", default=str(ROOT), help="the checkout to run (default: this one)")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the temporary store and the product's output (deleted by default)")
    args = parser.parse_args()
    result = soak(args)
    warmup_s = min(120.0, args.minutes * 60 / 3)
    print(report(result, warmup_s))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
