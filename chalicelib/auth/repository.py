"""Access-control state in the store (logical table ``auth``), through the Store interface only.

Items (``pk`` / ``sk``):

- ``apikey`` / ``<id>``: a key's record (hash, scopes, name, created/revoked), versioned, so a
  revocation never races another write of the record;
- ``apikey-used`` / ``<id>``: when the key was last used (epoch ms), a separate item so that the
  frequent last-used write can never overwrite a revocation;
- ``ingest-rate#<id>`` / ``<window start s>``: the key's request counter for one rate window,
  with a TTL;
- ``<kind>#<digest>`` / ``grant`` (and ``redeemed``): the dev issuer's codes, refresh tokens and
  sign-in sessions, under the SHA-256 of their secret, with a TTL.

All keys of one team fit one ``apikey`` partition (an admin creates a handful); listing them
is one bounded query, never a scan.
"""
from __future__ import annotations

from typing import Any

from ..storage import AlreadyExists, Store, VersionConflict
from .api_keys import ApiKeyRecord
from .rate_limit import RateLimit

TABLE = "auth"
KEYS_PK = "apikey"
LAST_USED_PK = "apikey-used"
#: an admin lists at most this many keys (one query page)
MAX_KEYS_LISTED = 1000


class AccessRepository:
    def __init__(self, store: Store):
        self.store = store

    # -- API keys ------------------------------------------------------------------------------
    def add_key(self, record: ApiKeyRecord) -> ApiKeyRecord:
        """Store a new key's record; never overwrites (ids are unique, so a clash is a bug)."""
        item = self.store.put_versioned(TABLE, _item(record), expected_version=None)
        return _record(item)

    def key(self, key_id: str) -> ApiKeyRecord | None:
        item = self.store.get(TABLE, KEYS_PK, key_id)
        return _record(item) if item else None

    def keys(self) -> list[ApiKeyRecord]:
        """Every key, newest first."""
        page = self.store.query(TABLE, KEYS_PK, newest_first=True, limit=MAX_KEYS_LISTED)
        return [_record(i) for i in page.items]

    def revoke_key(self, key_id: str, now_ms: int) -> ApiKeyRecord | None:
        """Mark the key revoked (idempotent: a revoked key keeps its first revocation time).
        None when no such key exists. A concurrent write of the record is re-read and retried."""
        for attempt in range(3):
            record = self.key(key_id)
            if record is None or record.revoked:
                return record
            revoked = ApiKeyRecord(**{**record.__dict__, "revoked_at_ms": now_ms})
            try:
                return _record(self.store.put_versioned(TABLE, _item(revoked), record.version))
            except VersionConflict:
                if attempt == 2:
                    raise  # three writers in a row beat us: let the admin try again
        raise AssertionError("unreachable")

    def last_used(self, key_ids: list[str]) -> dict[str, int]:
        found = self.store.get_many(TABLE, [(LAST_USED_PK, k) for k in key_ids])
        return {sk: item["lastUsedAt"] for (_pk, sk), item in found.items()}

    def note_used(self, key_id: str, now_ms: int) -> None:
        self.store.put(TABLE, {"pk": LAST_USED_PK, "sk": key_id, "lastUsedAt": now_ms}, if_absent=False)

    # -- ingest rate ---------------------------------------------------------------------------
    def count_request(self, key_id: str, limit: RateLimit, now_s: float) -> int:
        """Count one request in the key's current window; the count including it. One atomic
        increment: the only store write the access check makes per request."""
        item = self.store.increment(TABLE, f"ingest-rate#{key_id}", str(limit.window_start(now_s)),
                                    {"n": 1}, defaults={"ttl": limit.counter_ttl(now_s)})
        return int(item["n"])

    # -- single-use markers (the dev issuer's codes and refresh tokens) ------------------------
    def put_grant(self, kind: str, digest: str, grant: dict[str, Any], expires_at_s: int) -> None:
        """Keep ``grant`` under the digest of its secret until ``expires_at_s`` (epoch s)."""
        self.store.put(TABLE, {"pk": f"{kind}#{digest}", "sk": "grant", "grant": grant,
                               "ttl": expires_at_s})

    def redeem_grant(self, kind: str, digest: str, expires_at_s: int) -> dict[str, Any] | None:
        """The grant, the first time it is redeemed; None if unknown, expired or already
        redeemed. Single use holds across processes: the redemption marker is a
        create-if-absent write, which only one caller can win."""
        item = self.store.get(TABLE, f"{kind}#{digest}", "grant")
        if item is None:
            return None
        try:
            self.store.put(TABLE, {"pk": f"{kind}#{digest}", "sk": "redeemed", "ttl": expires_at_s})
        except AlreadyExists:
            return None
        return item["grant"]


    # -- lasting grants (the dev issuer's sign-in sessions) -----------------------------------
    def grant(self, kind: str, digest: str) -> dict[str, Any] | None:
        """A grant kept by ``put_grant``, read without spending it; None once expired or
        forgotten (the store hides items past their TTL)."""
        item = self.store.get(TABLE, f"{kind}#{digest}", "grant")
        return item["grant"] if item else None

    def forget_grant(self, kind: str, digest: str) -> None:
        self.store.delete(TABLE, f"{kind}#{digest}", "grant")


def _item(record: ApiKeyRecord) -> dict[str, Any]:
    item = {"pk": KEYS_PK, "sk": record.key_id, "name": record.name, "scopes": list(record.scopes),
            "keyHash": record.key_hash, "createdAt": record.created_at_ms,
            "createdBy": record.created_by, "revokedAt": record.revoked_at_ms}
    if record.version is not None:
        item["version"] = record.version
    return item


def _record(item: dict[str, Any]) -> ApiKeyRecord:
    return ApiKeyRecord(key_id=item["sk"], name=item["name"], scopes=tuple(item["scopes"]),
                        key_hash=item["keyHash"], created_at_ms=int(item["createdAt"]),
                        created_by=item["createdBy"],
                        revoked_at_ms=None if item.get("revokedAt") is None else int(item["revokedAt"]),
                        version=None if item.get("version") is None else int(item["version"]))
