"""The on-disk queue of samples not yet delivered.

Why SQLite (stdlib sqlite3): each append/remove is a transaction, so a crash
or power cut leaves either the old or the new state, never a torn file; rows
keep their insertion order through an AUTOINCREMENT key, which makes "drain
oldest first" and "drop oldest when full" single indexed queries; and it
needs no dependency beyond the Python standard library.

Invariants:

- `total_bytes` (the sum of the stored JSON payload sizes, UTF-8 bytes) never
  exceeds `max_bytes` after an append returns. The file itself is somewhat
  larger (SQLite pages, index); pages freed by drops are reused, so it does
  not grow past roughly the bound plus that overhead.
- When an append would exceed the bound, the OLDEST rows are dropped: the
  newest data is the most useful after an outage. A single sample larger
  than the whole bound is dropped on arrival.
- `oldest()` returns rows in the order they were appended.

One process per file: the agent is the only writer.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from missionctl_agent.samples import to_json

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50_000_000  # 50 MB


class DiskBuffer:
    """Bounded FIFO of samples in a SQLite file (or ":memory:")."""

    def __init__(self, path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self._db = sqlite3.connect(path, isolation_level=None)  # explicit transactions below
        # WAL + synchronous=NORMAL: a crash of the agent loses nothing that
        # was committed; a power cut may lose the last few commits. That is
        # the right trade for 10-second samples.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS samples ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT,"  # AUTOINCREMENT: ids never reused, so order holds
            " size INTEGER NOT NULL,"
            " payload TEXT NOT NULL)"
        )
        self.total_bytes: int = self._db.execute("SELECT COALESCE(SUM(size), 0) FROM samples").fetchone()[0]
        # The bound may have been lowered since the file was written.
        self.dropped_total = self._evict_to(self.max_bytes)

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]

    def append(self, samples: Iterable[Mapping[str, Any]]) -> int:
        """Store samples at the tail; returns how many samples were dropped
        (oldest first, or oversized newcomers) to stay within max_bytes."""
        rows = []
        dropped = 0
        for sample in samples:
            payload = to_json(sample)
            size = len(payload.encode("utf-8"))
            if size > self.max_bytes:
                dropped += 1
                continue
            rows.append((size, payload))
        if not rows:
            self.dropped_total += dropped
            return dropped
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("INSERT INTO samples (size, payload) VALUES (?, ?)", rows)
            self.total_bytes += sum(size for size, _ in rows)
            dropped += self._evict_to(self.max_bytes, in_transaction=True)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            self.total_bytes = self._db.execute("SELECT COALESCE(SUM(size), 0) FROM samples").fetchone()[0]
            raise
        self.dropped_total += dropped
        return dropped

    def oldest(self, limit: int, max_bytes: int | None = None) -> list[tuple[int, dict[str, Any]]]:
        """Up to `limit` oldest rows as (row id, sample), oldest first, and at
        most `max_bytes` of payload in all (but always at least one row)."""
        rows: list[tuple[int, dict[str, Any]]] = []
        taken = 0
        for row_id, size, payload in self._db.execute(
            "SELECT id, size, payload FROM samples ORDER BY id LIMIT ?", (limit,)
        ).fetchall():
            if rows and max_bytes is not None and taken + size > max_bytes:
                break
            rows.append((row_id, json.loads(payload)))
            taken += size
        return rows

    def remove(self, row_ids: Iterable[int]) -> None:
        """Forget rows that were delivered (or permanently refused)."""
        ids = list(row_ids)
        if not ids:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            freed = 0
            for start in range(0, len(ids), 500):  # stay under SQLite's bound-variable limit
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                freed += self._db.execute(
                    f"SELECT COALESCE(SUM(size), 0) FROM samples WHERE id IN ({marks})", chunk
                ).fetchone()[0]
                self._db.execute(f"DELETE FROM samples WHERE id IN ({marks})", chunk)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self.total_bytes -= freed

    def close(self) -> None:
        self._db.close()

    def _evict_to(self, bound: int, in_transaction: bool = False) -> int:
        """Delete oldest rows until total_bytes <= bound; returns rows deleted."""
        if self.total_bytes <= bound:
            return 0
        # The shortest prefix of oldest rows whose sizes add up to the excess.
        row = self._db.execute(
            "SELECT id, running, n FROM ("
            " SELECT id, SUM(size) OVER (ORDER BY id) AS running, ROW_NUMBER() OVER (ORDER BY id) AS n"
            " FROM samples) WHERE running >= ? ORDER BY id LIMIT 1",
            (self.total_bytes - bound,),
        ).fetchone()
        if row is None:  # cannot happen while total_bytes is right; be safe
            row = self._db.execute("SELECT MAX(id), COALESCE(SUM(size), 0), COUNT(*) FROM samples").fetchone()
        last_id, freed, count = row
        if not in_transaction:
            self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("DELETE FROM samples WHERE id <= ?", (last_id,))
        if not in_transaction:
            self._db.execute("COMMIT")
        self.total_bytes -= freed
        return count
