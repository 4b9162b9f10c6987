"""The change stream → "changed" notices. A batch of stored changes is mapped to topics
(``topics.topics_of_change``), coalesced into one notice per topic carrying the ETag the
topic's REST read answers now, and sent to the topic's subscribers. A subscriber whose token
has expired is closed instead; one that is gone (GoneException) is removed.

Runs off the stream, never in a request: ingestion does not wait for it. A notice is a hint
("refetch this"), not data, so a failed send is not retried: the client's safety poll and its
refetch on reconnect cover it, and the batch is never reported as failed for it.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from ..auth.roles import Role
from .protocol import changed
from .repository import ConnectionsRepository
from .topics import readable, topics_of_change

logger = logging.getLogger("mission_control.live")

#: sends in flight at once per topic (boto3 clients are thread-safe; the connection pool
#: holds 10, so more would wait for a connection anyway)
SENDS_AT_ONCE = 10


@dataclass(frozen=True)
class StoredChange:
    """A stream record's parts this handler reads (logical table, plain keys)."""
    table: str
    keys: Mapping[str, str]
    new_image: Mapping | None = None
    old_image: Mapping | None = None


@dataclass
class PushReport:
    topics: list[str] = field(default_factory=list)
    sent: int = 0
    gone: int = 0
    expired: int = 0


def changed_topics(changes: Iterable[StoredChange]) -> list[str]:
    """The topics a batch touches, each once, in a stable order."""
    topics: set[str] = set()
    for change in changes:
        topics |= topics_of_change(change.table, change.keys, change.new_image, change.old_image)
    return sorted(topics)


def push_changes(changes: Iterable[StoredChange], repo: ConnectionsRepository,
                 etag_of_topic: Callable[[str], "str | None"],
                 send: Callable[[str, str, dict], bool], close: Callable[[str, str], None],
                 now_ms: int) -> PushReport:
    """``send(endpoint, connection_id, message)`` is False when the connection is gone;
    ``close(endpoint, connection_id)`` closes one whose token expired."""
    report = PushReport()
    for topic in changed_topics(changes):
        subscribers = list(repo.subscribers(topic))
        if not subscribers:
            continue
        report.topics.append(topic)
        try:
            etag = etag_of_topic(topic)
        except Exception:  # noqa: BLE001 - a notice without an ETag still says "refetch"
            logger.exception("could not compute the ETag of topic %s", topic)
            etag = None
        notice = changed(topic, etag)
        due = []
        for sub in subscribers:
            if sub.expires_at <= now_ms:
                report.expired += 1
                close(sub.endpoint, sub.id)
                repo.delete(sub.id)
            elif readable(topic, Role(sub.role)):  # subscribe refuses the others; never push one
                due.append(sub)
        # Each send is a round trip to the management API: a few at once, not one after another.
        with ThreadPoolExecutor(max_workers=min(SENDS_AT_ONCE, len(due) or 1)) as pool:
            delivered = list(pool.map(lambda sub: send(sub.endpoint, sub.id, notice), due))
        for sub, ok in zip(due, delivered):
            if ok:
                report.sent += 1
            else:
                report.gone += 1
                repo.delete(sub.id)
    return report


def close_expired(repo: ConnectionsRepository, close: Callable[[str, str], None], now_ms: int) -> int:
    """Close every connection whose token expired and was not renewed, notice or not (an idle
    page gets none); returns how many."""
    expired = repo.expired(now_ms)
    for conn in expired:
        close(conn.endpoint, conn.id)
        repo.delete(conn.id)
    return len(expired)
