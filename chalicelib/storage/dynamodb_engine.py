"""The AWS engine: one DynamoDB table per logical table (``TABLE_PREFIX + name``), boto3's
low-level client, the semantics of :mod:`.sqlite_engine` (proved by the same contract suite).

Physical tables: ``pk`` (S, HASH) / ``sk`` (S, RANGE); the sparse GSI ``gsi1`` on
``gsi1pk``/``gsi1sk`` projecting ALL; on-demand billing; TTL on ``ttl``; point-in-time recovery;
streamed tables emit NEW_AND_OLD_IMAGES.

Expiry: DynamoDB deletes expired items lazily (within days), so every read filters them and every
condition treats an expired item as absent, exactly like the SQLite engine. boto3 is imported
here and nowhere else on the storage path: the SQLite path and cold starts never load it.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import os
import random
import threading
import time
from decimal import Decimal
from typing import Any, Mapping, Sequence

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .interface import (
    AlreadyExists, Change, ChangeBatch, Delete, GroupCancelled, Increment, InvalidCursor, Item, Op, Page, Put,
    StorageError, TransactionCancelled, VersionConflict, VersionedPut, check_item, check_ops,
    FieldPath, check_field_paths,
    decode_cursor, encode_cursor,
)
from .tables import TABLES, physical_name

#: DynamoDB's request limits: BatchWriteItem takes 25 items, BatchGetItem 100 keys,
#: GetRecords returns at most 1,000 records.
_WRITE_CHUNK = 25
_READ_CHUNK = 100
_RECORDS_MAX = 1000
#: Attempts (first try included) for what DynamoDB leaves unprocessed or cancels for a conflict.
_ATTEMPTS = 8
#: Exponential backoff in seconds: base * 2**attempt, capped, times a random 0.5..1 so that
#: writers that collided do not collide again in lock-step.
_BACKOFF_BASE_S = 0.05
_BACKOFF_CAP_S = 2.0
#: Codes in a TransactionCanceledException that a later attempt can clear. A cancelled
#: transaction wrote nothing, so resending it (with a new idempotency token) is safe. Other errors are not retried here: botocore has already retried throttling and 5xx
#: with the same token, which DynamoDB deduplicates; a new token could apply an increment twice.
_RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                      "RequestLimitExceeded"}
#: How long a stream's shard listing is trusted. DescribeStream allows ~10 calls a second per
#: stream, and shards roll over every few hours; a closed shard also forces a refresh.
_SHARDS_TTL_S = 60.0
#: Shard iterators are valid 15 minutes; reuse them for less than that.
_ITERATOR_TTL_S = 600.0
_ITERATOR_CACHE_MAX = 512

# Conditions. An item whose numeric ``ttl`` is at or before now (epoch seconds) is expired and
# counts as absent; a comparison with a missing or non-numeric ``ttl`` is false in DynamoDB, so
# "NOT (ttl <= now)" holds for items that never expire.
_ABSENT = "attribute_not_exists(#pk) OR #ttl <= :now"
_LIVE = "NOT (#ttl <= :now)"
_EXPIRED = "#ttl <= :now"


def _now_s() -> int:
    return int(time.time())


def _live(item: Mapping[str, Any], now_s: float) -> bool:
    """True unless the item has a numeric ``ttl`` (epoch s) at or before ``now_s``; DynamoDB's
    TTL ignores non-numeric values, and so does this."""
    ttl = item.get("ttl")
    return not (isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and ttl <= now_s)


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0.5, 1.0) * min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2 ** attempt))


# -- values ---------------------------------------------------------------------------------------
def _number(value: Any) -> str:
    """DynamoDB's N wire form. Floats go through their shortest repr, so 0.1 is stored as 0.1,
    not as the 55-digit binary expansion; NaN and infinities have no DynamoDB form."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be stored: DynamoDB numbers are finite")
        return str(Decimal(str(value)))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} cannot be stored: DynamoDB numbers are finite")
        return str(value)
    return str(value)


def _ser(value: Any) -> dict[str, Any]:
    """A JSON-like value as a DynamoDB AttributeValue (what ``json.dumps`` takes, the SQLite
    engine's format, is what this takes)."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):  # before int: bool is an int subclass
        return {"BOOL": value}
    if isinstance(value, (int, float, Decimal)):
        return {"N": _number(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, Mapping):
        out = {}
        for key, inner in value.items():
            if not isinstance(key, str):
                raise TypeError(f"map keys must be strings, got {key!r}")
            out[key] = _ser(inner)
        return {"M": out}
    if isinstance(value, (list, tuple)):
        return {"L": [_ser(inner) for inner in value]}
    raise TypeError(f"cannot store a {type(value).__name__}: values are JSON-like")


def _de(attr: Mapping[str, Any]) -> Any:
    """An AttributeValue as a plain value: N becomes int when it has no fraction or exponent
    (DynamoDB normalises numbers, so a float with no fraction, e.g. 2.0, comes back as 2)."""
    if not attr:
        # DynamoDB Local's stream records carry an empty map as {} with no type (DynamoDB
        # sends {"M": {}}); a typeless empty value can only be that map.
        return {}
    (kind, value), = attr.items()
    if kind == "S":
        return value
    if kind == "N":
        return float(value) if any(c in value for c in ".eE") else int(value)
    if kind == "M":
        return {key: _de(inner) for key, inner in value.items()}
    if kind == "L":
        return [_de(inner) for inner in value]
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "B":
        return value
    if kind in ("SS", "BS"):
        return set(value)
    if kind == "NS":
        return {_de({"N": n}) for n in value}
    raise TypeError(f"unknown DynamoDB type {kind!r}")


def _ser_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _ser(value) for name, value in item.items()}


def _de_item(attrs: Mapping[str, Any]) -> Item:
    return {name: _de(value) for name, value in attrs.items()}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


class DynamoStore:
    """:class:`~chalicelib.storage.interface.Store` on DynamoDB.

    ``request_count`` counts DynamoDB and DynamoDB Streams API calls made (not botocore's
    transparent retries), for benchmarks and cost tests. Reads of the base table are strongly
    consistent, as SQLite's are (a read after a write sees it); GSI queries cannot be and are
    eventually consistent on AWS.
    """

    engine = "dynamodb"

    def __init__(self, table_prefix: str, *, consistent_reads: bool = True):
        self.table_prefix = table_prefix
        self.consistent_reads = consistent_reads
        self.request_count = 0
        self._lock = threading.Lock()
        self._client: Any = None
        self._streams_client: Any = None
        self._stream_arns: dict[str, str] = {}
        self._shards: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._iterators: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._pitr_supported = True

    # -- clients ----------------------------------------------------------------------------
    # Created on first use (a Lambda that never touches a table never pays for them) and then
    # reused: building a client costs milliseconds and each keeps its own connection pool.
    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client("dynamodb", None)
        return self._client

    @property
    def streams_client(self) -> Any:
        if self._streams_client is None:
            with self._lock:
                if self._streams_client is None:
                    self._streams_client = self._make_client("dynamodbstreams",
                                                             self._streams_endpoint())
        return self._streams_client

    @staticmethod
    def _streams_endpoint() -> str | None:
        """boto3 reads AWS_ENDPOINT_URL_DYNAMODB for DynamoDB but AWS_ENDPOINT_URL_DYNAMODB_STREAMS
        (or AWS_ENDPOINT_URL) for DynamoDB Streams. DynamoDB Local serves both on one port, so
        when only the DynamoDB one is set, streams go there too instead of to AWS."""
        env = os.environ
        if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
            return None
        if env.get("AWS_ENDPOINT_URL_DYNAMODB_STREAMS") or env.get("AWS_ENDPOINT_URL"):
            return None
        return env.get("AWS_ENDPOINT_URL_DYNAMODB") or None

    def _make_client(self, service: str, endpoint_url: str | None) -> Any:
        # A session of our own: boto3's default session is not safe to build clients from
        # several threads at once. Standard retry mode backs off on throttling by itself.
        # No client-side parameter validation: this engine builds every request itself (the
        # contract suite runs them against DynamoDB Local, which validates them as AWS
        # does), and botocore's check of each attribute of each item was 30 % of the CPU
        # time of a 500-sample batch (148 -> 104 ms a batch; wall time 580 -> 497 ms).
        session = boto3.session.Session()
        client = session.client(service, endpoint_url=endpoint_url, config=Config(
            retries={"mode": "standard", "max_attempts": 5}, tcp_keepalive=True,
            parameter_validation=False))
        client.meta.events.register("before-call", self._count_request)
        return client

    def _count_request(self, **_: Any) -> None:
        self.request_count += 1

    def close(self) -> None:
        with self._lock:
            for client in (self._client, self._streams_client):
                if client is not None:
                    client.close()
            self._client = self._streams_client = None

    def _name(self, table: str) -> str:
        return physical_name(self.table_prefix, table)

    # -- tables -----------------------------------------------------------------------------
    def ensure_tables(self, progress: Any = None) -> None:
        """Create the missing tables, wait until every table is ACTIVE, and switch on TTL and
        point-in-time recovery where they are off. Idempotent; safe to run from several
        processes at once. ``progress(done, total, name)`` is called as each table is ready."""
        client = self.client
        # Create every missing table first, then wait: AWS creates them in parallel.
        descriptions: dict[str, dict[str, Any] | None] = {}
        for table, spec in TABLES.items():
            name = self._name(table)
            try:
                descriptions[table] = client.describe_table(TableName=name)["Table"]
            except client.exceptions.ResourceNotFoundException:
                try:
                    descriptions[table] = client.create_table(
                        **self._table_definition(name, spec.stream))["TableDescription"]
                except client.exceptions.ResourceInUseException:
                    descriptions[table] = None  # another process is creating it
        for done, (table, description) in enumerate(descriptions.items(), start=1):
            name = self._name(table)
            deadline = time.monotonic() + 600
            # DynamoDB Local answers ACTIVE at once; AWS takes seconds, so poll every second.
            while description is None or description["TableStatus"] != "ACTIVE":
                if time.monotonic() > deadline:
                    raise StorageError(f"{name} is not ACTIVE after 10 minutes")
                if description is not None:
                    time.sleep(1)
                description = client.describe_table(TableName=name)["Table"]
            if description.get("LatestStreamArn"):
                self._stream_arns[table] = description["LatestStreamArn"]
            self._ensure_ttl(name)
            self._ensure_pitr(name)
            if progress is not None:
                progress(done, len(descriptions), name)

    @staticmethod
    def _table_definition(name: str, stream: bool) -> dict[str, Any]:
        definition: dict[str, Any] = {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "AttributeDefinitions": [{"AttributeName": attr, "AttributeType": "S"}
                                     for attr in ("pk", "sk", "gsi1pk", "gsi1sk")],
            "GlobalSecondaryIndexes": [{
                "IndexName": "gsi1",
                "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                              {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if stream:
            definition["StreamSpecification"] = {"StreamEnabled": True,
                                                 "StreamViewType": "NEW_AND_OLD_IMAGES"}
        return definition

    def _ensure_ttl(self, name: str) -> None:
        status = self.client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if status.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return
        try:
            self.client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
        except ClientError as error:
            # Two processes enabling it at once: the other one's change is in flight.
            if "already enabled" not in str(error).lower():
                raise

    def _ensure_pitr(self, name: str) -> None:
        if not self._pitr_supported:
            return
        for attempt in range(12):
            try:
                backups = self.client.describe_continuous_backups(TableName=name)
                pitr = backups["ContinuousBackupsDescription"].get(
                    "PointInTimeRecoveryDescription", {})
                if pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
                    return
                self.client.update_continuous_backups(
                    TableName=name,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
                return
            except ClientError as error:
                if _code(error) == "UnknownOperationException":
                    # DynamoDB Local has no backups; nothing to switch on there.
                    self._pitr_supported = False
                    return
                # Right after CreateTable AWS may still be preparing backups for the table.
                if _code(error) != "ContinuousBackupsUnavailableException" or attempt == 11:
                    raise
                time.sleep(min(2 ** attempt, 10))

    # -- single-item operations -------------------------------------------------------------
    def get(self, table: str, pk: str, sk: str) -> Item | None:
        response = self.client.get_item(TableName=self._name(table), Key=_key(pk, sk),
                                        ConsistentRead=self.consistent_reads)
        if "Item" not in response:
            return None
        item = _de_item(response["Item"])
        return item if _live(item, _now_s()) else None

    def get_many(self, table: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Item]:
        name = self._name(table)
        unique = list(dict.fromkeys(keys))  # BatchGetItem refuses duplicate keys
        found: dict[tuple[str, str], Item] = {}
        for start in range(0, len(unique), _READ_CHUNK):
            request: dict[str, Any] = {name: {
                "Keys": [_key(pk, sk) for pk, sk in unique[start:start + _READ_CHUNK]],
                "ConsistentRead": self.consistent_reads}}
            for attempt in range(_ATTEMPTS):
                response = self.client.batch_get_item(RequestItems=request)
                now = _now_s()
                for attrs in response.get("Responses", {}).get(name, []):
                    item = _de_item(attrs)
                    if _live(item, now):
                        found[(item["pk"], item["sk"])] = item
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                _backoff(attempt)
            else:
                left = len(request.get(name, {}).get("Keys", []))
                raise StorageError(f"{name}: {left} keys still unprocessed after {_ATTEMPTS} tries")
        return found

    def put(self, table: str, item: Item, *, if_absent: bool = True) -> None:
        check_item(item)
        request: dict[str, Any] = {"TableName": self._name(table), "Item": _ser_item(item)}
        if if_absent:
            request.update(ConditionExpression=_ABSENT,
                           ExpressionAttributeNames={"#pk": "pk", "#ttl": "ttl"},
                           ExpressionAttributeValues={":now": {"N": str(_now_s())}})
        try:
            self.client.put_item(**request)
        except self.client.exceptions.ConditionalCheckFailedException:
            raise AlreadyExists(f"{table}: {item['pk']}/{item['sk']} exists") from None

    def put_versioned(self, table: str, item: Item, expected_version: int | None) -> Item:
        check_item(item)
        written = {**item, "version": (expected_version or 0) + 1}
        try:
            self.client.put_item(TableName=self._name(table), Item=_ser_item(written),
                                 **self._version_condition(expected_version, _now_s()))
        except self.client.exceptions.ConditionalCheckFailedException:
            raise VersionConflict(
                f"{table}: {item['pk']}/{item['sk']} is not at version {expected_version}") from None
        return written

    @staticmethod
    def _version_condition(expected_version: int | None, now: int) -> dict[str, Any]:
        if expected_version is None:
            return {"ConditionExpression": _ABSENT,
                    "ExpressionAttributeNames": {"#pk": "pk", "#ttl": "ttl"},
                    "ExpressionAttributeValues": {":now": {"N": str(now)}}}
        return {"ConditionExpression": f"#version = :v AND {_LIVE}",
                "ExpressionAttributeNames": {"#version": "version", "#ttl": "ttl"},
                "ExpressionAttributeValues": {":v": {"N": _number(expected_version)},
                                              ":now": {"N": str(now)}}}

    def increment(self, table: str, pk: str, sk: str, deltas: Mapping[str, int | float],
                  defaults: Mapping[str, Any] | None = None) -> Item:
        """Atomically add ``deltas``; an expired item counts as absent (its counters restart
        from 0 and its defaults, as in SQLite), which takes a second, conditional request."""
        op = Increment(table, pk, sk, dict(deltas), dict(defaults or {}))
        name = self._name(table)
        for _ in range(_ATTEMPTS):
            now = _now_s()
            try:
                response = self.client.update_item(
                    TableName=name, Key=_key(pk, sk), ReturnValues="ALL_NEW",
                    **self._increment_update(op, now))
                return _de_item(response["Attributes"])
            except self.client.exceptions.ConditionalCheckFailedException:
                pass  # the stored item is expired: replace it, unless someone just did
            fresh = self._fresh_counter(op)
            try:
                self.client.put_item(TableName=name, Item=_ser_item(fresh),
                                     **self._expired_condition(now))
                return fresh
            except self.client.exceptions.ConditionalCheckFailedException:
                continue  # revived meanwhile: add to it
        raise StorageError(f"{table}: {pk}/{sk} kept changing under an increment")

    @staticmethod
    def _increment_update(op: Increment, now: int) -> dict[str, Any]:
        """UpdateExpression ``SET`` defaults with if_not_exists, ``ADD`` deltas, guarded by the
        item being live. An attribute in both gets ``if_not_exists(default) + delta``, because
        DynamoDB refuses two actions on one path."""
        if not op.deltas and not op.defaults:
            raise ValueError("an Increment needs at least one delta or default")
        names = {"#ttl": "ttl"}
        values: dict[str, Any] = {":now": {"N": str(now)}}
        sets, adds = [], []
        for i, (attr, delta) in enumerate(op.deltas.items()):
            if attr in ("pk", "sk") or isinstance(delta, bool) or not isinstance(
                    delta, (int, float, Decimal)):
                raise ValueError(f"delta {attr}={delta!r} must be a number on a non-key attribute")
            names[f"#a{i}"] = attr
            values[f":a{i}"] = {"N": _number(delta)}
            if attr in op.defaults:
                values[f":ad{i}"] = _ser(op.defaults[attr])
                sets.append(f"#a{i} = if_not_exists(#a{i}, :ad{i}) + :a{i}")
            else:
                adds.append(f"#a{i} :a{i}")
        for i, (attr, default) in enumerate(op.defaults.items()):
            if attr in ("pk", "sk") or attr in op.deltas:
                continue  # keys are set already; shared attributes are handled above
            names[f"#d{i}"] = attr
            values[f":d{i}"] = _ser(default)
            sets.append(f"#d{i} = if_not_exists(#d{i}, :d{i})")
        expression = " ".join(
            part for part in (f"SET {', '.join(sets)}" if sets else "",
                              f"ADD {', '.join(adds)}" if adds else "") if part)
        return {"UpdateExpression": expression, "ConditionExpression": _LIVE,
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}

    @staticmethod
    def _fresh_counter(op: Increment) -> Item:
        """What an increment writes where no live item is: defaults, then deltas added to 0."""
        item: Item = {"pk": op.pk, "sk": op.sk}
        for attr, default in op.defaults.items():
            item.setdefault(attr, default)
        for attr, delta in op.deltas.items():
            item[attr] = item.get(attr, 0) + delta
        return item

    @staticmethod
    def _expired_condition(now: int) -> dict[str, Any]:
        return {"ConditionExpression": _EXPIRED, "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": {":now": {"N": str(now)}}}

    def delete(self, table: str, pk: str, sk: str) -> None:
        self.client.delete_item(TableName=self._name(table), Key=_key(pk, sk))

    # -- transactions -----------------------------------------------------------------------
    def transact(self, ops: Sequence[Op]) -> None:
        """TransactWriteItems. Conflicts with concurrent transactions and throttling are retried
        with backoff; failed conditions raise :class:`TransactionCancelled` at once.

        An Increment carries a liveness guard of its own (not a caller's condition): when it
        fails, the item is expired, and the retry replaces it with a fresh counter instead.
        """
        self._check_ops(ops)
        replace: set[int] = set()  # Increments whose target is expired
        for attempt in range(_ATTEMPTS):
            now = _now_s()
            request = [self._transact_item(op, now, i in replace) for i, op in enumerate(ops)]
            try:
                self.client.transact_write_items(TransactItems=request)
                return
            except ClientError as error:
                if _code(error) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code", "None") for r in
                           error.response.get("CancellationReasons", [])]
            failed = [i for i, code in enumerate(reasons) if code == "ConditionalCheckFailed"]
            callers = [i for i in failed if not isinstance(ops[i], Increment)]
            if callers:
                raise TransactionCancelled(callers)
            if failed:
                replace ^= set(failed)  # expired → replace; replaced meanwhile → add again
                continue
            if not reasons or not all(code in _RETRYABLE_REASONS or code == "None"
                                      for code in reasons):
                raise StorageError(f"transaction cancelled: {reasons}")
            _backoff(attempt)
        raise StorageError(f"transaction still conflicting after {_ATTEMPTS} tries")

    def _transact_item(self, op: Op, now: int, replace: bool) -> dict[str, Any]:
        name = self._name(op.table)
        if isinstance(op, Put):
            put: dict[str, Any] = {"TableName": name, "Item": _ser_item(op.item)}
            if op.if_absent:
                put.update(ConditionExpression=_ABSENT,
                           ExpressionAttributeNames={"#pk": "pk", "#ttl": "ttl"},
                           ExpressionAttributeValues={":now": {"N": str(now)}})
            return {"Put": put}
        if isinstance(op, VersionedPut):
            item = {**op.item, "version": (op.expected_version or 0) + 1}
            return {"Put": {"TableName": name, "Item": _ser_item(item),
                            **self._version_condition(op.expected_version, now)}}
        if isinstance(op, Increment):
            if replace:
                return {"Put": {"TableName": name, "Item": _ser_item(self._fresh_counter(op)),
                                **self._expired_condition(now)}}
            return {"Update": {"TableName": name, "Key": _key(op.pk, op.sk),
                               **self._increment_update(op, now)}}
        if isinstance(op, Delete):
            delete: dict[str, Any] = {"TableName": name, "Key": _key(op.pk, op.sk)}
            if op.must_exist:
                delete.update(ConditionExpression=f"attribute_exists(#pk) AND {_LIVE}",
                              ExpressionAttributeNames={"#pk": "pk", "#ttl": "ttl"},
                              ExpressionAttributeValues={":now": {"N": str(now)}})
            return {"Delete": delete}
        raise TypeError(f"not a storage op: {op!r}")

    def _check_ops(self, ops: Sequence[Op]) -> None:
        check_ops(ops)
        for op in ops:
            self._name(op.table)  # unknown tables fail before any request
            if isinstance(op, (Put, VersionedPut)):
                check_item(op.item)

    def transact_groups(self, groups: Sequence[Sequence[Op]]) -> None:
        """One TransactWriteItems per group, in order (DynamoDB has nothing larger)."""
        for ops in groups:
            self._check_ops(ops)  # every group, before the first request
        for g, ops in enumerate(groups):
            try:
                self.transact(ops)
            except TransactionCancelled as cancelled:
                raise GroupCancelled(g, cancelled.failed) from None

    def batch_put(self, table: str, items: Sequence[Item]) -> None:
        """BatchWriteItem, 25 items a request; what DynamoDB leaves unprocessed (throttling,
        partition limits) is resent with exponential backoff until written or out of tries."""
        name = self._name(table)
        for item in items:
            check_item(item)
        # BatchWriteItem refuses a key twice in one request; the last write wins, as in SQLite.
        latest = {(item["pk"], item["sk"]): item for item in items}
        unique = list(latest.values())
        for start in range(0, len(unique), _WRITE_CHUNK):
            request: dict[str, Any] = {name: [{"PutRequest": {"Item": _ser_item(item)}}
                                              for item in unique[start:start + _WRITE_CHUNK]]}
            for attempt in range(_ATTEMPTS):
                response = self.client.batch_write_item(RequestItems=request)
                request = response.get("UnprocessedItems") or {}
                if not request:
                    break
                _backoff(attempt)
            else:
                left = len(request.get(name, []))
                raise StorageError(
                    f"{name}: {left} items still unprocessed after {_ATTEMPTS} tries")

    # -- queries ----------------------------------------------------------------------------
    def query(self, table: str, pk: str, *, sk_min: str | None = None, sk_max: str | None = None,
              sk_prefix: str | None = None, newest_first: bool = True, limit: int = 100,
              cursor: str | None = None, index: str | None = None,
              fields: Sequence[FieldPath] | None = None) -> Page:
        """One Query request for ``limit + 1`` items: the extra one tells whether more follow,
        so the last page's cursor is None exactly as in SQLite. Expired items are dropped after
        reading; the cursor still advances past them."""
        name = self._name(table)
        if index not in (None, "gsi1"):
            raise ValueError(f"unknown index {index!r}")
        if limit < 1:
            raise ValueError("limit must be at least 1")
        part, sort = ("gsi1pk", "gsi1sk") if index else ("pk", "sk")
        start_key = None
        if cursor is not None:
            start_key = {attr: {"S": value}
                         for attr, value in decode_cursor(cursor, pk, index, sk_min, sk_max,
                                                          sk_prefix).items()}
        names = {"#p": part}
        values: dict[str, Any] = {":p": {"S": pk}}
        condition = "#p = :p"
        # A key condition takes one sort-key test; bounds and a prefix together become one
        # range. Sort keys are non-empty, so an empty lower bound or prefix bounds nothing.
        low = sk_min or None
        high = sk_max
        if sk_prefix:
            # The prefix as a range: every key starting with it sorts in [prefix, prefix+max].
            low = max(low, sk_prefix) if low is not None else sk_prefix
            top = sk_prefix + "\U0010ffff"
            high = min(high, top) if high is not None else top
        if high is not None and (high == "" or (low is not None and low > high)):
            return Page([], None)
        if sk_prefix and sk_min is None and sk_max is None:
            names["#s"], values[":pre"] = sort, {"S": sk_prefix}
            condition += " AND begins_with(#s, :pre)"
        elif low is not None and high is not None:
            names["#s"], values[":lo"], values[":hi"] = sort, {"S": low}, {"S": high}
            condition += " AND #s BETWEEN :lo AND :hi"
        elif low is not None:
            names["#s"], values[":lo"] = sort, {"S": low}
            condition += " AND #s >= :lo"
        elif high is not None:
            names["#s"], values[":hi"] = sort, {"S": high}
            condition += " AND #s <= :hi"
        request: dict[str, Any] = {
            "TableName": name, "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
            "ScanIndexForward": not newest_first, "Limit": limit + 1}
        if index:
            request["IndexName"] = index
        else:
            request["ConsistentRead"] = self.consistent_reads
        if fields is not None:
            request["ProjectionExpression"] = self._projection(fields, names, bool(index))
        if start_key is not None:
            request["ExclusiveStartKey"] = start_key
        response = self.client.query(**request)
        raw = [_de_item(attrs) for attrs in response.get("Items", [])]
        next_key: Mapping[str, str] | None = None
        if len(raw) > limit:
            raw = raw[:limit]
            last = raw[-1]
            next_key = {"pk": last["pk"], "sk": last["sk"]}
            if index:
                next_key.update(gsi1pk=last["gsi1pk"], gsi1sk=last["gsi1sk"])
        elif response.get("LastEvaluatedKey"):
            # Stopped by the 1 MB page size before the limit: resume right after its last key.
            next_key = {attr: value["S"] for attr, value in response["LastEvaluatedKey"].items()}
        now = _now_s()
        items = [item for item in raw if _live(item, now)]
        if fields is not None and ("ttl",) not in fields:
            for item in items:  # read for the expiry filter only
                item.pop("ttl", None)
        return Page(items, encode_cursor(pk, index, next_key) if next_key else None)

    @staticmethod
    def _projection(fields: Sequence[FieldPath], names: dict[str, str], index: bool) -> str:
        """A ProjectionExpression of the keys (a cursor needs them), ``ttl`` (expired items
        are filtered here) and ``fields``, every name a placeholder (metric names have dots)."""
        check_field_paths(fields)
        always = ["pk", "sk", "ttl"] + (["gsi1pk", "gsi1sk"] if index else [])
        parts = []
        for i, attr in enumerate(always):
            names[f"#k{i}"] = attr
            parts.append(f"#k{i}")
        for i, path in enumerate(fields):
            if len(path) == 1 and path[0] in always:
                continue  # read anyway
            placeholders = []
            for j, part in enumerate(path):
                names[f"#f{i}_{j}"] = part
                placeholders.append(f"#f{i}_{j}")
            parts.append(".".join(placeholders))
        return ", ".join(parts)

    # -- change stream ----------------------------------------------------------------------
    def changes(self, table: str, after: str | None = None, limit: int = 100) -> ChangeBatch:
        """Up to ``limit`` changes of the table's DynamoDB stream after the cursor ``after``
        (None: from the oldest record kept, 24 h on AWS).

        The cursor is base64 JSON of the last sequence number read per shard, plus the closed
        shards read to their end. A shard is read only after its parent is finished, so the
        changes of one item come in write order. As in SQLite, an expired item counts as absent:
        overwriting it is an INSERT, and deleting it (by hand or by TTL) is no change.
        """
        self._name(table)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if not TABLES[table].stream:
            return ChangeBatch([], after)  # like the SQLite change log: nothing is logged
        positions, finished = self._decode_stream_cursor(after)
        arn = self._stream_arn(table)
        shards = self._list_shards(arn)
        listed = {shard["ShardId"] for shard in shards}
        if any(sid not in listed for sid in [*positions, *finished]):
            # Another process may have read a shard newer than this process's listing.
            shards = self._list_shards(arn, refresh=True)
            listed = {shard["ShardId"] for shard in shards}
        # Shards gone from the listing were trimmed (older than the retention): forget them.
        positions = {sid: seq for sid, seq in positions.items() if sid in listed}
        finished = {sid for sid in finished if sid in listed}
        out: list[Change] = []
        closed_one = False
        for shard in shards:
            sid = shard["ShardId"]
            parent = shard.get("ParentShardId")
            if sid in finished or (parent in listed and parent not in finished):
                continue
            response = self._get_records(arn, sid, positions.get(sid, ""),
                                         min(_RECORDS_MAX, limit - len(out)))
            for record in response.get("Records", []):
                positions[sid] = record["dynamodb"]["SequenceNumber"]
                change = self._change(table, record)
                if change is not None:
                    out.append(change)
            following = response.get("NextShardIterator")
            if following is None:
                finished.add(sid)  # a closed shard read to its end: its children may go on
                positions.pop(sid, None)
                closed_one = True
            else:
                self._remember_iterator(arn, sid, positions.get(sid, ""), following)
            if len(out) >= limit:
                break
        if closed_one:
            self._shards.pop(arn, None)  # its children appear in the next listing
        return ChangeBatch(out, self._encode_stream_cursor(positions, finished))

    def _stream_arn(self, table: str) -> str:
        arn = self._stream_arns.get(table)
        if arn is None:
            # Once per table and process; ensure_tables fills this in as it goes.
            description = self.client.describe_table(TableName=self._name(table))["Table"]
            arn = description.get("LatestStreamArn")
            if not arn:
                raise StorageError(f"{self._name(table)} has no stream; run ensure_tables")
            self._stream_arns[table] = arn
        return arn

    def _list_shards(self, arn: str, refresh: bool = False) -> list[dict[str, Any]]:
        """The stream's shards, parents before children (a child's sequence numbers start after
        its parent's), cached for :data:`_SHARDS_TTL_S` seconds."""
        cached = self._shards.get(arn)
        if cached is not None and not refresh and time.monotonic() - cached[0] < _SHARDS_TTL_S:
            return cached[1]
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": arn}
        while True:
            description = self.streams_client.describe_stream(**request)["StreamDescription"]
            shards += description.get("Shards", [])
            last = description.get("LastEvaluatedShardId")
            if not last:
                break
            request["ExclusiveStartShardId"] = last
        shards.sort(key=lambda s: int(s["SequenceNumberRange"]["StartingSequenceNumber"]))
        self._shards[arn] = (time.monotonic(), shards)
        return shards

    def _get_records(self, arn: str, shard_id: str, after_seq: str, limit: int) -> dict[str, Any]:
        """One GetRecords from just after ``after_seq`` ("" for the shard's start), reusing the
        iterator the previous call returned for that very position when it is still fresh."""
        streams = self.streams_client
        cached = self._iterators.pop((arn, shard_id, after_seq), None)
        if cached is not None and time.monotonic() - cached[1] < _ITERATOR_TTL_S:
            try:
                return streams.get_records(ShardIterator=cached[0], Limit=limit)
            except (streams.exceptions.ExpiredIteratorException,
                    streams.exceptions.TrimmedDataAccessException):
                # A fresh iterator for the same position will do. (DynamoDB Local also
                # refuses, as trimmed, the iterator of a shard that was empty when it was
                # issued, once the shard's first record is written.)
                pass
        iterator = self._shard_iterator(arn, shard_id, after_seq)
        return streams.get_records(ShardIterator=iterator, Limit=limit)

    def _shard_iterator(self, arn: str, shard_id: str, after_seq: str) -> str:
        streams = self.streams_client
        if after_seq:
            try:
                return streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard_id, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=after_seq)["ShardIterator"]
            except streams.exceptions.TrimmedDataAccessException:
                pass  # the position fell out of the retention: the oldest kept is what's left
        return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def _remember_iterator(self, arn: str, shard_id: str, after_seq: str, iterator: str) -> None:
        if len(self._iterators) >= _ITERATOR_CACHE_MAX:
            # Cursors that were never continued; dropping them costs one GetShardIterator each.
            self._iterators.clear()
        self._iterators[(arn, shard_id, after_seq)] = (iterator, time.monotonic())

    @staticmethod
    def _change(table: str, record: Mapping[str, Any]) -> Change | None:
        data = record["dynamodb"]
        new = _de_item(data["NewImage"]) if "NewImage" in data else None
        old = _de_item(data["OldImage"]) if "OldImage" in data else None
        event = record["eventName"]
        created = data.get("ApproximateCreationDateTime")
        at_s = created.timestamp() if created is not None else time.time()
        if old is not None and not _live(old, at_s):
            old = None  # the write replaced an expired item, which SQLite treats as absent
            if event == "REMOVE":
                return None
            event = "INSERT"
        keys = {attr: _de(value) for attr, value in data["Keys"].items()}
        return Change(table, event, {"pk": keys["pk"], "sk": keys["sk"]}, new, old,
                      data["SequenceNumber"])

    @staticmethod
    def _encode_stream_cursor(positions: Mapping[str, str], finished: set[str]) -> str:
        raw = json.dumps({"p": dict(positions), "d": sorted(finished)}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def _decode_stream_cursor(cursor: str | None) -> tuple[dict[str, str], set[str]]:
        if cursor is None:
            return {}, set()
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            positions, finished = data["p"], data["d"]
            if (isinstance(positions, dict) and isinstance(finished, list)
                    and all(isinstance(v, str) and v.isdigit() for v in positions.values())
                    and all(isinstance(s, str) for s in finished)):
                return dict(positions), set(finished)
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            pass
        raise InvalidCursor("not a change-stream cursor of this store")
