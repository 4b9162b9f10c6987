"""Insights storage, through the storage interface. Table ``insights`` (TTL 180 days):

- an insight: ``feed`` / ``<id>`` (ids start with their 13-digit start time, so the feed
  partition is newest-first by a plain key query), in the severity index as
  ``gsi1pk = sev#<SEVERITY>`` / ``gsi1sk = <id>`` (seed 002's severity index);
- pointers for the other filters, written once with the insight: ``host#<host>``,
  ``metric#<metric>``, ``type#<type>`` / ``<id>``; a filtered read queries the pointer
  partition and fetches the insights in one batch get. No request reads more than a page;
- a series' tracker states: ``series#<host>#<kind>`` / ``state`` (one item per host and kind,
  every metric's state in it, versioned so two writers cannot both advance it);
- feedback counts: ``series#<host>#<kind>`` / ``feedback#<metric>`` with ``dismissals``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ..severity import SEVERITIES, Severity, at_least
from ..storage import Increment, Item, Put, Store, VersionedPut

TABLE = "insights"
FEED = "feed"
DAY_MS = 86_400_000


@dataclass
class SeriesStates:
    """The tracker states of one host and kind, and its metrics' net dismissals."""

    states: dict[str, dict]
    dismissals: dict[str, int]
    version: int | None = None


def series_pk(host: str, kind: str) -> str:
    return f"series#{host}#{kind}"


class InsightsRepository:
    def __init__(self, store: Store, retention_ms: int):
        self.store = store
        self.retention_ms = retention_ms

    # -- the stream handler's side ---------------------------------------------------------
    def load_series(self, host: str, kind: str) -> SeriesStates:
        """One query: the state item and the feedback counts share a partition."""
        items = self.store.query(TABLE, series_pk(host, kind), newest_first=False, limit=1000).items
        states, version, dismissals = {}, None, {}
        for item in items:
            if item["sk"] == "state":
                states, version = item["metrics"], item["version"]
            elif item["sk"].startswith("feedback#"):
                dismissals[item["sk"][len("feedback#"):]] = int(item.get("dismissals", 0))
        return SeriesStates(states, dismissals, version)

    def save(self, host: str, kind: str, series: SeriesStates, insights: Sequence[dict]) -> None:
        """The insights and the advanced states, together: the states last, so that a failure
        part-way leaves them unadvanced and a redelivery rewrites the same insights (same
        ids: an overwrite, never a second insight). Raises ``TransactionCancelled`` when
        another writer advanced the states first."""
        self._save_with(VersionedPut(TABLE, {"pk": series_pk(host, kind), "sk": "state",
                                             "metrics": series.states}, series.version), insights)

    def load_peers(self, kind: str, role: str) -> tuple[dict, int | None]:
        """A role's peer group state (``patterns.PeerGroup``) and its version."""
        item = self.store.get(TABLE, f"peers#{kind}#{role}", "latest")
        return (item["group"], item["version"]) if item else ({}, None)

    def save_peers(self, kind: str, role: str, state: dict, version: int | None, insights: Sequence[dict]) -> None:
        """As :meth:`save`, for a peer group: ``TransactionCancelled`` when another batch moved it."""
        self._save_with(VersionedPut(TABLE, {"pk": f"peers#{kind}#{role}", "sk": "latest", "group": state},
                                     version), insights)

    def _save_with(self, state: VersionedPut, insights: Sequence[dict]) -> None:
        ops: list = []
        stored = self.store.get_many(TABLE, [(FEED, i["id"]) for i in insights]) if insights else {}
        for insight in insights:
            ops += self._insight_ops(insight, stored.get((FEED, insight["id"])))
        groups = [ops[i:i + 99] for i in range(0, len(ops), 99)] or [[]]
        groups[-1].append(state)
        self.store.transact_groups(groups)

    def save_pattern(self, insight: dict) -> None:
        """A pattern insight, created or updated (its members grow as hosts join)."""
        stored = self.store.get(TABLE, FEED, insight["id"])
        self.store.transact(self._insight_ops(insight, stored))

    def _insight_ops(self, insight: dict, stored: Item | None) -> list:
        """The insight over its stored self, keeping an operator's verdict; versioned, so a
        verdict given meanwhile cancels the write (and the batch is retried) rather than lost."""
        ttl = (insight["startsAt"] + self.retention_ms) // 1000
        item = {**insight, "pk": FEED, "sk": insight["id"], "gsi1pk": f"sev#{insight['severity']}",
                "gsi1sk": insight["id"], "ttl": ttl, "feedback": (stored or {}).get("feedback")}
        ops: list = [VersionedPut(TABLE, item, stored["version"] if stored else None)]
        for pk in self._pointer_partitions(insight):
            ops.append(Put(TABLE, {"pk": pk, "sk": insight["id"], "ttl": ttl}, if_absent=False))
        return ops

    @staticmethod
    def _pointer_partitions(insight: dict) -> list[str]:
        return [*(f"host#{h}" for h in insight["affectedHosts"]), f"metric#{insight['metric']}",
                f"type#{insight['type']}"]

    # -- reads -----------------------------------------------------------------------------
    def get(self, insight_id: str) -> Item | None:
        return self.store.get(TABLE, FEED, insight_id)

    def page(self, *, severity: Severity | None = None, type: str | None = None, host: str | None = None,
             metric: str | None = None, since: int | None = None, limit: int = 50,
             cursor: str | None = None) -> tuple[list[Item], str | None]:
        """Newest first. The most selective filter picks the partition read (host, metric,
        type, severity, else the whole feed); the others filter that page, as DynamoDB's
        filter expressions do, so a page may hold fewer than ``limit`` while a cursor
        follows. Raises ``InvalidCursor`` for a cursor of another query."""
        sk_min = f"{since:013d}" if since is not None else None
        if host or metric or type:
            pk = f"host#{host}" if host else f"metric#{metric}" if metric else f"type#{type}"
            page = self.store.query(TABLE, pk, sk_min=sk_min, limit=limit, cursor=cursor)
            found = self.store.get_many(TABLE, [(FEED, p["sk"]) for p in page.items])
            items = [found[(FEED, p["sk"])] for p in page.items if (FEED, p["sk"]) in found]
        elif severity:
            page = self.store.query(TABLE, f"sev#{severity}", sk_min=sk_min, limit=limit, cursor=cursor,
                                    index="gsi1")
            items = page.items
        else:
            page = self.store.query(TABLE, FEED, sk_min=sk_min, limit=limit, cursor=cursor)
            items = page.items
        items = [i for i in items if (not severity or i["severity"] == severity) and (not type or i["type"] == type)
                 and (not metric or i["metric"] == metric) and (not host or host in i["affectedHosts"])]
        return items, page.cursor

    def open_since(self, min_severity: Severity, since_ms: int) -> list[Item]:
        """Insights of at least ``min_severity`` started since ``since_ms`` and still open."""
        return [i for i in self.started_since(min_severity, since_ms) if i.get("endsAt") is None]

    def started_since(self, min_severity: Severity, since_ms: int) -> list[Item]:
        """Insights of at least ``min_severity`` started since ``since_ms``, open or closed,
        newest first, pattern members folded into their pattern: one index query per severity
        (at most four), never a scan."""
        found: list[Item] = []
        for severity in SEVERITIES:
            if not at_least(severity, min_severity):
                continue
            cursor = None
            while True:
                page = self.store.query(TABLE, f"sev#{severity}", sk_min=f"{since_ms:013d}", limit=200,
                                        cursor=cursor, index="gsi1")
                found += page.items
                cursor = page.cursor
                if cursor is None:
                    break
        # A pattern stands for its members: one notification, not one per host.
        members = {m for i in found if i["type"] == "pattern" for m in i.get("members", [])}
        return sorted((i for i in found if i["id"] not in members), key=lambda i: i["id"], reverse=True)

    def started_between(self, since_ms: int, until_ms: int, limit: int) -> list[Item]:
        """Insights of any severity started in ``[since_ms, until_ms]``, newest first, at most
        ``limit``: one bounded index query per severity (the product's timeline reads this)."""
        found: list[Item] = []
        for severity in SEVERITIES:
            page = self.store.query(TABLE, f"sev#{severity}", sk_min=f"{since_ms:013d}",
                                    sk_max=f"{until_ms:013d}\uffff", limit=limit, index="gsi1")
            found += page.items
        return sorted(found, key=lambda i: i["id"], reverse=True)[:limit]

    # -- feedback --------------------------------------------------------------------------
    def record_feedback(self, insight: Item, verdict: str, dismissal_delta: int) -> Item:
        """The verdict on the insight (versioned: two operators cannot both flip it) and the
        series' dismissal count moved by ``dismissal_delta``, together."""
        updated = {**insight, "feedback": verdict}
        ops: list = [VersionedPut(TABLE, updated, insight.get("version"))]
        if dismissal_delta and insight.get("host"):
            ops.append(Increment(TABLE, series_pk(insight["host"], insight["kind"]),
                                 f"feedback#{insight['metric']}", {"dismissals": dismissal_delta}))
        self.store.transact(ops)
        updated["version"] = (insight.get("version") or 0) + 1
        return updated

    def dismissals(self, host: str, kind: str, metric: str) -> int:
        item = self.store.get(TABLE, series_pk(host, kind), f"feedback#{metric}")
        return int(item.get("dismissals", 0)) if item else 0


def drop_keys(items: Iterable[Item]) -> list[dict[str, Any]]:
    hidden = ("pk", "sk", "gsi1pk", "gsi1sk", "ttl", "version")
    return [{k: v for k, v in item.items() if k not in hidden} for item in items]
