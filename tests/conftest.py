"""Fixtures shared by every test layer.

Every route but health (and the SPA's static files) needs credentials, so the app is reached
the way a real client reaches it: user tokens minted by a test issuer whose discovery document
and JWKS are served over loopback HTTP (``loopback_issuer``), API keys created through the
same code admins use. Nothing turns the check off.

- ``api``: chalice.test.Client on a fresh SQLite store, signed in as an admin and holding an
  API key with every ingest scope; a test's own ``authorization``/``x-api-key`` headers win.
- ``anonymous_api``: the same app and store, no credentials.
- ``issuer``: the loopback issuer (``issuer.token("viewer")``, ``issuer.sign(claims)``).
- ``access_gate``: the gate the app checks with, with an injectable clock (``clock``).
"""
import os

import pytest

# Settings are read once per process: pin the ones tests rely on before anything imports them.
os.environ.setdefault("TEAM_TIMEZONE", "UTC")
os.environ.setdefault("REPORTING_CURRENCY", "USD")
os.environ.setdefault("STORE", "sqlite::memory:")


@pytest.fixture
def sqlite_store(tmp_path):
    from chalicelib.storage.sqlite_engine import SqliteStore
    store = SqliteStore(str(tmp_path / "store.db"))
    yield store
    store.close()


@pytest.fixture(scope="session")
def issuer(tmp_path_factory):
    """A token issuer on a loopback port, its signing key made for this session."""
    from loopback_issuer import LoopbackIssuer
    server = LoopbackIssuer.start(tmp_path_factory.mktemp("issuer"))
    yield server
    server.stop()


class Clock:
    """Epoch seconds that tests move by hand (``clock.advance(6)``); starts at the real time."""

    def __init__(self):
        import time
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def access_gate(issuer, clock):
    """The app's access gate for this test: trusts ``issuer``, reads keys from the default store."""
    from chalicelib.auth import AccessGate, repository, use_gate
    gate = AccessGate(issuer.settings(), repository, clock=clock)
    use_gate(gate)
    yield gate
    use_gate(None)


class SignedInHttp:
    """chalice.test's HTTP client adding default credential headers a request does not set."""

    def __init__(self, http, headers: dict):
        self._http = http
        self._headers = headers

    def request(self, method: str, path: str, headers=None, body=b""):
        given = {k.lower() for k in (headers or {})}
        merged = {**{k: v for k, v in self._headers.items() if k.lower() not in given}, **(headers or {})}
        return self._http.request(method, path, headers=merged, body=body)

    def __getattr__(self, method: str):
        if method in ("get", "post", "put", "patch", "delete", "head", "options"):
            return lambda path, **kwargs: self.request(method.upper(), path, **kwargs)
        return getattr(self._http, method)


class SignedInClient:
    def __init__(self, client, headers: dict):
        self._client = client
        self.http = SignedInHttp(client.http, headers)

    def __getattr__(self, name: str):
        return getattr(self._client, name)


@pytest.fixture
def anonymous_api(sqlite_store, access_gate):
    """The Chalice app through chalice.test.Client, on a fresh SQLite store, no credentials."""
    yield from _client_on(sqlite_store)


@pytest.fixture
def api(anonymous_api, access_gate, issuer):
    """The app as an admin who also holds an API key with every ingest scope."""
    from chalicelib.auth.api_keys import INGEST_SCOPES
    key, _record = access_gate.create_key(list(INGEST_SCOPES), "tests", "tests")
    yield SignedInClient(anonymous_api, {"authorization": f"Bearer {issuer.token('admin')}",
                                         "x-api-key": key})


def admin_with_every_key_on(store, access_gate, issuer):
    """The app on ``store`` through chalice.test.Client, as an admin who also holds an API key
    with every ingest scope (a generator, for fixtures)."""
    from chalicelib.auth.api_keys import INGEST_SCOPES
    for client in _client_on(store):
        key, _record = access_gate.create_key(list(INGEST_SCOPES), "tests", "tests")
        yield SignedInClient(client, {"authorization": f"Bearer {issuer.token('admin')}", "x-api-key": key})


def client_wired_like_app(app):
    """``app`` given the edge and access-check middleware and preflight routes as app.py wires
    them, through chalice.test.Client (a generator, for fixtures)."""
    from chalice.test import Client

    from chalicelib.auth import gate
    from chalicelib.auth.middleware import access_check
    from chalicelib.web import add_preflight_routes, http_edge
    app.register_middleware(http_edge(app, lambda: gate().config), "http")
    app.register_middleware(access_check(app), "http")
    add_preflight_routes(app)
    with Client(app) as client:
        yield client


def _client_on(store):
    from chalice.test import Client

    from app import app
    from chalicelib.storage import use_store
    use_store(store)
    try:
        with Client(app) as client:
            yield client
    finally:
        use_store(None)
