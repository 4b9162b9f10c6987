"""Business storage: events, actor state and roll-up counters, through the storage interface.

Keys (all tables have ``pk``/``sk``):

- ``events``: ``pk = <kind>#<id>`` (the idempotency key), ``sk = "e"``; purchases are indexed by
  user in ``gsi1`` (``user#<userId>`` / ``<ts>#<orderId>``).
- ``actors``: ``user#<id>``/``state`` (active days), ``user#<id>``/``feature#<f>`` (feature
  days), ``session#<id>``/``state`` (first and last event).
- ``rollups``: ``pk = <family>#<granularity>``, ``sk = <bucket ms, 13 digits>#<dim>#<shard>``.
  The shard spreads one bucket over ``ROLLUP_SHARDS`` items, so no item takes more than its
  share of the writes; a read sums the shards, which one range query returns together.
- ``stats``: DailyStats, ``pk = stat#<type>``, ``sk = <YYYY-MM-DD>``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from ..storage import Increment, Item, Put, Store, VersionedPut
from .models import BusinessEvent, Purchase
from .rollup import ActiveDays, CounterKey, RollupDelta, SessionSpan


def user_key(user_id: str) -> tuple[str, str]:
    return f"user#{user_id}", "state"


def feature_key(user_id: str, feature: str) -> tuple[str, str]:
    return f"user#{user_id}", f"feature#{feature}"


def session_key(session_id: str) -> tuple[str, str]:
    return f"session#{session_id}", "state"


def rollup_pk(family: str, granularity: str) -> str:
    return f"{family}#{granularity}"


def rollup_sk(bucket: int, dim: str, shard: int) -> str:
    return f"{bucket:013d}#{dim}#{shard:02d}"


@dataclass
class ChunkWrite:
    """One all-or-nothing write: new events, the actor states they changed, the counters."""

    events: list[BusinessEvent]
    states: dict[tuple[str, str], ActiveDays | SessionSpan]
    delta: RollupDelta
    shard: int
    received_ms: int
    product_names: dict[str, str]


class BusinessRepository:
    def __init__(self, store: Store, *, event_retention_ms: int, bucket_ttl_ms: Mapping[str, int],
                 actor_ttl_ms: int):
        self.store = store
        self.event_retention_ms = event_retention_ms
        self.bucket_ttl_ms = dict(bucket_ttl_ms)
        self.actor_ttl_ms = actor_ttl_ms

    # -- ingest -----------------------------------------------------------------------------
    def stored_event_keys(self, keys: Iterable[str]) -> set[str]:
        found = self.store.get_many("events", [(k, "e") for k in keys])
        return {pk for pk, _ in found}

    def load_states(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], ActiveDays | SessionSpan]:
        found = self.store.get_many("actors", list(keys))
        states: dict[tuple[str, str], ActiveDays | SessionSpan] = {}
        for key, item in found.items():
            if item["pk"].startswith("session#"):
                states[key] = SessionSpan(item["first_ms"], item["last_ms"], item.get("user"),
                                          item["version"])
            else:
                states[key] = ActiveDays(tuple(item["days"]), item["version"])
        return states

    def write_chunk(self, chunk: ChunkWrite) -> None:
        """Write the chunk in one transaction. Raises ``TransactionCancelled`` when another
        writer got there first (an event already stored, an actor state moved on)."""
        ops: list = [Put("events", self._event_item(e, chunk.received_ms)) for e in chunk.events]
        for (pk, sk), state in chunk.states.items():
            ops.append(VersionedPut("actors", self._state_item(pk, sk, state, chunk.received_ms),
                                    state.version))
        for key, deltas in chunk.delta.nonzero():
            ops.append(Increment("rollups", rollup_pk(key.family, key.granularity),
                                 rollup_sk(key.bucket, key.dim, chunk.shard), deltas,
                                 self._bucket_defaults(key, chunk.product_names)))
        self.store.transact(ops)

    def ops_for(self, events: int, states: int, delta: RollupDelta) -> int:
        return events + states + sum(1 for _ in delta.nonzero())

    def _event_item(self, event: BusinessEvent, received_ms: int) -> Item:
        item: Item = {"pk": event.key, "sk": "e", **event.model_dump(exclude_none=True),
                      "received_ms": received_ms,
                      "ttl": (event.timestamp + self.event_retention_ms) // 1000}
        if isinstance(event, Purchase):
            item["gsi1pk"] = f"user#{event.userId}"
            item["gsi1sk"] = f"{event.timestamp:013d}#{event.orderId}"
        return item

    def _state_item(self, pk: str, sk: str, state: ActiveDays | SessionSpan,
                    received_ms: int) -> Item:
        # An actor is forgotten ACTOR_TTL after its last write; its counters stay.
        item: Item = {"pk": pk, "sk": sk, "ttl": (received_ms + self.actor_ttl_ms) // 1000}
        if isinstance(state, SessionSpan):
            item.update(first_ms=state.first_ms, last_ms=state.last_ms)
            if state.user_id:
                item["user"] = state.user_id
        else:
            item["days"] = list(state.days)
        return item

    def _bucket_defaults(self, key: CounterKey, product_names: Mapping[str, str]) -> dict:
        defaults = {"ttl": (key.bucket + self.bucket_ttl_ms[key.granularity]) // 1000}
        if key.family == "prod" and key.dim in product_names:
            defaults["name"] = product_names[key.dim]
        return defaults

    def bucket_is_kept(self, key: CounterKey, now_ms: int) -> bool:
        return key.bucket + self.bucket_ttl_ms[key.granularity] > now_ms

    # -- reads ------------------------------------------------------------------------------
    def counters(self, family: str, granularity: str, first_bucket: int,
                 last_bucket: int) -> dict[tuple[int, str], dict[str, int]]:
        """Counters of every bucket in ``[first_bucket, last_bucket]``, shards summed, keyed
        by (bucket start, dimension). One range query (paged), whatever the events stored."""
        totals: dict[tuple[int, str], dict[str, int]] = {}
        cursor = None
        while True:
            page = self.store.query("rollups", rollup_pk(family, granularity),
                                    sk_min=f"{first_bucket:013d}", sk_max=f"{last_bucket:013d}#\uffff",
                                    newest_first=False, limit=1000, cursor=cursor)
            for item in page.items:
                bucket, dim, _shard = item["sk"].rsplit("#", 2)
                into = totals.setdefault((int(bucket), dim), {})
                for name, value in item.items():
                    if name not in ("pk", "sk", "ttl", "name") and isinstance(value, (int, float)):
                        into[name] = into.get(name, 0) + value
                if "name" in item:
                    into.setdefault("name", item["name"])  # type: ignore[arg-type]
            cursor = page.cursor
            if cursor is None:
                return totals

    def put_daily_stat(self, stat: str, day: str, value: float, previous: float,
                       change: float | None, updated_ms: int) -> None:
        self.store.put("stats", {"pk": f"stat#{stat}", "sk": day, "statType": stat, "date": day,
                                 "value": value, "previousValue": previous, "change": change,
                                 "updated_ms": updated_ms}, if_absent=False)

    def daily_stats(self, stat: str, first_day: str, last_day: str) -> list[Item]:
        return self.store.query("stats", f"stat#{stat}", sk_min=first_day, sk_max=last_day,
                                newest_first=False, limit=400).items

