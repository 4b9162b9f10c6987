"""End-to-end fixtures: the product started as a user starts it, and Debian's headless Chromium.

- ``spa_dist``: the built SPA (``static-site/dist``), rebuilt with npm when its sources are newer.
- ``product``: ``python -m chalicelib.local.runner --no-live`` on a free loopback port with a fresh
  SQLite store in a temp dir; ``stop()``/``start()`` simulate an outage on the same port and store.
- ``browser`` / ``page``: Playwright for Python driving ``/usr/bin/chromium`` (``CHROMIUM`` overrides).

Credentials, as a user gets them: ``product.request`` carries an admin token from the runner's
dev issuer (``missionctl token --role admin``) and an ``ingest:business`` API key
(``missionctl apikey create``). Browsers sign in as people do, through the SPA's authorization
code flow with PKCE and the runner's sign-in page (``/auth/authorize``): ``signed_in_page(role)``
opens a page signed in as the demo user of that role; ``page`` is a signed-out page. Tokens live
in the page's memory only; a reload, or another tab of the same context, signs in again without
the page, through the issuer's sign-in session (its cookie), as with Cognito's hosted UI.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC_SITE = ROOT / "static-site"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
#: figures the e2e tests measured; printed in the terminal summary (never asserted as limits)
METRICS: dict[str, float] = {}


@pytest.fixture(scope="session")
def metrics() -> dict[str, float]:
    return METRICS


def pytest_terminal_summary(terminalreporter):
    if METRICS:
        terminalreporter.section("e2e measurements")
        for name, value in METRICS.items():
            terminalreporter.write_line(f"{name}: {value:.0f}")


# ---------------------------------------------------------------- the SPA build

def _newest_mtime(paths) -> float:
    newest = 0.0
    for p in paths:
        if p.is_dir():
            for f in p.rglob("*"):
                if f.is_file():
                    newest = max(newest, f.stat().st_mtime)
        elif p.exists():
            newest = max(newest, p.stat().st_mtime)
    return newest


@pytest.fixture(scope="session")
def spa_dist() -> Path:
    """static-site/dist, built if missing or older than its sources (E2E_SPA_DIR overrides)."""
    if os.environ.get("E2E_SPA_DIR"):
        dist = Path(os.environ["E2E_SPA_DIR"])
        assert (dist / "index.html").exists(), f"E2E_SPA_DIR={dist} has no index.html"
        return dist
    dist = STATIC_SITE / "dist"
    sources = [STATIC_SITE / n for n in ("src", "public", "index.html", "vite.config.ts", "package-lock.json")]
    if (dist / "index.html").exists() and (dist / "index.html").stat().st_mtime >= _newest_mtime(sources):
        return dist
    npm = shutil.which("npm")
    if not npm:
        pytest.fail("the SPA is not built and npm is not installed: install Node.js 20+, then "
                    "`npm ci && npm run build` in static-site/")
    if not (STATIC_SITE / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=STATIC_SITE, check=True)
    subprocess.run([npm, "run", "build"], cwd=STATIC_SITE, check=True)
    return dist


# ---------------------------------------------------------------- the product

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Product:
    """The local runtime on one port and one store, stoppable and restartable."""

    def __init__(self, data_dir: Path, spa_dir: Path, port: int, agent: bool = False,
                 verbose: bool = False):
        self.data_dir = data_dir
        self.spa_dir = spa_dir
        self.port = port
        self.agent = agent  # the collector agent for this machine, as make run starts it
        self.verbose = verbose  # make run VERBOSE=1: a log line per request
        self.base_url = f"http://127.0.0.1:{port}"
        self.ws_port = free_port()  # the local WebSocket API's (the runner's default is port + 1)
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []
        self._tokens: dict[str, str] = {}
        self._api_key: str | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("SPA_API_BASE_URL",)}
        env.update({
            "STORE": f"sqlite:{self.data_dir / 'mission-control.db'}",
            "SPA_DIR": str(self.spa_dir),
            "TEAM_TIMEZONE": "UTC",
            "REPORTING_CURRENCY": "USD",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def start(self, timeout_s: float = 60) -> None:
        """Start and wait for the runner's "listening on" line."""
        if not self._start_once(timeout_s):
            pytest.fail(f"the product did not start on {self.base_url}:\n" + "\n".join(self.output[-40:]))

    def _start_once(self, timeout_s: float) -> bool:
        assert self.proc is None, "already running"
        self.output = []
        ready = threading.Event()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.local.runner", "--host", "127.0.0.1",
             "--port", str(self.port), "--ws-port", str(self.ws_port), "--no-live",
             *([] if self.agent else ["--no-agent"]),
             *(["--verbose"] if self.verbose else [])],
            cwd=ROOT, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # its own process group: the server goes down with it
        )
        proc = self.proc
        marker = f"listening on {self.base_url}"

        def pump():
            assert proc.stdout is not None
            for line in proc.stdout:
                self.output.append(line.rstrip())
                if marker in line:
                    ready.set()
        reader = self._reader = threading.Thread(target=pump, daemon=True, name=f"product-{self.port}")
        reader.start()

        deadline = time.monotonic() + timeout_s
        while not ready.wait(0.1):
            if proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                reader.join(timeout=5)
                return False
        return True

    def interrupt(self, timeout_s: float = 20) -> int:
        """Ctrl-C in the terminal: SIGINT to the whole process group. The exit code."""
        proc, self.proc = self.proc, None
        assert proc is not None, "not running"
        os.killpg(proc.pid, signal.SIGINT)
        try:
            return proc.wait(timeout=timeout_s)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            self._reader.join(timeout=10)  # the last lines it printed

    def server_pid(self, module: str = "chalicelib.local.server") -> int:
        """The local server's process (the runner's child serving HTTP; ``module``
        ``chalicelib.local.websocket``: the one serving WebSockets)."""
        assert self.proc is not None, "not running"
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                if module in Path(f"/proc/{child}/cmdline").read_text():
                    return int(child)
        raise AssertionError(f"the runner has no {module} process")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # The port must be free again before a restart (and nothing may answer meanwhile).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.1)
        raise AssertionError(f"something still answers on port {self.port} after stopping")

    # -- credentials, made with missionctl against this product's store and issuer

    def missionctl(self, *args: str) -> str:
        script = Path(sys.executable).with_name("missionctl")
        command = [str(script)] if script.exists() else [
            sys.executable, "-c", "import sys; from chalicelib.cli import main; sys.exit(main())"]
        done = subprocess.run([*command, *args], cwd=ROOT, env=self.env(), capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, f"missionctl {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def token(self, role: str = "admin") -> str:
        """An access token of the demo user with ``role`` (valid an hour)."""
        if role not in self._tokens:
            self._tokens[role] = self.missionctl("token", "--role", role, "--minutes", "60")
        return self._tokens[role]

    def api_key(self) -> str:
        """An ``ingest:business`` API key (created once per product)."""
        if self._api_key is None:
            self._api_key = self.missionctl("apikey", "create", "--scope", "ingest:business",
                                            "--name", "e2e tests")
        return self._api_key

    # -- the API, as a client would use it

    def request(self, method: str, path: str, body=None, headers: dict | None = None):
        """JSON over HTTP with an admin token and an ingest key (``headers`` override them)."""
        data = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", "Accept": "application/json",
                "Authorization": f"Bearer {self.token()}", "x-api-key": self.api_key()}
        sent.update(headers or {})
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={k: v for k, v in sent.items() if v is not None})
        try:
            with urllib.request.urlopen(req, timeout=15) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def get(self, path: str):
        status, body = self.request("GET", path)
        assert status == 200, (path, status, body)
        return body

    def ingest_purchases(self, purchases: list[dict]) -> dict:
        status, body = self.request("POST", "/api/ingest/purchase", purchases)
        assert status == 200, body
        assert body["accepted"] == len(purchases), body
        return body


@pytest.fixture
def product(tmp_path, spa_dist):
    p = Product(tmp_path / "data", spa_dist, free_port())
    p.data_dir.mkdir()
    p.start()
    try:
        yield p
    finally:
        p.stop()


# ---------------------------------------------------------------- the browser

@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(executable):
        pytest.fail(f"no Chromium at {executable}: install Debian's with `apt-get install -y chromium` "
                    "(or set CHROMIUM to a Chromium binary)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_context(browser):
    """Contexts with a fixed locale, so formatted money and dates are deterministic. Signed out:
    nothing is injected; pages sign in through the product's own sign-in page."""
    contexts = []

    def make(**kwargs):
        kwargs.setdefault("viewport", {"width": 1280, "height": 900})
        kwargs.setdefault("locale", "en-US")
        kwargs.setdefault("timezone_id", "UTC")
        ctx = browser.new_context(**kwargs)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def page_errors():
    """Uncaught errors of the pages a test opened (``watch(page)``); the test fails on any."""
    errors: list[str] = []

    def watch(page):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield watch
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(new_context, page_errors):
    """A signed-out page."""
    return page_errors(new_context().new_page())


# ---------------------------------------------------------------- signing in

def complete_sign_in(page, role: str = "viewer") -> None:
    """The page was sent to the runner's sign-in page (a signed-out SPA does that by itself):
    pick the demo user with ``role`` and wait until the SPA shows them signed in."""
    from playwright.sync_api import expect
    page.wait_for_url(re.compile(r"/auth/authorize\?"))
    page.locator(f'button[name="user"][value="{role}"]').click()
    expect(page.get_by_test_id("user-role")).to_have_text(role, timeout=15_000)


@pytest.fixture(name="complete_sign_in")
def complete_sign_in_fixture():
    """``complete_sign_in(page, role)``, for a test whose page must pick a user again (after a
    sign-out, or in a new browser context)."""
    return complete_sign_in


@pytest.fixture
def signed_in_page(product, new_context, page_errors):
    """``signed_in_page(role="viewer", path="/", **context_options)``: a new browser context
    whose page opened ``path`` of the product, was sent to the sign-in page, and signed in as
    the demo user of ``role`` — the whole authorization code flow, as a person does it."""
    def open_page(role: str = "viewer", path: str = "/", **context_options):
        page = page_errors(new_context(**context_options).new_page())
        page.goto(product.base_url + path)
        complete_sign_in(page, role)
        return page
    return open_page
