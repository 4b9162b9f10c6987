"""A connection's life: opened with a user token (checked exactly as the REST API checks a
Bearer token), its topics replaced by ``subscribe``, its token replaced by ``renew``, closed.
No Chalice and no boto3 here: the token check and the clock come in as arguments."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

from ..auth.gate import AccessRefused, Principal
from ..auth.roles import Role
from .protocol import Renew, Subscribe
from .repository import Connection, ConnectionsRepository
from .topics import UnknownTopic, readable, topic_of

#: a token → the user it names and its expiry (epoch ms); raises AccessRefused
VerifyToken = Callable[[str], "tuple[Principal, int]"]


def open_connection(repo: ConnectionsRepository, connection_id: str, endpoint: str,
                    token: str | None, verify: VerifyToken) -> Connection:
    """Refuses (AccessRefused, 401) a missing, bad or expired token; stores the connection."""
    if not token:
        raise AccessRefused(401, "unauthenticated", "connect with your user token as the "
                            "'token' query parameter")
    principal, expires_at = verify(token)
    conn = Connection(connection_id, principal.subject, int(principal.role), expires_at, endpoint)
    repo.save(conn)
    return conn


def subscribe(repo: ConnectionsRepository, conn: Connection, message: Subscribe,
              max_topics: int) -> tuple[Connection, list[dict]]:
    """The connection with exactly the readable, known topics of ``message``; and the topics
    refused, each with why (unknown, or not readable with the connection's role)."""
    accepted: list[str] = []
    refused: list[dict] = []
    for name in dict.fromkeys(message.topics):
        try:
            topic_of(name)
        except UnknownTopic:
            refused.append({"field": "topics", "topic": name, "message": "no such topic"})
            continue
        if not readable(name, _role(conn)):
            refused.append({"field": "topics", "topic": name,
                            "message": f"needs the {topic_of(name).role.label} role"})
        elif len(accepted) >= max_topics:
            refused.append({"field": "topics", "topic": name, "message": f"at most {max_topics} topics"})
        else:
            accepted.append(name)
    updated = replace(conn, topics=tuple(accepted))
    repo.save(updated, previous=conn)
    return updated, refused


def renew(repo: ConnectionsRepository, conn: Connection, message: Renew,
          verify: VerifyToken) -> Connection:
    """The connection under the new token: same user only; a lower role loses the topics it
    can no longer read."""
    principal, expires_at = verify(message.token)
    if principal.subject != conn.subject:
        raise AccessRefused(403, "forbidden", "a connection is renewed with its own user's token")
    updated = replace(conn, role=int(principal.role), expires_at=expires_at)
    updated = replace(updated, topics=tuple(t for t in conn.topics if readable(t, _role(updated))))
    repo.save(updated, previous=conn)
    return updated


def _role(conn: Connection) -> Role:
    return Role(conn.role)
