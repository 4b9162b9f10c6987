"""Fixtures shared by every test layer."""
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


@pytest.fixture
def api(sqlite_store):
    """The Chalice app through chalice.test.Client, on a fresh SQLite store."""
    yield from _client_on(sqlite_store)


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
