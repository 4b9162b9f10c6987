"""The one storage interface every feature repository is written against.

Items are dicts with a string partition key ``pk`` and sort key ``sk`` (the DynamoDB data model).
Reserved attributes, understood by both engines:

- ``ttl``: expiry, epoch *seconds*. An expired item is never returned, even before the engine
  deletes it.
- ``version``: the optimistic-lock counter written by :meth:`Store.put_versioned`.
- ``gsi1pk`` / ``gsi1sk``: the keys of the one secondary index, ``gsi1``. Items without
  ``gsi1pk`` are not in the index (a sparse index).

Values are JSON-like: str, int, float, bool, None, lists and dicts of those.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence, Union

Item = dict[str, Any]
#: A path into an item through nested maps, from a top-level attribute: ("stats", "cpu.percent").
FieldPath = tuple[str, ...]

#: DynamoDB's limit on the items of one transaction; both engines enforce it so that code which
#: passes on SQLite cannot fail on AWS.
MAX_TRANSACTION_OPS = 100
INDEX_NAMES = ("gsi1",)


class StorageError(Exception):
    """Base of the errors a store raises for conditions callers are expected to handle."""


class AlreadyExists(StorageError):
    """A create-if-absent write found the item already there; nothing was written."""


class VersionConflict(StorageError):
    """A versioned write expected a version the stored item no longer has; nothing was written."""


class TransactionCancelled(StorageError):
    """A condition in a transaction failed; nothing of the transaction was written.

    ``failed`` lists the indices (in the op sequence) whose condition did not hold.
    """

    def __init__(self, failed: Sequence[int]):
        super().__init__(f"transaction cancelled: conditions failed at {list(failed)}")
        self.failed = list(failed)


class GroupCancelled(TransactionCancelled):
    """A condition in group ``group`` of :meth:`Store.transact_groups` failed: the groups
    before it are written, nothing of it or of those after it is. ``failed`` indexes its ops."""

    def __init__(self, group: int, failed: Sequence[int]):
        super().__init__(failed)
        self.group = group
        self.args = (f"group {group} cancelled: conditions failed at {list(failed)}",)


class InvalidCursor(StorageError):
    """A pagination cursor that is malformed or belongs to another query."""


@dataclass(frozen=True)
class Put:
    """Write ``item`` whole; with ``if_absent`` (the default) only if no item has its key."""

    table: str
    item: Item
    if_absent: bool = True


@dataclass(frozen=True)
class Increment:
    """Add ``deltas`` to numeric attributes (missing ones start at 0).

    ``defaults`` are set only when the attribute is missing (e.g. ``ttl``, descriptive fields),
    so an increment never rewinds what another writer set.
    """

    table: str
    pk: str
    sk: str
    deltas: Mapping[str, Union[int, float]]
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionedPut:
    """Replace the item if its stored ``version`` equals ``expected_version``.

    ``expected_version=None`` means the item must not exist yet. The written item gets
    ``version = (expected_version or 0) + 1``.
    """

    table: str
    item: Item
    expected_version: int | None


@dataclass(frozen=True)
class Delete:
    """Remove the item; with ``must_exist`` only if a live item has the key (so that two
    writers racing to consume the same item cannot both succeed)."""

    table: str
    pk: str
    sk: str
    must_exist: bool = False


Op = Union[Put, Increment, VersionedPut, Delete]


@dataclass
class Page:
    items: list[Item]
    cursor: str | None  # opaque; None when there is nothing more


@dataclass(frozen=True)
class Change:
    """One entry of a table's change stream, in the order writes happened."""

    table: str
    event: str  # INSERT | MODIFY | REMOVE (DynamoDB Streams' eventName)
    keys: dict[str, str]
    new_image: Item | None
    old_image: Item | None
    sequence: str


@dataclass
class ChangeBatch:
    changes: list[Change]
    cursor: str | None  # pass back as ``after`` to continue; opaque


class Store(Protocol):
    """What both engines give. Table names are logical (see ``tables.TABLES``)."""

    def get(self, table: str, pk: str, sk: str) -> Item | None: ...

    def get_many(self, table: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Item]:
        """Live items for the given keys (missing and expired ones are absent from the result)."""

    def put(self, table: str, item: Item, *, if_absent: bool = True) -> None:
        """Raises :class:`AlreadyExists` when ``if_absent`` and the key is taken."""

    def put_versioned(self, table: str, item: Item, expected_version: int | None) -> Item:
        """Raises :class:`VersionConflict`; returns the item as written (with its new version)."""

    def increment(self, table: str, pk: str, sk: str, deltas: Mapping[str, int | float],
                  defaults: Mapping[str, Any] | None = None) -> Item:
        """Atomically add ``deltas``; returns the item after the update."""

    def delete(self, table: str, pk: str, sk: str) -> None: ...

    def query(self, table: str, pk: str, *, sk_min: str | None = None, sk_max: str | None = None,
              sk_prefix: str | None = None, newest_first: bool = True, limit: int = 100,
              cursor: str | None = None, index: str | None = None,
              fields: Sequence[FieldPath] | None = None) -> Page:
        """Items of one partition whose sort key is in ``[sk_min, sk_max]`` (both inclusive)
        or starts with ``sk_prefix``, ordered by sort key, descending when ``newest_first``.

        With ``index="gsi1"`` the partition and sort keys are ``gsi1pk``/``gsi1sk``. A page may
        hold fewer than ``limit`` items while more follow (expired items are filtered after
        reading, as DynamoDB filters); only ``cursor is None`` means the end.

        ``fields`` projects: each item then holds its keys and only those attribute paths
        (nested maps as stored, absent paths left out), so a read of one metric of a wide
        item decodes that metric alone.
        """

    def transact(self, ops: Sequence[Op]) -> None:
        """All ops or none (at most :data:`MAX_TRANSACTION_OPS`, each item at most once).

        Raises :class:`TransactionCancelled` naming the ops whose conditions failed.
        """

    def transact_groups(self, groups: Sequence[Sequence[Op]]) -> None:
        """Write groups of ops in order, each all-or-nothing exactly as :meth:`transact`.

        When a condition of group ``g`` fails, the groups before it stay written, nothing of
        ``g`` or after it is, and :class:`GroupCancelled` names ``g`` and its failed ops. An
        engine may commit every group at once (SQLite does, in one database transaction);
        none writes less atomically than one transaction per group, so callers plan for
        DynamoDB's guarantee.
        """

    def batch_put(self, table: str, items: Sequence[Item]) -> None:
        """Unconditional writes, batched; retries whatever the engine left unprocessed."""

    def changes(self, table: str, after: str | None = None, limit: int = 100) -> ChangeBatch:
        """The table's change stream from just after ``after`` (None: the oldest kept)."""

    def ensure_tables(self, progress: Any = None) -> None:
        """Create missing tables (idempotent)."""


def check_ops(ops: Sequence[Op]) -> list[tuple[str, str, str]]:
    """Refuse transactions DynamoDB would refuse, on every engine alike; returns the ops'
    keys (``op_key``), in order."""
    if not ops:
        raise ValueError("a transaction needs at least one op")
    if len(ops) > MAX_TRANSACTION_OPS:
        raise ValueError(f"a transaction takes at most {MAX_TRANSACTION_OPS} ops, got {len(ops)}")
    keys = [op_key(op) for op in ops]
    if len(set(keys)) < len(keys):
        seen: set[tuple[str, str, str]] = set()
        for key in keys:
            if key in seen:
                raise ValueError(f"item {key} appears twice in one transaction")
            seen.add(key)
    return keys


def op_key(op: Op) -> tuple[str, str, str]:
    if isinstance(op, (Put, VersionedPut)):
        return (op.table, op.item["pk"], op.item["sk"])
    return (op.table, op.pk, op.sk)


def check_item(item: Item) -> None:
    for key in ("pk", "sk"):
        value = item.get(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"item needs a non-empty string {key!r}")


def check_field_paths(fields: Sequence[FieldPath]) -> None:
    """Refuse what DynamoDB refuses in a projection (and quotes, which SQLite's JSON paths
    cannot hold): empty parts, and a path repeating or inside another."""
    for path in fields:
        if not path or not all(isinstance(part, str) and part and '"' not in part for part in path):
            raise ValueError(f"a field path is a tuple of non-empty map keys without quotes: {path!r}")
    for i, a in enumerate(fields):
        for b in fields[i + 1:]:
            if a[:len(b)] == b or b[:len(a)] == a:
                raise ValueError(f"field paths {a!r} and {b!r} overlap")


def set_path(item: Item, path: FieldPath, value: Any) -> None:
    """Put ``value`` at ``path`` in ``item``, creating the maps on the way."""
    for part in path[:-1]:
        item = item.setdefault(part, {})
    item[path[-1]] = value


def encode_cursor(pk: str, index: str | None, last: Mapping[str, str]) -> str:
    """An opaque cursor. It names its partition so that it can be refused for any other."""
    raw = json.dumps({"p": pk, "i": index, "k": dict(last)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, pk: str, index: str | None,
                  sk_min: str | None, sk_max: str | None, sk_prefix: str | None) -> dict[str, str]:
    """The last key a cursor carries, after checking it belongs to this very query.

    A client may edit a cursor; it still cannot reach another partition or leave the asked
    range, because the partition and bounds are checked against the request, not trusted.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        last = data["k"]
        ok = (isinstance(last, dict) and data.get("p") == pk and data.get("i") == index
              and all(isinstance(v, str) for v in last.values()))
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        ok = False
    if not ok:
        raise InvalidCursor("cursor does not belong to this query")
    sort_attr = "gsi1sk" if index else "sk"
    part_attr = "gsi1pk" if index else "pk"
    sk = last.get(sort_attr)
    if last.get(part_attr) != pk or sk is None or "pk" not in last or "sk" not in last:
        raise InvalidCursor("cursor does not belong to this query")
    if (sk_min is not None and sk < sk_min) or (sk_max is not None and sk > sk_max) or (
            sk_prefix is not None and not sk.startswith(sk_prefix)):
        raise InvalidCursor("cursor is outside the queried range")
    return last
