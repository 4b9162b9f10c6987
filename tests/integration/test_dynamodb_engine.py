"""What only the DynamoDB engine has to get right: the wire format of values, retries of what
DynamoDB leaves unprocessed or cancels, table settings, and the cost of polling the stream.

Everything runs against DynamoDB Local; where DynamoDB Local never misbehaves (throttling,
conflicts), a thin wrapper around the real client misbehaves once and passes the rest through.
"""
import math
import time

import pytest
from botocore.exceptions import ClientError

from chalicelib.storage import InvalidCursor, Put, StorageError
from chalicelib.storage import dynamodb_engine
from chalicelib.storage.tables import TABLES


class _Wrapped:
    """The real client, with some operations replaced."""

    def __init__(self, real, **overrides):
        self._real = real
        self.__dict__.update(overrides)

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(dynamodb_engine, "_backoff", lambda attempt: None)


def test_numbers_keep_their_python_types(dynamo_store):
    item = {"pk": "n", "sk": "1", "int": 7, "neg": -3, "big": 10 ** 30, "float": 0.1,
            "tiny": 1e-7, "nested": {"l": [1, 2.5, {"x": -0.5}]}, "bool": False, "zero": 0}
    dynamo_store.put("events", item)
    got = dynamo_store.get("events", "n", "1")
    assert got == item
    assert [type(got[k]) for k in ("int", "big", "float", "tiny", "bool")] == [
        int, int, float, float, bool]
    assert type(got["nested"]["l"][1]) is float and type(got["nested"]["l"][0]) is int


def test_a_float_without_fraction_comes_back_as_an_equal_int(dynamo_store):
    # DynamoDB normalises 2.0 to 2; the value is equal, its Python type is int.
    dynamo_store.put("events", {"pk": "n", "sk": "2", "f": 2.0})
    got = dynamo_store.get("events", "n", "2")["f"]
    assert got == 2.0 and type(got) is int


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_before_any_request(dynamo_store, bad):
    before = dynamo_store.request_count
    with pytest.raises(ValueError):
        dynamo_store.put("events", {"pk": "n", "sk": "bad", "x": {"deep": [bad]}})
    with pytest.raises(ValueError):
        dynamo_store.increment("rollups", "n", "bad", {"x": bad})
    assert dynamo_store.request_count == before


def test_non_json_values_are_refused(dynamo_store):
    with pytest.raises(TypeError):
        dynamo_store.put("events", {"pk": "n", "sk": "set", "x": {1, 2}})


def test_float_counters_add_in_decimal(dynamo_store):
    dynamo_store.increment("rollups", "c", "d", {"x": 0.1})
    assert dynamo_store.increment("rollups", "c", "d", {"x": 0.2})["x"] == 0.3


def test_batch_put_resends_unprocessed_items(dynamo_store):
    real = dynamo_store.client
    calls = []

    def batch_write_item(RequestItems):
        calls.append(RequestItems)
        if len(calls) > 1:
            return real.batch_write_item(RequestItems=RequestItems)
        # Like a throttled partition: write some, hand the rest back.
        (name, requests), = RequestItems.items()
        real.batch_write_item(RequestItems={name: requests[:10]})
        return {"UnprocessedItems": {name: requests[10:]}}

    dynamo_store._client = _Wrapped(real, batch_write_item=batch_write_item)
    items = [{"pk": "u", "sk": f"{i:03d}"} for i in range(30)]
    dynamo_store.batch_put("events", items)
    assert [len(next(iter(c.values()))) for c in calls] == [25, 15, 5]
    assert len(dynamo_store.get_many("events", [("u", it["sk"]) for it in items])) == 30


def test_batch_put_gives_up_loudly(dynamo_store, no_sleep):
    def batch_write_item(RequestItems):
        return {"UnprocessedItems": RequestItems}

    dynamo_store._client = _Wrapped(dynamo_store.client, batch_write_item=batch_write_item)
    with pytest.raises(StorageError, match="unprocessed"):
        dynamo_store.batch_put("events", [{"pk": "u", "sk": "1"}])


def test_batch_put_keeps_the_last_of_duplicate_keys(dynamo_store):
    # BatchWriteItem refuses a key twice in one request; SQLite keeps the last write.
    dynamo_store.batch_put("events", [{"pk": "d", "sk": "1", "v": 1},
                                      {"pk": "d", "sk": "1", "v": 2}])
    assert dynamo_store.get("events", "d", "1")["v"] == 2


def test_get_many_resends_unprocessed_keys(dynamo_store):
    dynamo_store.batch_put("events", [{"pk": "g", "sk": f"{i:03d}"} for i in range(150)])
    real = dynamo_store.client
    calls = []

    def batch_get_item(RequestItems):
        calls.append(RequestItems)
        (name, request), = RequestItems.items()
        if len(calls) > 1:
            return real.batch_get_item(RequestItems=RequestItems)
        answered = real.batch_get_item(
            RequestItems={name: {**request, "Keys": request["Keys"][:40]}})
        return {"Responses": answered["Responses"],
                "UnprocessedKeys": {name: {**request, "Keys": request["Keys"][40:]}}}

    dynamo_store._client = _Wrapped(real, batch_get_item=batch_get_item)
    got = dynamo_store.get_many("events", [("g", f"{i:03d}") for i in range(150)])
    assert len(got) == 150
    assert [len(next(iter(c.values()))["Keys"]) for c in calls] == [100, 60, 50]


def _cancelled(*codes):
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                        "CancellationReasons": [{"Code": code} for code in codes]},
                       "TransactWriteItems")


def test_a_conflicting_transaction_is_retried(dynamo_store, no_sleep):
    real = dynamo_store.client
    calls = []

    def transact_write_items(TransactItems):
        calls.append(TransactItems)
        if len(calls) == 1:
            raise _cancelled("TransactionConflict", "None")
        return real.transact_write_items(TransactItems=TransactItems)

    dynamo_store._client = _Wrapped(real, transact_write_items=transact_write_items)
    dynamo_store.transact([Put("events", {"pk": "t", "sk": "1"}),
                           Put("events", {"pk": "t", "sk": "2"})])
    assert len(calls) == 2
    assert dynamo_store.get("events", "t", "2") is not None


def test_a_transaction_that_keeps_conflicting_fails_loudly(dynamo_store, no_sleep):
    def transact_write_items(TransactItems):
        raise _cancelled("TransactionConflict")

    dynamo_store._client = _Wrapped(dynamo_store.client, transact_write_items=transact_write_items)
    with pytest.raises(StorageError, match="conflicting"):
        dynamo_store.transact([Put("events", {"pk": "t", "sk": "1"})])


def test_tables_are_made_as_designed(dynamo_store):
    client = dynamo_store.client
    for table, spec in TABLES.items():
        name = dynamo_store.table_prefix + table
        description = client.describe_table(TableName=name)["Table"]
        assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert [k["AttributeName"] for k in description["KeySchema"]] == ["pk", "sk"]
        (gsi,) = description["GlobalSecondaryIndexes"]
        assert gsi["IndexName"] == "gsi1"
        assert [k["AttributeName"] for k in gsi["KeySchema"]] == ["gsi1pk", "gsi1sk"]
        assert gsi["Projection"]["ProjectionType"] == "ALL"
        stream = description.get("StreamSpecification", {})
        assert stream.get("StreamEnabled", False) == spec.stream
        if spec.stream:
            assert stream["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")


def test_ensure_tables_is_idempotent_and_reports_progress(dynamo_store):
    seen = []
    dynamo_store.ensure_tables(progress=lambda done, total, name: seen.append((done, total, name)))
    assert seen == [(i, len(TABLES), dynamo_store.table_prefix + t)
                    for i, t in enumerate(TABLES, start=1)]


def test_request_count_counts_api_calls(dynamo_store):
    before = dynamo_store.request_count
    dynamo_store.put("events", {"pk": "r", "sk": "1"})
    dynamo_store.get("events", "r", "1")
    dynamo_store.query("events", "r")
    assert dynamo_store.request_count == before + 3


def test_polling_a_quiet_stream_costs_one_request(dynamo_store):
    cursor = dynamo_store.changes("events").cursor
    before = dynamo_store.request_count
    cursor = dynamo_store.changes("events", after=cursor).cursor
    # The shard listing is cached and the shard iterator from the last poll is reused.
    assert dynamo_store.request_count == before + 1
    dynamo_store.put("events", {"pk": "s", "sk": "1"})
    batch = dynamo_store.changes("events", after=cursor)
    assert [c.keys for c in batch.changes] == [{"pk": "s", "sk": "1"}]


def test_a_fresh_store_continues_a_stream_cursor(dynamo_store):
    # The cursor alone carries the position: another process (no cached iterators) resumes it.
    dynamo_store.put("events", {"pk": "s", "sk": "1"})
    cursor = dynamo_store.changes("events").cursor
    dynamo_store.put("events", {"pk": "s", "sk": "2"})
    other = dynamodb_engine.DynamoStore(dynamo_store.table_prefix)
    assert [c.keys["sk"] for c in other.changes("events", after=cursor).changes] == ["2"]


def test_change_batches_respect_the_limit(dynamo_store):
    dynamo_store.batch_put("events", [{"pk": "l", "sk": f"{i}"} for i in range(7)])
    first = dynamo_store.changes("events", limit=4)
    second = dynamo_store.changes("events", after=first.cursor, limit=4)
    assert (len(first.changes), len(second.changes)) == (4, 3)
    assert len({c.sequence for c in first.changes + second.changes}) == 7


def test_stream_cursors_are_checked(dynamo_store):
    for bad in ("not-a-cursor", "e30"):
        with pytest.raises(InvalidCursor):
            dynamo_store.changes("events", after=bad)


def test_a_table_without_a_stream_has_no_changes(dynamo_store):
    before = dynamo_store.request_count
    dynamo_store.put("stats", {"pk": "s", "sk": "1"})
    assert dynamo_store.changes("stats").changes == []
    assert dynamo_store.request_count == before + 1


def test_streams_follow_the_dynamodb_endpoint_unless_told_otherwise(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
                 "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
    assert dynamodb_engine.DynamoStore._streams_endpoint() == "http://127.0.0.1:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "http://127.0.0.1:2")
    assert dynamodb_engine.DynamoStore._streams_endpoint() is None  # boto3 reads that one
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS")
    assert dynamodb_engine.DynamoStore._streams_endpoint() is None  # AWS itself


def test_the_expired_item_blocks_nothing_at_the_second_boundary(dynamo_store):
    # ttl equal to now is expired (SQLite: live only while ttl > now).
    now = int(time.time())
    dynamo_store.put("events", {"pk": "b", "sk": "1", "ttl": now})
    dynamo_store.put("events", {"pk": "b", "sk": "1", "v": 2})
    assert dynamo_store.get("events", "b", "1")["v"] == 2


def test_increments_from_many_threads_all_count(dynamo_store):
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: dynamo_store.increment("rollups", "hot", "1", {"n": 1}),
                      range(40)))
    assert dynamo_store.get("rollups", "hot", "1")["n"] == 40


def test_an_expired_counter_does_not_hide_a_callers_failed_condition(dynamo_store):
    from chalicelib.storage import Increment, TransactionCancelled
    dynamo_store.put("rollups", {"pk": "c", "sk": "1", "n": 5, "ttl": int(time.time()) - 3600})
    dynamo_store.put("events", {"pk": "e", "sk": "1"})
    with pytest.raises(TransactionCancelled) as raised:
        dynamo_store.transact([Increment("rollups", "c", "1", {"n": 1}),
                               Put("events", {"pk": "e", "sk": "1"})])
    assert raised.value.failed == [1]
    assert dynamo_store.get("rollups", "c", "1") is None
