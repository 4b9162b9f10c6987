"""Storage: one interface (`interface.Store`), two engines, chosen by the `STORE` setting.

Only this package knows which engine runs; boto3 is imported only when DynamoDB is chosen.
"""
from __future__ import annotations

import threading

from .interface import (  # noqa: F401  (the package's public names)
    AlreadyExists, Change, ChangeBatch, Delete, GroupCancelled, Increment, InvalidCursor, Item, Op, Page, Put,
    Store, StorageError, TransactionCancelled, VersionConflict, VersionedPut,
    MAX_TRANSACTION_OPS,
)

_lock = threading.Lock()
_stores: dict[tuple[str, str], Store] = {}
_chosen: list[Store] = []  # a store chosen in code (tests, benchmarks) wins over STORE


def open_store(store: str, table_prefix: str = "") -> Store:
    """The store for a `STORE` setting, one per process (engines keep their own connections)."""
    key = (store, table_prefix)
    with _lock:
        if key not in _stores:
            if store == "dynamodb":
                from .dynamodb_engine import DynamoStore
                _stores[key] = DynamoStore(table_prefix)
            elif store.startswith("sqlite:"):
                from .sqlite_engine import SqliteStore
                _stores[key] = SqliteStore(store[len("sqlite:"):])
            else:
                raise ValueError(f"STORE={store!r}: use sqlite:<path> or dynamodb")
        return _stores[key]


def default_store() -> Store:
    """The store every feature uses: the one chosen by ``use_store``, else ``STORE``'s."""
    if _chosen:
        return _chosen[-1]
    from ..config import settings
    s = settings()
    return open_store(s.store, s.table_prefix)


def release_connections() -> None:
    """Give the calling thread's connections back to their stores' pools (SQLite keeps one per
    thread until then); a server calls it after each request."""
    with _lock:
        stores = [*_stores.values(), *_chosen]
    for store in stores:
        release = getattr(store, "release", None)  # DynamoDB's client needs no such thing
        if release is not None:
            release()


def use_store(store: Store | None) -> None:
    """Make ``store`` the default store of this process (None: back to ``STORE``)."""
    _chosen.clear()
    if store is not None:
        _chosen.append(store)
