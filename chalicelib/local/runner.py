"""The local runtime behind `make run`: the local server (``server.py``: the app as
`chalice local` serves it) with the API and the SPA, the local worker emulating AWS's event
sources, and live demo traffic sent through the public API like any client's. Ctrl-C (or
SIGTERM) stops all of it cleanly.

    python -m chalicelib.local.runner --host 127.0.0.1 --port 8000 [--no-live] [--verbose]
"""
from __future__ import annotations

import argparse
import bisect
import heapq
import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
logger = logging.getLogger("mission_control.runner")


def server_command(host: str, port: int, verbose: bool = False) -> list[str]:
    """The local server, in a process of its own (its own interpreter lock, its own memory)."""
    return [sys.executable, "-m", "chalicelib.local.server", "--host", host, "--port", str(port),
            "--stage", "dev", *(["--verbose"] if verbose else [])]


def websocket_command(host: str, port: int, management_port: int) -> list[str]:
    """The local WebSocket API (``websocket.py``), in a process of its own."""
    return [sys.executable, "-m", "chalicelib.local.websocket", "--host", host, "--port", str(port),
            "--management-port", str(management_port)]


def any_free_port(host: str) -> int:
    import socket
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class WebSocketSupervisor:
    """Keeps the local WebSocket API running: started with the server, started again a moment
    after it exits (browsers fall back to polling meanwhile and reconnect by themselves)."""

    RESTART_AFTER_S = 3.0

    def __init__(self, host: str, port: int, management_port: int):
        self.command = websocket_command(host, port, management_port)
        self.proc: subprocess.Popen | None = None
        self.exited_at: float | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.command, cwd=PROJECT_DIR, env=os.environ.copy())
        self.exited_at = None

    def check(self) -> None:
        if self.proc is None or self.proc.poll() is None:
            return
        now = time.monotonic()
        if self.exited_at is None:
            self.exited_at = now
            logger.warning("the WebSocket server exited (code %s); restarting it in %.0f s",
                           self.proc.returncode, self.RESTART_AFTER_S)
        elif now - self.exited_at >= self.RESTART_AFTER_S:
            self.start()

    def stop(self) -> None:
        stop_process(self.proc)


def port_is_free(host: str, port: int) -> bool:
    import socket
    with socket.socket() as probe:
        # As the HTTP server will: a port whose old connections linger in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def wait_until_healthy(base_url: str, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the local server exited with code {proc.returncode}; see its output above")
        try:
            with urllib.request.urlopen(f"{base_url}/api/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the local server did not answer on {base_url} within {timeout_s:.0f} s")


#: live traffic starts amid visits begun this long before (only their events from now on are sent)
WARM_UP_MS = 10 * 60_000


class LiveTraffic:
    """Demo visitors arriving now, their events posted to the ingest API when they happen,
    with the runner's own ``ingest:business`` API key, like any client's. A busier hour of the
    demo shop (``demo.LIVE_SHAPE``), never quiet for long: when no purchase (or sign-up) falls
    within ``LIVE_MAX_QUIET_MS``, a quick one is added, so every Overview number moves within a
    minute."""

    def __init__(self, base_url: str, currency: str, api_key: str,
                 sessions_per_minute: float | None = None, seed: int | None = None):
        from .demo import LIVE_SESSIONS_PER_MINUTE, LIVE_SHAPE, DemoTraffic
        self.base_url = base_url
        self.api_key = api_key
        self.traffic = DemoTraffic(seed if seed is not None else random.randrange(1 << 30),
                                   shape=LIVE_SHAPE, currency=currency, flag_on_ms=0)
        self.rate = LIVE_SESSIONS_PER_MINUTE if sessions_per_minute is None else sessions_per_minute
        self.heap: list = []
        self.n = 0
        self.warned = False
        self.warmed = False
        #: when scheduled purchases and sign-ups happen (epoch ms), to keep none too far apart
        self.moments: dict[str, list[int]] = {"purchase": [], "signup": []}

    def tick(self, now_ms: int, elapsed_s: float) -> None:
        from .demo import LIVE_MAX_QUIET_MS, _poisson
        if not self.warmed:  # the shop was open before: join its visits under way, not a cold start
            self.warmed = True
            for _ in range(_poisson(self.traffic.rng, self.rate * WARM_UP_MS / 60_000)):
                start = now_ms - int(self.traffic.rng.uniform(0, WARM_UP_MS))
                self._schedule([e for e in self.traffic.session(start) if e.timestamp >= now_ms])
        for _ in range(_poisson(self.traffic.rng, self.rate * elapsed_s / 60)):
            self._schedule(self.traffic.session(now_ms))
        for kind, make in (("purchase", self.traffic.quick_purchase), ("signup", self.traffic.signup_session)):
            moments = self.moments[kind]
            quiet = LIVE_MAX_QUIET_MS[kind]
            del moments[:bisect.bisect_left(moments, now_ms - quiet)]
            if not moments or moments[0] > now_ms + quiet // 2:
                self._schedule(make(now_ms))
        due: dict[str, list] = {}
        while self.heap and self.heap[0][0] <= now_ms:
            event = heapq.heappop(self.heap)[2]
            due.setdefault(event.kind, []).append(event.model_dump(exclude_none=True, exclude={"kind"}))
        for kind, events in due.items():
            self._post(f"/api/ingest/{kind}", events)

    def _schedule(self, events: list) -> None:
        from .demo import NEW_USER_PREFIX
        for event in events:
            self.n += 1
            heapq.heappush(self.heap, (event.timestamp, self.n, event))
            moment = ("purchase" if event.kind == "purchase" else
                      "signup" if event.kind == "pageview" and event.page == "/signup"
                      and (event.userId or "").startswith(NEW_USER_PREFIX) else None)
            if moment:
                bisect.insort(self.moments[moment], event.timestamp)

    def _post(self, path: str, body: list) -> None:
        request = urllib.request.Request(self.base_url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json",
                                                  "x-api-key": self.api_key}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10):
                self.warned = False
        except (urllib.error.URLError, OSError) as exc:
            if not self.warned:  # one line per outage, not one per event
                logger.warning("live traffic: could not post to %s (%s); will keep trying", path, exc)
                self.warned = True

    def run(self, stop: threading.Event) -> None:
        last = time.monotonic()
        while not stop.wait(1.0):
            now = time.monotonic()
            self.tick(int(time.time() * 1000), now - last)
            last = now


def configure_sign_in(base_url: str) -> str:
    """Point the app (chalice local inherits this environment) at the dev issuer it serves
    itself under /auth, create its signing key before chalice local starts (so two processes
    never race to make it), and tell ``missionctl token`` which issuer is running. The issuer's
    URL."""
    from .dev_issuer import DEFAULT_CLIENT_ID, load_or_create_signing_key, write_issuer_file
    issuer = f"{base_url}/auth"
    os.environ["DEV_ISSUER"] = "1"
    os.environ["AUTH_ISSUER"] = issuer  # the local runtime always signs in through its own issuer
    os.environ.pop("AUTH_DISCOVERY_URL", None)
    os.environ.setdefault("AUTH_CLIENT_ID", DEFAULT_CLIENT_ID)
    os.environ.setdefault("AUTH_TOKEN_USE", "access,id")
    # The SPA as served here, and Vite's dev server (npm run dev) on its default port.
    # Both names of this machine, so http://localhost:PORT/ signs in as well as 127.0.0.1.
    port = base_url.rsplit(":", 1)[1]
    origins = dict.fromkeys([base_url, f"http://127.0.0.1:{port}", f"http://localhost:{port}",
                             "http://127.0.0.1:5173", "http://localhost:5173"])
    os.environ.setdefault("CORS_ORIGINS", ",".join(origins))
    from ..config import auth_settings
    config = auth_settings()
    load_or_create_signing_key(config.data_dir)
    write_issuer_file(config.data_dir, issuer, config.client_ids[0])
    return issuer


def start_agent(base_url: str, data_dir: str) -> subprocess.Popen | None:
    """The collector agent for this machine (and a watch on this very API), so the Hosts page
    shows real data at once. It authenticates with the runtime's own ``ingest:metrics`` key,
    passed in the environment so it never shows in ``ps``."""
    agent = Path(sys.executable).with_name("missionctl-agent")
    if not agent.exists():
        print("missionctl run: missionctl-agent is not installed (make run installs it); "
              "the Hosts page will stay empty", file=sys.stderr)
        return None
    from ..auth import ensure_local_api_key
    env = {**os.environ, "MISSIONCTL_AGENT_API_KEY": ensure_local_api_key("ingest:metrics")}
    return subprocess.Popen(
        [str(agent), "--url", base_url, "--watch", f"mission-control={base_url}/api/health",
         "--buffer-path", str(Path(data_dir) / "agent-buffer.sqlite3"), "--log-level", "WARNING"],
        cwd=PROJECT_DIR, env=env)


def stop_process(proc: subprocess.Popen | None, timeout_s: float = 10) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_local(host: str, port: int, live: bool = True, agent: bool = True,
              verbose: bool = False, ws_port: int | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    os.environ.setdefault("STORE", "sqlite:" + str(PROJECT_DIR / ".data" / "mission-control.db"))
    spa = PROJECT_DIR / "static-site" / "dist"
    if "SPA_DIR" not in os.environ and (spa / "index.html").exists():
        os.environ["SPA_DIR"] = str(spa)
    sys.path.insert(0, str(PROJECT_DIR))

    from ..config import settings
    from ..storage import default_store
    s = settings()
    store = default_store()
    store.ensure_tables()

    base_url = f"http://{host}:{port}"
    ws_port = ws_port or port + 1
    for taken in (port, ws_port):
        if not port_is_free(host, taken):
            print(f"missionctl run: {host}:{taken} is already in use; stop what runs there or pass "
                  f"--port / --ws-port (e.g. make run PORT=8010)", file=sys.stderr)
            return 1
    # The SPA's config.json names the WebSocket API (chalice local inherits this environment).
    from .websocket import STAGE, management_client, websocket_url
    os.environ["LIVE_WEBSOCKET_URL"] = websocket_url(host, ws_port)
    management_port = any_free_port(host)
    issuer = configure_sign_in(base_url)
    from ..auth import ensure_local_api_key
    ingest_key = ensure_local_api_key("ingest:business")
    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server = subprocess.Popen(server_command(host, port, verbose), cwd=PROJECT_DIR,
                              env=os.environ.copy())

    threads: list[threading.Thread] = []
    agent_proc = None
    websockets = WebSocketSupervisor(host, ws_port, management_port)
    websockets.start()
    # The worker's push handler sends through the local management API, as Lambda's through AWS's.
    from ..live import management
    management.register(management.endpoint_of(f"{host}:{ws_port}", STAGE),
                        management_client(f"http://{host}:{management_port}/{STAGE}"))
    try:
        wait_until_healthy(base_url, server)
        if agent:
            from ..config import auth_settings
            agent_proc = start_agent(base_url, auth_settings().data_dir)
        from app import app  # the very app chalice local serves, for its handlers
        from .worker import LocalWorker
        worker = LocalWorker(app, store, s.table_prefix)
        threads.append(threading.Thread(target=worker.run, args=(stop,), name="worker", daemon=True))
        if live:
            traffic = LiveTraffic(base_url, s.reporting_currency, ingest_key)
            threads.append(threading.Thread(target=traffic.run, args=(stop,), name="live", daemon=True))
        for thread in threads:
            thread.start()
        spa_note = "" if os.environ.get("SPA_DIR") else " (API only: the SPA is not built)"
        print(f"\nMission Control is running: open {base_url}/ and pick a demo user (viewer, operator "
              f"or admin) to sign in.\n"
              f"  listening on {base_url}{spa_note}; store {s.store}; sign-in page {issuer}/authorize\n"
              f"  live updates (WebSocket) on {websocket_url(host, ws_port)}\n"
              f"  a token for curl: curl -H \"Authorization: Bearer $(.venv/bin/missionctl token --role "
              f"viewer)\" {base_url}/api/kpis\n"
              f"  an API key to send data: .venv/bin/missionctl apikey create --scope ingest:business\n"
              f"  Ctrl-C stops it.\n", flush=True)
        while not stop.wait(0.5):
            websockets.check()
            if server.poll() is not None:
                print(f"chalice local stopped (code {server.returncode}); shutting down", file=sys.stderr)
                return 1
        return 0
    except RuntimeError as exc:
        print(f"missionctl run: {exc}", file=sys.stderr)
        return 1
    finally:
        stop.set()
        stop_process(agent_proc)  # first, so its last samples reach the API still running
        stop_process(server)
        websockets.stop()
        for thread in threads:
            thread.join(timeout=10)
        print("Mission Control stopped.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-live", action="store_true", help="no synthetic live traffic")
    parser.add_argument("--no-agent", action="store_true", help="no collector agent for this machine")
    parser.add_argument("--verbose", action="store_true", help="the server logs a line per request")
    parser.add_argument("--ws-port", type=int, default=None, help="the WebSocket API's port (default: --port + 1)")
    args = parser.parse_args(argv)
    return run_local(args.host, args.port, live=not args.no_live, agent=not args.no_agent,
                     verbose=args.verbose, ws_port=args.ws_port)


if __name__ == "__main__":
    sys.exit(main())
