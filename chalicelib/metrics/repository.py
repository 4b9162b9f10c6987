"""Metrics storage, through the storage interface. Table ``metrics`` (streamed, so new raw
samples reach the insights handler):

- raw sample: ``raw#<host>`` / ``<ts, 13 digits>#<kind>`` with ``values`` and ``meta``;
- roll-ups: ``m1#<host>`` (1 minute) and ``h1#<host>`` (1 hour) / ``<bucket>#<kind>`` with
  ``stats``: metric → [min, max, sum, count, last, last_ts];
- host registry: ``hosts`` / ``<host>#<kind>`` with last-seen time, interval, latest values.

A read of one host's metric over a range is one range query on one partition, so its cost
grows with the points returned, never with the points stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ..storage import Item, Put, Store, VersionedPut

ROLLUP_PREFIX = {"1m": "m1", "1h": "h1"}


@dataclass
class HostState:
    host: str
    kind: str
    last_seen: int
    interval: int
    values: dict[str, float]
    meta: dict[str, str] = field(default_factory=dict)
    version: int | None = None


@dataclass
class RollupState:
    stats: dict[str, list]
    version: int | None = None


@dataclass
class SampleGroup:
    """One transaction: samples to store if absent, the roll-ups they leave (each with the
    version it must still have, and its bucket start) and their hosts' latest states."""

    samples: list = field(default_factory=list)
    rollups: dict[tuple[str, str], tuple[RollupState, int]] = field(default_factory=dict)
    hosts: dict[tuple[str, str], HostState] = field(default_factory=dict)

    def size(self) -> int:
        return len(self.samples) + len(self.rollups) + len(self.hosts)

    def absorb(self, other: "SampleGroup") -> None:
        self.samples += other.samples
        self.rollups.update(other.rollups)
        self.hosts.update(other.hosts)


def raw_key(host: str, kind: str, ts: int) -> tuple[str, str]:
    return f"raw#{host}", f"{ts:013d}#{kind}"


def rollup_key(resolution: str, host: str, kind: str, bucket: int) -> tuple[str, str]:
    return f"{ROLLUP_PREFIX[resolution]}#{host}", f"{bucket:013d}#{kind}"


def host_key(host: str, kind: str) -> tuple[str, str]:
    return "hosts", f"{host}#{kind}"


class MetricsRepository:
    def __init__(self, store: Store, retention_ms: int):
        self.store = store
        self.retention_ms = retention_ms

    def stored_raw(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        return set(self.store.get_many("metrics", list(keys)))

    def load_states(self, rollups: Iterable[tuple[str, str]], hosts: Iterable[tuple[str, str]]
                    ) -> tuple[dict[tuple[str, str], RollupState], dict[tuple[str, str], HostState]]:
        """The stored roll-ups and host states at these keys (one read of both)."""
        rollups, hosts = set(rollups), set(hosts)
        found = self.store.get_many("metrics", [*rollups, *hosts])
        return ({k: RollupState(i["stats"], i["version"]) for k, i in found.items() if k in rollups},
                {k: HostState(i["host"], i["kind"], i["lastSeen"], i["interval"], i["values"],
                              i.get("meta", {}), i["version"])
                 for k, i in found.items() if k in hosts})

    def write_groups(self, groups: list[SampleGroup]) -> None:
        """Each group all-or-nothing; ``GroupCancelled`` when a sample is already stored or
        another writer moved a roll-up or host on."""
        self.store.transact_groups([self._ops(g) for g in groups])

    def _ops(self, group: SampleGroup) -> list:
        ops: list = []
        for s in group.samples:
            pk, sk = raw_key(*s.key)
            item: Item = {"pk": pk, "sk": sk, "values": dict(s.values), "ttl": self._ttl(s.timestamp)}
            if s.meta:
                item["meta"] = s.meta
            ops.append(Put("metrics", item))
        for (pk, sk), (state, bucket) in group.rollups.items():
            ops.append(VersionedPut("metrics", {"pk": pk, "sk": sk, "stats": state.stats,
                                                "ttl": self._ttl(bucket)}, state.version))
        for (pk, sk), h in group.hosts.items():
            ops.append(VersionedPut("metrics", {
                "pk": pk, "sk": sk, "host": h.host, "kind": h.kind, "lastSeen": h.last_seen,
                "interval": h.interval, "values": h.values, "meta": h.meta,
                "ttl": self._ttl(h.last_seen)}, h.version))
        return ops

    def _ttl(self, ts: int) -> int:
        return (ts + self.retention_ms) // 1000

    # -- reads ------------------------------------------------------------------------------
    def hosts(self) -> list[HostState]:
        items, cursor = [], None
        while True:
            page = self.store.query("metrics", "hosts", newest_first=False, limit=500, cursor=cursor)
            items += page.items
            cursor = page.cursor
            if cursor is None:
                break
        return [HostState(i["host"], i["kind"], i["lastSeen"], i["interval"], i["values"],
                          i.get("meta", {})) for i in items]

    def points(self, resolution: str, host: str, from_ms: int, to_ms: int,
               metrics: Sequence[str]) -> Iterable[tuple[int, str, dict]]:
        """(timestamp or bucket start, kind, {metric: stats}) of ``metrics`` for one host,
        oldest first. Reads only those metrics of each item (a roll-up holds every metric)."""
        if resolution == "10s":
            pk, attribute = f"raw#{host}", "values"
        else:
            pk, attribute = f"{ROLLUP_PREFIX[resolution]}#{host}", "stats"
        fields = [(attribute, metric) for metric in dict.fromkeys(metrics)]
        cursor = None
        while True:
            page = self.store.query("metrics", pk, sk_min=f"{from_ms:013d}", sk_max=f"{to_ms:013d}#~",
                                    newest_first=False, limit=1000, cursor=cursor, fields=fields)
            for item in page.items:
                ts, kind = item["sk"].split("#", 1)
                found = item.get(attribute, {})
                if resolution == "10s":
                    stats = {k: [v, v, v, 1, v, int(ts)] for k, v in found.items()}
                else:
                    stats = found
                yield int(ts), kind, stats
            cursor = page.cursor
            if cursor is None:
                return
