"""API keys for machines that ingest: their format, hashing and the per-process cache. Pure:
no Chalice, no boto3; the cache reads records through a loader (the repository).

A key is ``mck_<id>_<secret>``: ``id`` names the stored record (not secret; it shows in lists
and logs), ``secret`` is 256 random bits. Only the SHA-256 of the whole key is stored — the
secret's entropy makes a slow hash unnecessary — and a presented key is compared with
``hmac.compare_digest``. The key itself is shown once, when created.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

KEY_PREFIX = "mck_"
#: the scopes a key can carry; each opens the ingest routes that declare it
INGEST_SCOPES = ("ingest:business", "ingest:metrics")
MAX_KEY_CHARS = 128


def new_key_id(now_ms: int) -> str:
    """Time-sortable (millisecond prefix) and unguessable (64 random bits), no underscores."""
    return f"{now_ms:012x}{secrets.token_hex(8)}"


def looks_like_key_id(text: str) -> bool:
    """Whether ``text`` could be an id ``new_key_id`` made (hex): anything else names no key,
    and never reaches the store (whose keys have a size limit)."""
    return 12 <= len(text) <= 64 and all(c in "0123456789abcdef" for c in text)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(presented: str) -> str | None:
    """The record id a presented key names, or None when it is not shaped like our keys."""
    if not presented.startswith(KEY_PREFIX) or len(presented) > MAX_KEY_CHARS:
        return None
    key_id, sep, secret = presented[len(KEY_PREFIX):].partition("_")
    if not sep or not key_id.isalnum() or not secret:
        return None
    return key_id


@dataclass(frozen=True)
class ApiKeyRecord:
    """A stored key. ``key_hash`` never leaves the server; see :meth:`public`."""
    key_id: str
    name: str
    scopes: tuple[str, ...]
    key_hash: str
    created_at_ms: int
    created_by: str
    revoked_at_ms: int | None = None
    version: int | None = None

    def matches(self, presented: str) -> bool:
        return hmac.compare_digest(key_hash(presented), self.key_hash)

    @property
    def revoked(self) -> bool:
        return self.revoked_at_ms is not None

    def public(self, last_used_at_ms: int | None) -> dict[str, Any]:
        """What clients may see: everything but the hash."""
        return {"id": self.key_id, "name": self.name, "scopes": list(self.scopes),
                "createdAt": self.created_at_ms, "createdBy": self.created_by,
                "lastUsedAt": last_used_at_ms, "revokedAt": self.revoked_at_ms}


def new_api_key(scopes: list[str] | tuple[str, ...], name: str, created_by: str,
                now_ms: int) -> tuple[str, ApiKeyRecord]:
    """A fresh key and its record. The caller shows the key once and stores only the record."""
    unknown = [s for s in scopes if s not in INGEST_SCOPES]
    if not scopes or unknown:
        raise ValueError(f"scopes must be some of {', '.join(INGEST_SCOPES)}; got {list(scopes)}")
    key_id = new_key_id(now_ms)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return key, ApiKeyRecord(key_id=key_id, name=name, scopes=tuple(dict.fromkeys(scopes)),
                             key_hash=key_hash(key), created_at_ms=now_ms, created_by=created_by)


@dataclass
class _Cached:
    record: ApiKeyRecord | None
    loaded_at: float
    last_used_noted_at: float | None = field(default=None)


class ApiKeyCache:
    """Records by id, each trusted for ``ttl_s`` seconds: a key revoked anywhere stops working
    in every process within ``ttl_s`` (the revoking process forgets it at once). Unknown ids
    are cached too (as None), so a flood of made-up keys costs one read per id per ``ttl_s``.
    Holds at most ``max_entries`` ids (least recently used go first). Thread-safe."""

    def __init__(self, load: Callable[[str], ApiKeyRecord | None], ttl_s: float = 5,
                 clock: Callable[[], float] = time.time, max_entries: int = 10_000):
        self.load = load
        self.ttl_s = ttl_s
        self.clock = clock
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Cached] = OrderedDict()
        self._lock = threading.Lock()

    def verified(self, presented: str) -> ApiKeyRecord | None:
        """The live (unrevoked) record ``presented`` is the key of, else None."""
        key_id = key_id_of(presented)
        if key_id is None:
            return None
        record = self._record(key_id)
        if record is None or record.revoked or not record.matches(presented):
            return None
        return record

    def _record(self, key_id: str) -> ApiKeyRecord | None:
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key_id)
            if entry is not None and now - entry.loaded_at < self.ttl_s:
                self._entries.move_to_end(key_id)
                return entry.record
        record = self.load(key_id)  # outside the lock: a slow read must not stall other keys
        with self._lock:
            previous = self._entries.get(key_id)
            self._entries[key_id] = _Cached(record, now, previous.last_used_noted_at if previous else None)
            self._entries.move_to_end(key_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return record

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._entries.pop(key_id, None)

    def due_for_last_used(self, key_id: str, every_s: float) -> bool:
        """True at most once per ``every_s`` per key in this process: when to write last-used."""
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key_id)
            if entry is None:
                return False
            if entry.last_used_noted_at is not None and now - entry.last_used_noted_at < every_s:
                return False
            entry.last_used_noted_at = now
            return True
