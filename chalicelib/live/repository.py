"""The ``connections`` table: open WebSocket connections and their subscriptions.

- connection: ``pk = conn#<connection id>``, ``sk = "c"``: subject, role, ``expiresAt`` (the
  token's expiry, epoch ms), the management ``endpoint`` to send through, its topics;
- subscription: ``pk = topic#<topic>``, ``sk = <connection id>``: role, expiresAt, endpoint, so a
  topic's subscribers are one query, never a scan.

Connections are in the ``gsi1`` index under ``conn-expiry`` by expiry, so the ones whose token
expired are one range query (``expired``).

Every item carries ``ttl`` = the token's expiry plus a grace, so a connection API Gateway
dropped without a $disconnect (or whose token nobody renewed) disappears by itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..storage import Delete, Put, Store

TABLE = "connections"
EXPIRY_INDEX = "conn-expiry"


@dataclass(frozen=True)
class Connection:
    id: str
    subject: str
    role: int
    expires_at: int  # epoch ms
    endpoint: str
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subscriber:
    id: str
    role: int
    expires_at: int  # epoch ms
    endpoint: str


def _conn_pk(connection_id: str) -> str:
    return f"conn#{connection_id}"


class ConnectionsRepository:
    def __init__(self, store: Store, grace_s: int = 30):
        self.store = store
        self.grace_s = grace_s

    def _ttl(self, expires_at: int) -> int:
        return expires_at // 1000 + self.grace_s

    def get(self, connection_id: str) -> Connection | None:
        item = self.store.get(TABLE, _conn_pk(connection_id), "c")
        if item is None:
            return None
        return Connection(connection_id, item["subject"], item["role"], item["expiresAt"],
                          item["endpoint"], tuple(item.get("topics") or ()))

    def save(self, conn: Connection, previous: Connection | None = None) -> None:
        """The connection and exactly its topics' subscriptions, all or nothing (a
        subscription dropped from ``previous`` is deleted)."""
        ttl = self._ttl(conn.expires_at)
        ops: list = [Put(TABLE, {"pk": _conn_pk(conn.id), "sk": "c", "subject": conn.subject,
                                 "role": conn.role, "expiresAt": conn.expires_at,
                                 "endpoint": conn.endpoint, "topics": list(conn.topics), "ttl": ttl,
                                 "gsi1pk": EXPIRY_INDEX, "gsi1sk": f"{conn.expires_at:013d}#{conn.id}"},
                         if_absent=False)]
        ops += [Put(TABLE, {"pk": f"topic#{t}", "sk": conn.id, "role": conn.role,
                            "expiresAt": conn.expires_at, "endpoint": conn.endpoint, "ttl": ttl},
                    if_absent=False) for t in conn.topics]
        ops += [Delete(TABLE, f"topic#{t}", conn.id)
                for t in (previous.topics if previous else ()) if t not in conn.topics]
        self.store.transact(ops)

    def delete(self, connection_id: str) -> None:
        """The connection and its subscriptions (gone already: nothing to do)."""
        conn = self.get(connection_id)
        topics = conn.topics if conn else ()
        self.store.transact([Delete(TABLE, _conn_pk(connection_id), "c"),
                             *(Delete(TABLE, f"topic#{t}", connection_id) for t in topics)])

    def expired(self, now_ms: int, limit: int = 500) -> list[Connection]:
        """Connections whose token expired at or before ``now_ms`` (oldest first)."""
        page = self.store.query(TABLE, EXPIRY_INDEX, index="gsi1", sk_max=f"{now_ms:013d}~",
                                newest_first=False, limit=limit)
        return [Connection(item["pk"][len("conn#"):], item["subject"], item["role"], item["expiresAt"],
                           item["endpoint"], tuple(item.get("topics") or ())) for item in page.items]

    def subscribers(self, topic: str) -> Iterator[Subscriber]:
        cursor = None
        while True:
            page = self.store.query(TABLE, f"topic#{topic}", newest_first=False, limit=500, cursor=cursor)
            for item in page.items:
                yield Subscriber(item["sk"], item["role"], item["expiresAt"], item["endpoint"])
            cursor = page.cursor
            if cursor is None:
                return
