"""What a write costs on DynamoDB, counted on any engine: a wrapper around a store that adds
up write capacity units as DynamoDB bills them.

- 1 WCU per started KB of the item (the larger of its size before and after the write),
  2 inside a transaction (TransactWriteItems), 1 in BatchWriteItem or a single-item write;
- item size as DynamoDB computes it: attribute names plus values (strings as UTF-8, numbers
  about one byte per two significant digits plus one, 3 bytes per map or list plus 1 per
  element).

The wrapper reads the touched items before and after each write straight from the engine
(those reads are not counted), so the figure is exact for the items this code writes.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Sequence

from chalicelib.storage.interface import GroupCancelled, Item, Op, op_key


def attribute_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, (int, float, Decimal)):
        digits = len(str(Decimal(str(value)).normalize()).lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if isinstance(value, dict):
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return 3 + sum(attribute_size(v) + 1 for v in value)
    raise TypeError(type(value))


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def units(before: Item | None, after: Item | None, transactional: bool) -> int:
    size = max(item_size(before), item_size(after), 1)
    return math.ceil(size / 1024) * (2 if transactional else 1)


class CapacityCounter:
    """Delegates every call to ``store`` and adds up ``write_units``."""

    def __init__(self, store: Any):
        self.store = store
        self.write_units = 0
        self.items_written = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def _snapshot(self, keys: Sequence[tuple[str, str, str]]) -> dict:
        """The stored items, read without counting as a store request."""
        requests = self.store.request_count
        out = {}
        for table in {t for t, _, _ in keys}:
            found = self.store.get_many(table, [(pk, sk) for t, pk, sk in keys if t == table])
            out.update({(table, pk, sk): item for (pk, sk), item in found.items()})
        self.store.request_count = requests
        return out

    def _count(self, keys: Sequence[tuple[str, str, str]], write, transactional: bool) -> Any:
        """DynamoDB bills every item a successful write names, changed or not."""
        before = self._snapshot(keys)
        result = write()
        after = self._snapshot(keys)
        for key in dict.fromkeys(keys):
            self.write_units += units(before.get(key), after.get(key), transactional)
            self.items_written += 1
        return result

    def transact(self, ops: Sequence[Op]) -> None:
        return self._count([op_key(op) for op in ops], lambda: self.store.transact(ops), True)

    def transact_groups(self, groups: Sequence[Sequence[Op]]) -> Any:
        """Each group is its own TransactWriteItems on DynamoDB and billed as such: an item
        put by one group and deleted by a later one (a journal) is paid for twice, at its
        size, so groups are written and counted one at a time."""
        for index, group in enumerate(groups):
            try:
                self._count([op_key(op) for op in group],
                            lambda: self.store.transact_groups([group]), True)
            except GroupCancelled as cancelled:
                raise GroupCancelled(index, cancelled.failed) from None

    def batch_put(self, table: str, items: Sequence[Item]) -> None:
        keys = [(table, i["pk"], i["sk"]) for i in items]
        return self._count(keys, lambda: self.store.batch_put(table, items), False)

    def put(self, table: str, item: Item, *, if_absent: bool = True) -> None:
        return self._count([(table, item["pk"], item["sk"])],
                           lambda: self.store.put(table, item, if_absent=if_absent), False)

    def put_versioned(self, table: str, item: Item, expected_version: int | None) -> Item:
        return self._count([(table, item["pk"], item["sk"])],
                           lambda: self.store.put_versioned(table, item, expected_version), False)

    def increment(self, table: str, pk: str, sk: str, deltas, defaults=None) -> Item:
        return self._count([(table, pk, sk)],
                           lambda: self.store.increment(table, pk, sk, deltas, defaults), False)

    def delete(self, table: str, pk: str, sk: str) -> None:
        return self._count([(table, pk, sk)], lambda: self.store.delete(table, pk, sk), False)

