"""The embedded engine: one SQLite file, WAL mode, safe for several processes (the local
server, the local worker, missionctl) writing at once.

All logical tables share one physical table keyed by (tbl, pk, sk); the secondary index and TTL
are real SQLite columns so that queries use indexes, never scans. Streamed tables append to a
change log in the same SQLite transaction as the write, so the log never misses or invents a
change.

Connections come from a small pool: a thread holds one while it works and gives it back when
it calls ``release()`` (the local server does after every request) or when it ends, so the
number of open handles follows the work in flight, never the number of clients or threads.
The file uses incremental auto-vacuum: the change log, trimmed once the local worker has
delivered it, gives its pages back to the file system (``compact``).
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from typing import Any, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from .interface import (
    AlreadyExists, Change, ChangeBatch, Delete, GroupCancelled, Increment, Item, Op, Page, Put,
    TransactionCancelled, VersionConflict, VersionedPut, check_item, check_ops,
    FieldPath, check_field_paths, decode_cursor, encode_cursor, op_key, set_path,
)
from .tables import TABLES

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    tbl TEXT NOT NULL, pk TEXT NOT NULL, sk TEXT NOT NULL,
    data TEXT NOT NULL, ttl INTEGER, gsi1pk TEXT, gsi1sk TEXT,
    PRIMARY KEY (tbl, pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (tbl, gsi1pk, gsi1sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_ttl ON items (ttl) WHERE ttl IS NOT NULL;
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, event TEXT NOT NULL,
    pk TEXT NOT NULL, sk TEXT NOT NULL, new TEXT, old TEXT, at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_tbl ON changes (tbl, seq);
"""


def _now_s() -> int:
    return int(time.time())


def _live(ttl: Any, now_s: int) -> bool:
    return ttl is None or ttl > now_s


def _condition_holds(op: Op, current: Item | None) -> bool:
    """Whether ``op``'s condition holds against the stored item (None: absent or expired)."""
    if isinstance(op, Put) and op.if_absent:
        return current is None
    if isinstance(op, VersionedPut):
        if op.expected_version is None:
            return current is None
        return current is not None and current.get("version") == op.expected_version
    if isinstance(op, Delete) and op.must_exist:
        return current is not None
    return True


def _after(op: Op, old: Item | None) -> Item | None:
    """The item as ``op`` leaves it, from ``old`` (None: absent); None when deleted."""
    if isinstance(op, Put):
        return op.item  # serialised at once, never changed
    if isinstance(op, VersionedPut):
        return {**op.item, "version": (op.expected_version or 0) + 1}
    if isinstance(op, Increment):
        item: Item = dict(old) if old is not None else {"pk": op.pk, "sk": op.sk}
        for name, value in op.defaults.items():
            item.setdefault(name, value)
        for name, delta in op.deltas.items():
            item[name] = item.get(name, 0) + delta
        return item
    if isinstance(op, Delete):
        return None
    raise TypeError(f"not a storage op: {op!r}")


#: One encoder, built once: json.dumps with options builds a new encoder per call.
_to_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
_LOG_INSERT = "INSERT INTO changes (tbl, event, pk, sk, new, old, at_ms) VALUES (?,?,?,?,?,?,?)"


def _log_row(table: str, event: str, pk: str, sk: str, new_json: str | None,
             old: Item | None) -> tuple:
    return (table, event, pk, sk, new_json, None if old is None else _to_json(old),
            int(time.time() * 1000))


#: The attributes with columns (and indexes) of their own besides the data.
_INDEXED = ("ttl", "gsi1pk", "gsi1sk")
_UPSERT = ("INSERT OR REPLACE INTO items (tbl, pk, sk, data, ttl, gsi1pk, gsi1sk) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)")


def _enable_wal(conn: sqlite3.Connection, attempts: int = 200) -> None:
    """Switch the file to WAL (persistent, so only its first opener really changes it).

    SQLite does not call the busy handler for this switch: when several processes open a new
    file at once, all but one get "database is locked" at once. Retry, briefly, instead."""
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


#: connections a process keeps open to one file: enough for the few requests a local server
#: has in flight at once (SQLite runs one writer at a time anyway), few enough that file handles
#: and SQLite's page caches (up to 2 MB each) stay small. They are reused, never closed while
#: the store is in use: SQLite keeps the descriptor of a connection closed while another one of
#: the process holds a lock on the file (POSIX locks belong to the process), so closing and
#: opening connections under load piles up descriptors.
POOL_SIZE = 8
#: how long a thread waits for a pooled connection before it opens one more (closed when given
#: back): a bound, so that a thread holding one while it waits on another request of this very
#: process (a JWKS fetch from the dev issuer) can never deadlock
POOL_WAIT_S = 2.0
#: each connection's page cache (SQLite's default is 2,000 KiB): the file's hot pages are in the
#: operating system's cache anyway
PAGE_CACHE_KIB = 1024
#: what the WAL file is cut back to after a checkpoint (SQLite checkpoints at ~4 MB by default)
WAL_KEPT_BYTES = 4 * 1024 * 1024
#: ``PRAGMA auto_vacuum``'s value for INCREMENTAL
_AUTO_VACUUM_INCREMENTAL = 2


class _ConnectionPool:
    """SQLite connections of one file, shared by the threads of a process one at a time."""

    def __init__(self, open_connection: Callable[[], sqlite3.Connection], size: int, wait_s: float):
        self._open = open_connection
        self._size = size
        self._wait_s = wait_s
        self._opened = 0
        self._idle: list[sqlite3.Connection] = []
        self._free = threading.Condition()

    def take(self) -> sqlite3.Connection:
        deadline = time.monotonic() + self._wait_s
        with self._free:
            while not self._idle and self._opened >= self._size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break  # an extra connection, closed when given back
                self._free.wait(remaining)
            if self._idle:
                return self._idle.pop()
            self._opened += 1
        try:
            return self._open()
        except BaseException:
            self._forget()
            raise

    def give(self, conn: sqlite3.Connection) -> None:
        # Never hand a half-done transaction on; and an extra connection is closed.
        if not conn.in_transaction:
            with self._free:
                if self._opened <= self._size:
                    self._idle.append(conn)
                    self._free.notify()
                    return
        self.discard(conn)

    def discard(self, conn: sqlite3.Connection) -> None:
        self._forget()
        conn.close()

    def _forget(self) -> None:
        with self._free:
            self._opened -= 1
            self._free.notify()

    def close_idle(self) -> None:
        with self._free:
            idle, self._idle = self._idle, []
            self._opened -= len(idle)
            self._free.notify_all()
        for conn in idle:
            conn.close()


class _Lease:
    """The pool connection one thread holds. It lives in the thread's ``threading.local``, so
    a thread that ends without ``release()`` still gives its connection back: the local dies
    with the thread, and this with it."""

    __slots__ = ("conn", "pool")

    def __init__(self, pool: _ConnectionPool):
        self.pool = pool
        self.conn: sqlite3.Connection | None = pool.take()

    def give_back(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            self.pool.give(conn)

    def __del__(self) -> None:
        try:
            self.give_back()
        except Exception:  # noqa: BLE001 - at interpreter exit the pool may be half torn down
            pass


class _Playback:
    """Transactions played in memory against items read beforehand: each checks its
    conditions against what the ones before it left and, if they hold, records what it
    writes; ``write`` then stores the outcome of all of them."""

    __slots__ = ("stored", "now", "log", "streamed", "checked")

    def __init__(self, stored: dict[tuple[str, str, str], Item], streamed: set[str]):
        self.stored = stored  # live items at the keys, as read (absent: none)
        self.now: dict[tuple[str, str, str], Item | None] = {}  # as the played ops leave them
        self.log: list[tuple] = []  # (key, new, old) of every write to a streamed table
        self.streamed = streamed
        # Each group's op list with the keys its check computed, by the list's id (the
        # entry holds the list, so no other object takes that id while the call runs).
        self.checked: dict[int, tuple[Sequence[Op], list]] = {}

    def play(self, ops: Sequence[Op], keys: Sequence[tuple[str, str, str]]) -> list[int]:
        """Apply ``ops`` (whose keys are ``keys``) all or none; returns the indices of
        failed conditions."""
        now, stored = self.now, self.stored
        current = [now[k] if k in now else stored.get(k) for k in keys]
        failed = [i for i, op in enumerate(ops) if not _condition_holds(op, current[i])]
        if failed:
            return failed
        for key, op, old in zip(keys, ops, current):
            new = now[key] = _after(op, old)
            if key[0] in self.streamed and (new is not None or old is not None):
                self.log.append((key, new, old))
        return []

    def write(self, conn: sqlite3.Connection) -> None:
        rows, updates, gone = [], [], []
        encoded: dict[tuple[str, str, str], str] = {}  # the final items, for the log too
        for key, new in self.now.items():
            table, pk, sk = key
            if new is None:
                gone.append(key)
                continue
            data = encoded[key] = _to_json(new)
            old = self.stored.get(key)
            if old is not None and all(old.get(c) == new.get(c) for c in _INDEXED):
                updates.append((data, table, pk, sk))  # no index moves: the cheaper statement
            else:
                rows.append((table, pk, sk, data, new.get("ttl"), new.get("gsi1pk"), new.get("gsi1sk")))
        if rows:
            conn.executemany(_UPSERT, rows)
        if updates:
            conn.executemany("UPDATE items SET data=? WHERE tbl=? AND pk=? AND sk=?", updates)
        if gone:
            conn.executemany("DELETE FROM items WHERE tbl=? AND pk=? AND sk=?", gone)
        if self.log:  # every write in op order, so the change stream shows them as they happened
            conn.executemany(_LOG_INSERT, [
                _log_row(key[0], "REMOVE" if new is None else "MODIFY" if old is not None else "INSERT",
                         key[1], key[2], None if new is None else
                         encoded[key] if self.now[key] is new else _to_json(new), old)
                for key, new, old in self.log])


class SqliteStore:
    """:class:`~chalicelib.storage.interface.Store` on a SQLite file."""

    engine = "sqlite"

    def __init__(self, path: str):
        self.path = path
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._local = threading.local()
        self._pool = _ConnectionPool(self._open, POOL_SIZE, POOL_WAIT_S)
        # Each connection to ":memory:" is a database of its own: there a thread keeps its
        # connection for good (tests use it from one thread).
        self._releasable = path != ":memory:"
        self._streamed = {name for name, spec in TABLES.items() if spec.stream}
        self.request_count = 0  # store requests made, for benchmarks and cost tests
        self.ensure_tables()
        self.release()  # the constructing thread may never use the store again

    # -- connection -------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        # check_same_thread=False: a connection passes between threads through the pool,
        # never used by two at once.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        # Before anything writes the file's header (the switch to WAL does): only a new file
        # takes an auto_vacuum mode at once, an older one keeps its own until
        # ``compact(convert=True)``. INCREMENTAL lets ``compact`` give the pages of trimmed
        # change-log entries back to the file system.
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        # The WAL file keeps the largest size it ever reached (one big trim of the change log
        # took it to 20 MB); after a checkpoint, cut it back to this.
        conn.execute(f"PRAGMA journal_size_limit={WAL_KEPT_BYTES}")
        conn.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        return conn

    def _conn(self) -> sqlite3.Connection:
        lease = getattr(self._local, "lease", None)
        if lease is None:
            lease = self._local.lease = _Lease(self._pool)
        return lease.conn

    def release(self) -> None:
        """Give the calling thread's connection back to the pool, for another thread to use.
        Call it where a thread's work ends (the local server does after each request); a
        thread that never calls it gives its connection back when it ends."""
        lease = getattr(self._local, "lease", None)
        if lease is not None and self._releasable:
            self._local.lease = None
            lease.give_back()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front, so read-check-write sequences inside
        # are atomic against the other processes sharing the file.
        conn = self._conn()
        if conn.in_transaction:
            # Inside transact_groups: a savepoint of the one open transaction, not a request.
            conn.execute("SAVEPOINT nested")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK TO nested")
                conn.execute("RELEASE nested")
                raise
            conn.execute("RELEASE nested")
            return
        self.request_count += 1
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection and every idle one (the store opens new ones if it
        is used again)."""
        lease = getattr(self._local, "lease", None)
        self._local.lease = None
        if lease is not None and lease.conn is not None:
            lease.conn, conn = None, lease.conn
            self._pool.discard(conn)
        self._pool.close_idle()

    def ensure_tables(self, progress: Any = None) -> None:
        self._conn().executescript(_SCHEMA)

    # -- row helpers ------------------------------------------------------------------------
    @staticmethod
    def _table(table: str) -> str:
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}; declare it in chalicelib/storage/tables.py")
        return table

    def _read(self, conn: sqlite3.Connection, table: str, pk: str, sk: str) -> Item | None:
        row = conn.execute("SELECT data, ttl FROM items WHERE tbl=? AND pk=? AND sk=?",
                           (table, pk, sk)).fetchone()
        if row is None or not _live(row[1], _now_s()):
            return None
        return json.loads(row[0])

    def _write_item(self, conn: sqlite3.Connection, table: str, item: Item, old: Item | None) -> None:
        conn.execute(
            _UPSERT,
            (table, item["pk"], item["sk"], _to_json(item),
             item.get("ttl"), item.get("gsi1pk"), item.get("gsi1sk")))
        self._log(conn, table, "MODIFY" if old is not None else "INSERT", item["pk"], item["sk"],
                  item, old)

    def _delete_item(self, conn: sqlite3.Connection, table: str, pk: str, sk: str,
                     old: Item | None) -> None:
        conn.execute("DELETE FROM items WHERE tbl=? AND pk=? AND sk=?", (table, pk, sk))
        if old is not None:
            self._log(conn, table, "REMOVE", pk, sk, None, old)

    def _log(self, conn: sqlite3.Connection, table: str, event: str, pk: str, sk: str,
             new: Item | None, old: Item | None) -> None:
        if table in self._streamed:
            conn.execute(_LOG_INSERT, _log_row(table, event, pk, sk,
                                               None if new is None else _to_json(new), old))

    # -- single-item operations -------------------------------------------------------------
    def get(self, table: str, pk: str, sk: str) -> Item | None:
        self.request_count += 1
        return self._read(self._conn(), self._table(table), pk, sk)

    def get_many(self, table: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Item]:
        self._table(table)
        conn, now, found = self._conn(), _now_s(), {}
        unique = list(dict.fromkeys(keys))
        # DynamoDB's BatchGetItem takes 100 keys a request; count requests the same way.
        for start in range(0, len(unique), 100):
            chunk = unique[start:start + 100]
            self.request_count += 1
            # A join with a VALUES list looks each key up by the primary key; a long OR of
            # (pk, sk) pairs makes SQLite's planner scan the table's rows instead.
            values = ",".join(["(?,?)"] * len(chunk))
            params: list[str] = [p for key in chunk for p in key]
            for data, ttl in conn.execute(
                    f"WITH k(pk, sk) AS (VALUES {values}) SELECT i.data, i.ttl FROM k "
                    f"JOIN items i ON i.tbl=? AND i.pk=k.pk AND i.sk=k.sk", [*params, table]):
                if _live(ttl, now):
                    item = json.loads(data)
                    found[(item["pk"], item["sk"])] = item
        return found

    def put(self, table: str, item: Item, *, if_absent: bool = True) -> None:
        try:
            self.transact([Put(table, item, if_absent)])
        except TransactionCancelled:
            raise AlreadyExists(f"{table}: {item['pk']}/{item['sk']} exists") from None

    def put_versioned(self, table: str, item: Item, expected_version: int | None) -> Item:
        try:
            self.transact([VersionedPut(table, item, expected_version)])
        except TransactionCancelled:
            raise VersionConflict(
                f"{table}: {item['pk']}/{item['sk']} is not at version {expected_version}") from None
        return {**item, "version": (expected_version or 0) + 1}

    def increment(self, table: str, pk: str, sk: str, deltas: Mapping[str, int | float],
                  defaults: Mapping[str, Any] | None = None) -> Item:
        op = Increment(self._table(table), pk, sk, dict(deltas), dict(defaults or {}))
        with self._write() as conn:
            old = self._read(conn, table, pk, sk)
            new = _after(op, old)
            self._write_item(conn, table, new, old)
            return new

    def delete(self, table: str, pk: str, sk: str) -> None:
        with self._write() as conn:
            self._delete_item(conn, self._table(table), pk, sk,
                              self._read(conn, table, pk, sk))

    # -- transactions -----------------------------------------------------------------------
    def transact(self, ops: Sequence[Op]) -> None:
        playback = getattr(self._local, "playback", None)
        if playback is not None:  # a group of transact_groups, checked and read already
            entry = playback.checked.get(id(ops))
            keys = entry[1] if entry is not None and entry[0] is ops else [op_key(op) for op in ops]
            failed = playback.play(ops, keys)
            if failed:
                raise TransactionCancelled(failed)
            return
        keys = self._check_ops(ops)
        with self._write() as conn:
            playback = _Playback(self._read_many(conn, keys), self._streamed)
            failed = playback.play(ops, keys)
            playback.write(conn)
        if failed:
            raise TransactionCancelled(failed)

    def transact_groups(self, groups: Sequence[Sequence[Op]]) -> None:
        """Every group through :meth:`transact`, in one database transaction with one commit.
        Whatever stops a group (a failed condition, an error), the groups before it are
        committed, as DynamoDB's separate transactions would have left them.

        The groups are played in memory against one read of every key they name, and what
        they leave is written at the end, a statement per kind of write: a batch of 500
        events is a dozen groups, and a read, a savepoint and several statements for each
        cost more than the writes themselves."""
        keyed = [self._check_ops(ops) for ops in groups]
        if not groups:
            return
        conn = self._conn()
        self.request_count += 1
        conn.execute("BEGIN IMMEDIATE")
        try:
            keys = list(dict.fromkeys(key for group in keyed for key in group))
            playback = self._local.playback = _Playback(self._read_many(conn, keys), self._streamed)
            playback.checked = {id(ops): (ops, group) for ops, group in zip(groups, keyed)}
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            for g, ops in enumerate(groups):
                try:
                    self.transact(ops)
                except TransactionCancelled as cancelled:
                    raise GroupCancelled(g, cancelled.failed) from None
        finally:
            self._local.playback = None
            try:
                playback.write(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _check_ops(self, ops: Sequence[Op]) -> list[tuple[str, str, str]]:
        """``check_ops``, known tables and well-formed items; returns the ops' keys."""
        keys = check_ops(ops)
        for op in ops:
            self._table(op.table)
            if isinstance(op, (Put, VersionedPut)):
                check_item(op.item)
        return keys

    def _read_many(self, conn: sqlite3.Connection,
                   keys: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], Item]:
        """The live items at ``keys`` (absent where missing or expired), a statement per
        10,000 keys (SQLite's default bound is 32,766 parameters)."""
        found: dict[tuple[str, str, str], Item] = {}
        now = _now_s()
        for start in range(0, len(keys), 10_000):
            chunk = keys[start:start + 10_000]
            values = ",".join(["(?,?,?)"] * len(chunk))
            for tbl, pk, sk, data, ttl in conn.execute(
                    f"WITH k(tbl, pk, sk) AS (VALUES {values}) SELECT i.tbl, i.pk, i.sk, i.data, "
                    f"i.ttl FROM k JOIN items i ON i.tbl=k.tbl AND i.pk=k.pk AND i.sk=k.sk",
                    [part for key in chunk for part in key]):
                if _live(ttl, now):
                    found[(tbl, pk, sk)] = json.loads(data)
        return found

    def batch_put(self, table: str, items: Sequence[Item]) -> None:
        self._table(table)
        for item in items:
            check_item(item)
        # One SQLite transaction per 25 items mirrors DynamoDB's BatchWriteItem, so request
        # counts compare across engines; SQLite itself never leaves items unprocessed.
        for start in range(0, len(items), 25):
            with self._write() as conn:
                for item in items[start:start + 25]:
                    old = (self._read(conn, table, item["pk"], item["sk"])
                           if table in self._streamed else None)
                    self._write_item(conn, table, dict(item), old)

    # -- queries ----------------------------------------------------------------------------
    def query(self, table: str, pk: str, *, sk_min: str | None = None, sk_max: str | None = None,
              sk_prefix: str | None = None, newest_first: bool = True, limit: int = 100,
              cursor: str | None = None, index: str | None = None,
              fields: Sequence[FieldPath] | None = None) -> Page:
        self._table(table)
        if index not in (None, "gsi1"):
            raise ValueError(f"unknown index {index!r}")
        if limit < 1:
            raise ValueError("limit must be at least 1")
        part, sort = ("gsi1pk", "gsi1sk") if index else ("pk", "sk")
        where, params = ["tbl=?", f"{part}=?"], [table, pk]
        if sk_min is not None:
            where.append(f"{sort}>=?")
            params.append(sk_min)
        if sk_max is not None:
            where.append(f"{sort}<=?")
            params.append(sk_max)
        if sk_prefix is not None:
            # A range, not LIKE, so the index is used and % or _ in keys mean nothing special.
            where.append(f"{sort}>=? AND {sort}<?")
            params += [sk_prefix, sk_prefix + "\U0010ffff"]
        order = "DESC" if newest_first else "ASC"
        if cursor is not None:
            last = decode_cursor(cursor, pk, index, sk_min, sk_max, sk_prefix)
            cmp = "<" if newest_first else ">"
            if index:
                where.append(f"(gsi1sk, pk, sk) {cmp} (?, ?, ?)")
                params += [last["gsi1sk"], last["pk"], last["sk"]]
            else:
                where.append(f"sk {cmp} ?")
                params.append(last["sk"])
        tie = f", pk {order}, sk {order}" if index else ""
        if fields is None:
            columns, paths = "data", []
        else:
            check_field_paths(fields)
            paths = ["$" + "".join(f'."{part}"' for part in path) for path in fields]
            columns = ", ".join(["data -> ?"] * len(paths))  # JSON text of the value, or NULL
        sql = (f"SELECT pk, sk, gsi1pk, gsi1sk, ttl, {columns} FROM items "
               f"WHERE {' AND '.join(where)} ORDER BY {sort} {order}{tie} LIMIT ?")
        self.request_count += 1
        rows = self._conn().execute(sql, [*paths, *params, limit + 1]).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        now = _now_s()
        items = []
        for row in rows:
            if not _live(row[4], now):
                continue
            if fields is None:
                items.append(json.loads(row[5]))
                continue
            item: Item = {"pk": row[0], "sk": row[1]}
            if row[2] is not None:
                item.update(gsi1pk=row[2], gsi1sk=row[3])
            for path, value in zip(fields, row[5:]):
                if value is not None:
                    set_path(item, path, json.loads(value))
            items.append(item)
        next_cursor = None
        if more and rows:
            pk_, sk_, g1pk, g1sk = rows[-1][:4]
            key = {"pk": pk_, "sk": sk_}
            if index:
                key.update(gsi1pk=g1pk, gsi1sk=g1sk)
            next_cursor = encode_cursor(pk, index, key)
        return Page(items, next_cursor)

    # -- change stream ----------------------------------------------------------------------
    def changes(self, table: str, after: str | None = None, limit: int = 100) -> ChangeBatch:
        self._table(table)
        start = int(after) if after else 0
        self.request_count += 1
        rows = self._conn().execute(
            "SELECT seq, event, pk, sk, new, old FROM changes WHERE tbl=? AND seq>? "
            "ORDER BY seq LIMIT ?", (table, start, limit)).fetchall()
        changes = [Change(table, event, {"pk": pk, "sk": sk},
                          json.loads(new) if new else None, json.loads(old) if old else None,
                          str(seq)) for seq, event, pk, sk, new, old in rows]
        return ChangeBatch(changes, changes[-1].sequence if changes else after)

    # -- housekeeping (local worker) ----------------------------------------------------------
    def purge_expired(self, change_retention_s: int = 24 * 3600) -> int:
        """Delete expired items and change-log entries older than the retention; returns the
        number of items deleted. DynamoDB does both by itself (TTL, 24 h stream retention)."""
        now = _now_s()
        with self._write() as conn:
            deleted = conn.execute("DELETE FROM items WHERE ttl IS NOT NULL AND ttl <= ?",
                                   (now,)).rowcount
            conn.execute("DELETE FROM changes WHERE at_ms < ?",
                         ((now - change_retention_s) * 1000,))
        return deleted

    def forget_changes(self, table: str, read_by: Sequence[str | None], keep_s: float) -> int:
        """Delete the table's change-log entries that every reader has read and that were
        written at least ``keep_s`` seconds ago; returns how many. ``read_by`` holds each reader's cursor (its
        checkpoint): a reader that has read nothing yet (None) keeps the whole log, and no
        readers at all means nobody will read it. Nothing a reader has still to read is ever
        deleted, so the stream keeps its order and completeness."""
        self._table(table)
        if any(cursor is None for cursor in read_by):
            return 0
        written_by_ms = int((time.time() - keep_s) * 1000)
        with self._write() as conn:
            if read_by:
                return conn.execute(
                    "DELETE FROM changes WHERE tbl=? AND seq<=? AND at_ms<=?",
                    (table, min(int(cursor) for cursor in read_by), written_by_ms)).rowcount
            return conn.execute("DELETE FROM changes WHERE tbl=? AND at_ms<=?",
                                (table, written_by_ms)).rowcount

    def compact(self, convert: bool = False) -> int:
        """Give the file's free pages (left by deleted change-log entries and expired items)
        back to the file system; returns the bytes given back. With ``convert``, a file made
        before incremental auto-vacuum was on is converted first, by one full VACUUM: it
        rewrites the whole file, so do it while no other process uses the store."""
        conn = self._conn()
        before = self._file_bytes(conn)
        if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != _AUTO_VACUUM_INCREMENTAL:
            if not convert:
                return 0
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            conn.execute("VACUUM")
        else:
            # executescript steps the pragma to its end; execute() would free a single page.
            conn.executescript("PRAGMA incremental_vacuum")
        # The file itself shrinks when the WAL is copied back into it; PASSIVE never waits.
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        return before - self._file_bytes(conn)

    @staticmethod
    def _file_bytes(conn: sqlite3.Connection) -> int:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        return pages * conn.execute("PRAGMA page_size").fetchone()[0]
