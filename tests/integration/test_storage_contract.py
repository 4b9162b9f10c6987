"""The storage contract: the semantics both engines must give (DESIGN.md, "Storage").

Every test runs on SQLite and on DynamoDB Local (see the ``store`` fixture in conftest.py).
"""
import time

import pytest

from chalicelib.storage import (
    AlreadyExists, Delete, GroupCancelled, Increment, InvalidCursor, Put, TransactionCancelled,
    VersionConflict, VersionedPut, MAX_TRANSACTION_OPS,
)


def test_create_if_absent_never_overwrites(store):
    store.put("events", {"pk": "a", "sk": "1", "v": 1})
    with pytest.raises(AlreadyExists):
        store.put("events", {"pk": "a", "sk": "1", "v": 2})
    assert store.get("events", "a", "1")["v"] == 1


def test_plain_put_overwrites_when_asked(store):
    store.put("events", {"pk": "a", "sk": "1", "v": 1})
    store.put("events", {"pk": "a", "sk": "1", "v": 2}, if_absent=False)
    assert store.get("events", "a", "1")["v"] == 2


def test_values_round_trip_with_their_types(store):
    item = {"pk": "t", "sk": "1", "i": 12, "f": 1.5, "s": "x", "b": True, "n": None,
            "l": [1, "a", 2.5], "m": {"k": "v", "n": 3}}
    store.put("events", item)
    assert store.get("events", "t", "1") == item


def test_versioned_update_refuses_a_stale_write(store):
    first = store.put_versioned("actors", {"pk": "u", "sk": "1", "name": "a"}, None)
    assert first["version"] == 1
    store.put_versioned("actors", {"pk": "u", "sk": "1", "name": "b"}, 1)
    with pytest.raises(VersionConflict):
        store.put_versioned("actors", {"pk": "u", "sk": "1", "name": "stale"}, 1)
    with pytest.raises(VersionConflict):
        store.put_versioned("actors", {"pk": "u", "sk": "1", "name": "again"}, None)
    got = store.get("actors", "u", "1")
    assert (got["name"], got["version"]) == ("b", 2)


def test_atomic_counters_add_and_keep_defaults(store):
    store.increment("rollups", "c", "1", {"n": 1, "sum": 250}, {"label": "first", "ttl": None})
    after = store.increment("rollups", "c", "1", {"n": 2, "sum": -50}, {"label": "second"})
    assert (after["n"], after["sum"], after["label"]) == (3, 200, "first")
    assert store.get("rollups", "c", "1")["n"] == 3


def test_float_counters_add(store):
    store.increment("rollups", "c", "f", {"x": 0.25})
    assert store.increment("rollups", "c", "f", {"x": 0.5})["x"] == pytest.approx(0.75)


def _fill(store, pk, n, table="events"):
    store.batch_put(table, [{"pk": pk, "sk": f"{i:04d}", "i": i} for i in range(n)])


def test_range_query_newest_first_with_bounds(store):
    _fill(store, "p", 10)
    page = store.query("events", "p", sk_min="0003", sk_max="0006")
    assert [it["i"] for it in page.items] == [6, 5, 4, 3]
    assert page.cursor is None
    oldest_first = store.query("events", "p", sk_min="0003", sk_max="0006", newest_first=False)
    assert [it["i"] for it in oldest_first.items] == [3, 4, 5, 6]


def test_prefix_query_stays_in_its_prefix(store):
    store.batch_put("events", [{"pk": "p", "sk": sk} for sk in ("a#1", "a#2", "ab#1", "b#1")])
    assert [it["sk"] for it in store.query("events", "p", sk_prefix="a#").items] == ["a#2", "a#1"]


def test_pagination_visits_every_item_once(store):
    _fill(store, "p", 23)
    seen, cursor, pages = [], None, 0
    while True:
        page = store.query("events", "p", limit=5, cursor=cursor)
        seen += [it["i"] for it in page.items]
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
    assert seen == list(range(22, -1, -1))
    assert pages == 5


def test_a_cursor_cannot_be_used_for_another_partition(store):
    _fill(store, "mine", 5)
    _fill(store, "theirs", 5)
    cursor = store.query("events", "mine", limit=2).cursor
    with pytest.raises(InvalidCursor):
        store.query("events", "theirs", limit=2, cursor=cursor)


def test_a_forged_cursor_is_refused(store):
    import base64
    import json
    _fill(store, "mine", 5)
    forged = base64.urlsafe_b64encode(json.dumps(
        {"p": "mine", "i": None, "k": {"pk": "theirs", "sk": "0001"}}).encode()).decode()
    for bad in (forged, "not-a-cursor", "e30"):
        with pytest.raises(InvalidCursor):
            store.query("events", "mine", cursor=bad)


def test_a_cursor_cannot_leave_the_queried_range(store):
    _fill(store, "p", 10)
    cursor = store.query("events", "p", limit=2).cursor  # last sk 0008
    with pytest.raises(InvalidCursor):
        store.query("events", "p", sk_max="0005", cursor=cursor)


def test_secondary_index_query_is_sparse_and_ordered(store):
    store.batch_put("events", [
        {"pk": "o1", "sk": "o", "gsi1pk": "user#1", "gsi1sk": "002"},
        {"pk": "o2", "sk": "o", "gsi1pk": "user#1", "gsi1sk": "001"},
        {"pk": "o3", "sk": "o", "gsi1pk": "user#2", "gsi1sk": "001"},
        {"pk": "o4", "sk": "o"},
    ])
    page = store.query("events", "user#1", index="gsi1")
    assert [it["pk"] for it in page.items] == ["o1", "o2"]
    first = store.query("events", "user#1", index="gsi1", limit=1, newest_first=False)
    rest = store.query("events", "user#1", index="gsi1", limit=1, newest_first=False,
                       cursor=first.cursor)
    assert [first.items[0]["pk"], rest.items[0]["pk"]] == ["o2", "o1"]


def test_transaction_writes_all_or_nothing(store):
    store.put("events", {"pk": "dup", "sk": "1"})
    ops = [Put("events", {"pk": "new", "sk": "1"}), Increment("rollups", "r", "1", {"n": 1}),
           Put("events", {"pk": "dup", "sk": "1"})]
    with pytest.raises(TransactionCancelled) as raised:
        store.transact(ops)
    assert raised.value.failed == [2]
    assert store.get("events", "new", "1") is None
    assert store.get("rollups", "r", "1") is None
    store.transact(ops[:2])
    assert store.get("rollups", "r", "1")["n"] == 1


def test_transaction_checks_versions_and_deletes(store):
    store.put_versioned("actors", {"pk": "u", "sk": "1"}, None)
    store.put("events", {"pk": "gone", "sk": "1"})
    with pytest.raises(TransactionCancelled) as raised:
        store.transact([VersionedPut("actors", {"pk": "u", "sk": "1", "x": 1}, 7),
                        Delete("events", "gone", "1")])
    assert raised.value.failed == [0]
    assert store.get("events", "gone", "1") is not None
    store.transact([VersionedPut("actors", {"pk": "u", "sk": "1", "x": 1}, 1),
                    Delete("events", "gone", "1")])
    assert store.get("actors", "u", "1")["version"] == 2
    assert store.get("events", "gone", "1") is None


def test_a_projected_query_returns_the_keys_and_only_the_asked_paths(store):
    store.batch_put("metrics", [
        {"pk": "h", "sk": f"{i:02d}", "ttl": int(time.time()) + 600, "note": "x" * 50,
         "stats": {"cpu.percent": [i, i + 1], "mem.used": [7], "nested": {"a.b": {"c": i}}}}
        for i in range(5)] + [{"pk": "h", "sk": "05", "stats": {"mem.used": [1]}},
                              {"pk": "h", "sk": "06", "ttl": int(time.time()) - 5,
                               "stats": {"cpu.percent": [0]}}])
    page = store.query("metrics", "h", newest_first=False, limit=3,
                       fields=[("stats", "cpu.percent"), ("stats", "nested", "a.b")])
    assert page.items == [{"pk": "h", "sk": f"{i:02d}", "stats": {
        "cpu.percent": [i, i + 1], "nested": {"a.b": {"c": i}}}} for i in range(3)]
    rest = store.query("metrics", "h", newest_first=False, limit=3, cursor=page.cursor,
                       fields=[("stats", "cpu.percent"), ("ttl",)])
    assert [i["sk"] for i in rest.items] == ["03", "04", "05"]  # the expired one is not there
    assert rest.items[2] == {"pk": "h", "sk": "05"}  # a path it lacks is left out
    assert isinstance(rest.items[0]["ttl"], int) and rest.items[0]["stats"] == {"cpu.percent": [3, 4]}


def test_a_field_path_must_be_map_keys(store):
    for bad in [[()], [("stats", "")], [('a"b',)], [("stats",), ("stats", "x")],
                [("a", "b"), ("a", "b")]]:
        with pytest.raises(ValueError):
            store.query("metrics", "h", fields=bad)


def test_empty_maps_and_lists_survive_reads_and_the_change_stream(store):
    item = {"pk": "hosts", "sk": "h#vm", "meta": {}, "tags": [], "values": {"a": 1}}
    store.put("metrics", item)
    assert store.get("metrics", "hosts", "h#vm") == item
    changes = store.changes("metrics").changes
    assert changes[-1].new_image == item


def test_a_conditional_delete_consumes_an_item_once(store):
    store.put("rollups", {"pk": "journal", "sk": "1"})
    store.transact([Delete("rollups", "journal", "1", must_exist=True),
                    Increment("rollups", "r", "1", {"n": 5})])
    with pytest.raises(TransactionCancelled) as raised:
        store.transact([Delete("rollups", "journal", "1", must_exist=True),
                        Increment("rollups", "r", "1", {"n": 5})])
    assert raised.value.failed == [0]
    assert store.get("rollups", "r", "1")["n"] == 5


def test_an_expired_item_cannot_be_consumed(store):
    store.put("rollups", {"pk": "journal", "sk": "old", "ttl": int(time.time()) - 5})
    with pytest.raises(TransactionCancelled):
        store.transact([Delete("rollups", "journal", "old", must_exist=True)])


def test_groups_before_a_cancelled_group_stay_written(store):
    store.put("events", {"pk": "dup", "sk": "1"})
    groups = [[Put("events", {"pk": "a", "sk": "1"}), Increment("rollups", "r", "1", {"n": 1})],
              [Put("events", {"pk": "b", "sk": "1"}), Put("events", {"pk": "dup", "sk": "1"})],
              [Put("events", {"pk": "c", "sk": "1"})]]
    with pytest.raises(GroupCancelled) as raised:
        store.transact_groups(groups)
    assert (raised.value.group, raised.value.failed) == (1, [1])
    assert isinstance(raised.value, TransactionCancelled)
    assert store.get("events", "a", "1") is not None and store.get("rollups", "r", "1")["n"] == 1
    assert store.get("events", "b", "1") is None and store.get("events", "c", "1") is None
    store.transact_groups([groups[1][:1], groups[2]])
    assert store.get("events", "b", "1") and store.get("events", "c", "1")


def test_a_later_group_sees_what_an_earlier_group_wrote(store):
    store.transact_groups([[VersionedPut("actors", {"pk": "u", "sk": "s"}, None)],
                           [VersionedPut("actors", {"pk": "u", "sk": "s", "x": 2}, 1)]])
    assert store.get("actors", "u", "s")["version"] == 2


def test_every_group_is_held_to_the_transaction_limits(store):
    with pytest.raises(ValueError):
        store.transact_groups([[Put("events", {"pk": "a", "sk": "1"})],
                               [Increment("rollups", "r", str(i), {"n": 1})
                                for i in range(MAX_TRANSACTION_OPS + 1)]])
    assert store.get("events", "a", "1") is None


def test_transactions_refuse_what_dynamodb_refuses(store):
    with pytest.raises(ValueError):
        store.transact([Increment("rollups", "r", str(i), {"n": 1})
                        for i in range(MAX_TRANSACTION_OPS + 1)])
    with pytest.raises(ValueError):
        store.transact([Increment("rollups", "r", "1", {"n": 1}),
                        Increment("rollups", "r", "1", {"n": 1})])


def test_expired_items_are_never_returned(store):
    past = int(time.time()) - 10
    store.batch_put("events", [{"pk": "ttl", "sk": "old", "ttl": past},
                               {"pk": "ttl", "sk": "new", "ttl": past + 3600}])
    assert store.get("events", "ttl", "old") is None
    assert [it["sk"] for it in store.query("events", "ttl").items] == ["new"]
    assert set(store.get_many("events", [("ttl", "old"), ("ttl", "new")])) == {("ttl", "new")}


def test_an_expired_item_does_not_block_create_if_absent(store):
    store.put("events", {"pk": "ttl", "sk": "x", "ttl": int(time.time()) - 10})
    store.put("events", {"pk": "ttl", "sk": "x", "v": 2})
    assert store.get("events", "ttl", "x")["v"] == 2


def test_batched_writes_store_every_item(store):
    _fill(store, "bulk", 260)
    keys = [("bulk", f"{i:04d}") for i in range(260)]
    assert len(store.get_many("events", keys)) == 260


def test_get_many_ignores_missing_and_duplicate_keys(store):
    _fill(store, "g", 3)
    got = store.get_many("events", [("g", "0000"), ("g", "0000"), ("g", "9999")])
    assert list(got) == [("g", "0000")]


def test_change_stream_reports_writes_in_order(store):
    start = store.changes("events").cursor
    # Drain what earlier writes left, so the test sees only its own changes.
    while True:
        batch = store.changes("events", after=start)
        if not batch.changes:
            break
        start = batch.cursor
    store.put("events", {"pk": "c", "sk": "1", "v": 1})
    store.put("events", {"pk": "c", "sk": "1", "v": 2}, if_absent=False)
    store.delete("events", "c", "1")
    seen, cursor = [], start
    for _ in range(20):
        batch = store.changes("events", after=cursor)
        seen += batch.changes
        cursor = batch.cursor
        if len(seen) >= 3:
            break
    assert [c.event for c in seen] == ["INSERT", "MODIFY", "REMOVE"]
    assert seen[0].new_image["v"] == 1 and seen[1].old_image["v"] == 1
    assert seen[1].new_image["v"] == 2 and seen[2].new_image is None
    assert all(c.keys == {"pk": "c", "sk": "1"} for c in seen)
    assert store.changes("events", after=cursor).changes == []


# -- expiry meets counters, ranges and the change stream ------------------------------------------
# An expired item is absent for every operation, not only for reads: DynamoDB keeps it until its
# lazy TTL deletion, so an engine that forgot this would add to stale counters.

def test_an_expired_counter_restarts_from_its_defaults(store):
    store.put("rollups", {"pk": "c", "sk": "x", "n": 5, "label": "old",
                          "ttl": int(time.time()) - 3600})
    after = store.increment("rollups", "c", "x", {"n": 1}, {"label": "new"})
    assert (after["n"], after["label"], after.get("ttl")) == (1, "new", None)
    assert store.get("rollups", "c", "x")["n"] == 1


def test_an_expired_counter_restarts_inside_a_transaction(store):
    store.put("rollups", {"pk": "c", "sk": "t", "n": 5, "ttl": int(time.time()) - 3600})
    store.transact([Increment("rollups", "c", "t", {"n": 2}, {"label": "new"}),
                    Put("events", {"pk": "e", "sk": "1"})])
    got = store.get("rollups", "c", "t")
    assert (got["n"], got["label"]) == (2, "new")


def test_a_default_and_a_delta_on_one_attribute_add_up(store):
    assert store.increment("rollups", "c", "d", {"n": 1}, {"n": 10})["n"] == 11
    assert store.increment("rollups", "c", "d", {"n": 1}, {"n": 10})["n"] == 12


def test_prefix_and_bounds_together_intersect(store):
    store.batch_put("events", [{"pk": "p", "sk": sk} for sk in ("a#1", "a#2", "a#3", "b#1")])
    page = store.query("events", "p", sk_prefix="a#", sk_min="a#2", newest_first=False)
    assert [it["sk"] for it in page.items] == ["a#2", "a#3"]
    page = store.query("events", "p", sk_prefix="a#", sk_max="a#2", newest_first=False)
    assert [it["sk"] for it in page.items] == ["a#1", "a#2"]
    assert store.query("events", "p", sk_min="b", sk_max="a").items == []


def test_the_change_stream_treats_an_expired_item_as_absent(store):
    start = store.changes("events").cursor
    while True:
        batch = store.changes("events", after=start)
        if not batch.changes:
            break
        start = batch.cursor
    long_ago = int(time.time()) - 3600
    store.put("events", {"pk": "x", "sk": "1", "ttl": long_ago})
    store.put("events", {"pk": "x", "sk": "1", "v": 2})  # over an expired item: a creation
    store.put("events", {"pk": "x", "sk": "2", "ttl": long_ago})
    store.delete("events", "x", "2")  # deleting what had expired changes nothing
    seen, cursor = [], start
    for _ in range(20):
        batch = store.changes("events", after=cursor)
        seen += batch.changes
        cursor = batch.cursor
        if len(seen) >= 3:
            break
    assert [(c.event, c.keys["sk"]) for c in seen] == [("INSERT", "1"), ("INSERT", "1"),
                                                      ("INSERT", "2")]
    assert seen[1].old_image is None and seen[1].new_image["v"] == 2
    assert store.changes("events", after=cursor).changes == []
