"""Access-control state on both engines (SQLite and DynamoDB Local): key records, revocation,
last use, the ingest rate counter with its TTL, and single-use grants."""
from __future__ import annotations

from chalicelib.auth.api_keys import new_api_key
from chalicelib.auth.rate_limit import RateLimit
from chalicelib.auth.repository import AccessRepository


def test_keys_are_stored_listed_and_revoked_once(store):
    repo = AccessRepository(store)
    key, record = new_api_key(["ingest:business", "ingest:metrics"], "shop", "admin-1", 1_795_000_000_000)
    stored = repo.add_key(record)
    assert stored.version == 1 and repo.key(record.key_id) == stored
    assert key not in str(store.get("auth", "apikey", record.key_id))
    _later_key, later = new_api_key(["ingest:business"], "later", "admin-1", 1_795_000_001_000)
    repo.add_key(later)
    assert [r.key_id for r in repo.keys()] == [later.key_id, record.key_id]  # newest first
    revoked = repo.revoke_key(record.key_id, 1_795_000_002_000)
    assert revoked.revoked_at_ms == 1_795_000_002_000 and revoked.version == 2
    assert repo.revoke_key(record.key_id, 1_795_000_009_000).revoked_at_ms == 1_795_000_002_000
    assert repo.revoke_key("missing", 1) is None


def test_last_use_never_touches_the_key_record(store):
    repo = AccessRepository(store)
    _key, record = new_api_key(["ingest:business"], "x", "a", 1)
    repo.add_key(record)
    repo.revoke_key(record.key_id, 5)
    repo.note_used(record.key_id, 7)  # a late last-used write cannot un-revoke the key
    assert repo.key(record.key_id).revoked and repo.last_used([record.key_id]) == {record.key_id: 7}


def test_the_rate_counter_counts_per_window_and_expires(store):
    repo = AccessRepository(store)
    limit = RateLimit(5, 60)
    counts = [repo.count_request("k1", limit, 1_800_000_010.0) for _ in range(3)]
    assert counts == [1, 2, 3]
    assert repo.count_request("k2", limit, 1_800_000_010.0) == 1
    assert repo.count_request("k1", limit, 1_800_000_060.0) == 1  # next window
    item = store.get("auth", "ingest-rate#k1", "1800000000")
    assert item["n"] == 3 and item["ttl"] == 1_800_000_000 + 60 + 60


def test_a_grant_is_redeemed_once(store):
    repo = AccessRepository(store)
    repo.put_grant("dev-code", "d1", {"role": "viewer"}, expires_at_s=4_000_000_000)
    assert repo.redeem_grant("dev-code", "d1", 4_000_000_000) == {"role": "viewer"}
    assert repo.redeem_grant("dev-code", "d1", 4_000_000_000) is None
    assert repo.redeem_grant("dev-code", "unknown", 4_000_000_000) is None
    repo.put_grant("dev-code", "old", {"role": "admin"}, expires_at_s=1_000)  # already expired
    assert repo.redeem_grant("dev-code", "old", 4_000_000_000) is None
