"""Business storage: events, actor state and roll-up counters, through the storage interface.

Keys (all tables have ``pk``/``sk``):

- ``events``: ``pk = <kind>#<id>`` (the idempotency key), ``sk = "e"``; purchases are indexed by
  user in ``gsi1`` (``user#<userId>`` / ``<ts>#<orderId>``).
- ``actors``: ``user#<id>``/``state`` (active days), ``user#<id>``/``feature#<f>`` (feature
  days), ``session#<id>``/``state`` (first and last event).
- ``rollups``: ``pk = <family>#<granularity>``, ``sk = <bucket ms, 13 digits>#<dim>#<shard>``.
  The shard spreads one bucket over ``ROLLUP_SHARDS`` items, so no item takes more than its
  share of the writes; a read sums the shards, which one range query returns together.
  ``journal#<shard>``/``<ms>#<id>`` items hold the roll-up deltas of events already
  claimed but not yet added (see ``Journal``); each is consumed exactly once.
- ``stats``: DailyStats, ``pk = stat#<type>``, ``sk = <YYYY-MM-DD>``.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from ..storage import Delete, Increment, Item, Op, Put, Store, VersionedPut
from .models import BusinessEvent, Purchase
from .rollup import ActiveDays, CounterKey, RollupDelta, SessionSpan


#: Journals are spread over this many partitions (a fixed number, unlike ROLLUP_SHARDS, so
#: that a changed setting never hides journals from the sweep that adds stale ones).
JOURNAL_PARTITIONS = 8


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
class Claim:
    """Events to store, the actor states they move (each with the version it must still
    have) and the roll-up deltas they add: written in one transaction, with the deltas either
    inline or journaled (see ``Journal``)."""

    events: list[BusinessEvent] = field(default_factory=list)
    states: dict[tuple[str, str], ActiveDays | SessionSpan] = field(default_factory=dict)
    delta: RollupDelta = field(default_factory=RollupDelta)
    product_names: dict[str, str] = field(default_factory=dict)
    shard: int = 0


@dataclass(frozen=True)
class Journal:
    """A claim's roll-up deltas, stored in the claim's own transaction and added to the
    roll-ups later together with other claims' (one increment per bucket for a whole batch),
    in a transaction that also consumes the journal: counted exactly once, whoever adds it."""

    pk: str
    sk: str
    delta: RollupDelta
    product_names: Mapping[str, str]
    shard: int


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

    def claim_ops(self, claim: Claim, received_ms: int,
                  journal: Journal | Sequence[Journal] | None) -> list[Op]:
        """The claim's transaction: it fails (``TransactionCancelled``) when an event is stored
        already or an actor state moved on meanwhile. ``journal``: None to increment the
        roll-ups inline, else the journal (or journals, parts of it) holding the deltas."""
        ops: list[Op] = [Put("events", self._event_item(e, received_ms)) for e in claim.events]
        for (pk, sk), state in claim.states.items():
            ops.append(VersionedPut("actors", self._state_item(pk, sk, state, received_ms),
                                    state.version))
        if journal is None:
            ops += self._increments(claim.delta, claim.shard, claim.product_names)
            return ops
        for part in [journal] if isinstance(journal, Journal) else journal:
            ops.append(Put("rollups", {
                "pk": part.pk, "sk": part.sk, "shard": part.shard,
                "names": dict(part.product_names),
                "delta": [[k.family, k.granularity, k.bucket, k.dim, d]
                          for k, d in part.delta.nonzero()]}))
        return ops

    @staticmethod
    def journal_for(claim: Claim, received_ms: int) -> Journal:
        return Journal(f"journal#{claim.shard % JOURNAL_PARTITIONS}",
                       f"{received_ms:013d}#{secrets.token_hex(8)}",
                       claim.delta, claim.product_names, claim.shard)

    @staticmethod
    def journals_for(claim: Claim, received_ms: int, part_of: Mapping[CounterKey, int]
                     ) -> dict[int, Journal]:
        """The claim's deltas as one journal per part (``part_of`` gives each counter key's
        part), each with the names of its products; parts the claim does not touch have none."""
        deltas: dict[int, RollupDelta] = {}
        for key, counters in claim.delta.counters.items():
            part = part_of[key]
            delta = deltas.get(part)
            if delta is None:
                delta = deltas[part] = RollupDelta()
            delta.counters[key] = counters
        partition = f"journal#{claim.shard % JOURNAL_PARTITIONS}"
        return {part: Journal(partition, f"{received_ms:013d}#{secrets.token_hex(8)}", delta,
                              {k.dim: claim.product_names[k.dim] for k in delta.counters
                               if k.family == "prod" and k.dim in claim.product_names},
                              claim.shard)
                for part, delta in sorted(deltas.items())}

    def apply_ops(self, journals: list[Journal]) -> list[Op]:
        """Consume ``journals`` and add their deltas, merged: one transaction."""
        merged, names = RollupDelta(), {}
        for journal in journals:
            merged.merge(journal.delta)
            names.update(journal.product_names)
        return [*(Delete("rollups", j.pk, j.sk, must_exist=True) for j in journals),
                *self._increments(merged, journals[0].shard, names)]

    def live_journals(self, journals: Iterable[Journal]) -> list[Journal]:
        """Those of ``journals`` not consumed yet."""
        journals = list(journals)
        found = self.store.get_many("rollups", [(j.pk, j.sk) for j in journals])
        return [j for j in journals if (j.pk, j.sk) in found]

    def stale_journals(self, written_before_ms: int) -> list[Journal]:
        """Journals written before ``written_before_ms`` and not consumed: left by a writer
        that stopped between its claims and adding them."""
        out = []
        for shard in range(JOURNAL_PARTITIONS):
            cursor = None
            while True:
                page = self.store.query("rollups", f"journal#{shard}", newest_first=False,
                                        sk_max=f"{written_before_ms:013d}#\uffff",
                                        limit=100, cursor=cursor)
                for item in page.items:
                    delta = RollupDelta()
                    for family, granularity, bucket, dim, deltas in item["delta"]:
                        delta.add(CounterKey(family, granularity, bucket, dim), **deltas)
                    out.append(Journal(item["pk"], item["sk"], delta, item["names"],
                                       item["shard"]))
                cursor = page.cursor
                if cursor is None:
                    break
        return out

    def write_groups(self, groups: list[list[Op]]) -> None:
        self.store.transact_groups(groups)

    def _increments(self, delta: RollupDelta, shard: int, names: Mapping[str, str]) -> list[Op]:
        return [Increment("rollups", rollup_pk(key.family, key.granularity),
                          rollup_sk(key.bucket, key.dim, shard), deltas,
                          self._bucket_defaults(key, names))
                for key, deltas in delta.nonzero()]

    def _event_item(self, event: BusinessEvent, received_ms: int) -> Item:
        # The model's own fields (flat values): model_dump would cost 4x as much per event.
        fields = {k: v for k, v in event.__dict__.items() if v is not None}
        item: Item = {"pk": event.key, "sk": "e", **fields,
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
                # <bucket>#<dim>#<shard>: the dimension (a product id) may hold "#" itself
                bucket, rest = item["sk"].split("#", 1)
                dim = rest.rsplit("#", 1)[0]
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

