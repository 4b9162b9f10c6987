"""Incident storage, through the storage interface only.

Table ``incidents`` (it streams: the live-push feature maps its changes to the ``incidents`` topic):

- ``incident`` / ``<id>``: the incident, versioned (every change bumps ``version``: its ETag);
  ids sort by creation time, so this partition lists every incident newest first;
- ``status#<status>`` / ``<id>``, ``severity#<severity>`` / ``<id>``, ``service#<service>`` /
  ``<id>``: one pointer per facet, moved in the same transaction as the incident, so a filtered
  list is a key-range query of one partition (``since`` is a lower bound on the id);
- ``timeline#<id>`` / ``<version>#<n>``: the append-only timeline in the order it was written
  (each entry's ``at`` says when it happened; create-if-absent, never updated or deleted);
- ``alarm`` / ``<alarm ARN>``: the alarm's current incident and the time of the last state
  change applied (versioned; an older change arriving later is never applied);
- ``event`` / ``<event id>``: a mark per event handled (TTL), written with its effects, so a
  redelivered event changes nothing;
- ``origin`` / ``alert#<id>`` | ``insight#<id>``: which incident an alert or insight joined.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from ..storage import Delete, Item, Op, Page, Put, Store, TransactionCancelled, VersionedPut

TABLE = "incidents"
FACETS = ("status", "severity", "service")


def new_id(now_ms: int) -> str:
    """Time-sortable (12 hex digits of epoch ms) and unguessable (48 random bits)."""
    return f"{now_ms:012x}{secrets.token_hex(6)}"


def id_floor(since_ms: int) -> str:
    """The smallest id of an incident created at or after ``since_ms``."""
    return f"{max(0, since_ms):012x}"


def public(item: Item) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk", "ttl")}


@dataclass
class IncidentWrite:
    """One change of one incident, written all or nothing."""

    incident: dict[str, Any]  # the incident as it will be (public fields)
    expected_version: int | None  # None: a new incident
    before: dict[str, Any] | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)
    extra: list[Op] = field(default_factory=list)


class Conflict(Exception):
    """Another writer changed the incident (or the alarm) first; nothing was written."""


class IncidentsRepository:
    def __init__(self, store: Store, after_write: Callable[[dict | None, dict], None] | None = None):
        """``after_write(before, after)`` runs after each committed incident write (the feature
        wires its channel notices there)."""
        self.store = store
        self.after_write = after_write

    # -- reads ----------------------------------------------------------------------------------
    def get(self, incident_id: str) -> Item | None:
        return self.store.get(TABLE, "incident", incident_id)

    def get_many(self, ids: Sequence[str]) -> list[Item]:
        found = self.store.get_many(TABLE, [("incident", i) for i in ids])
        return [found[("incident", i)] for i in ids if ("incident", i) in found]

    def list_ids(self, facet: str | None, value: str | None, since_ms: int | None, limit: int,
                 cursor: str | None) -> Page:
        """A page of incidents (or of one facet's pointers), newest first."""
        pk = "incident" if facet is None else f"{facet}#{value}"
        return self.store.query(TABLE, pk, sk_min=id_floor(since_ms) if since_ms else None,
                                limit=limit, cursor=cursor)

    def created_between(self, since_ms: int, until_ms: int | None = None, limit: int = 10_000) -> list[Item]:
        """Incidents created in ``[since_ms, until_ms]``, newest first, at most ``limit``."""
        items: list[Item] = []
        cursor = None
        upper = id_floor(until_ms + 1) if until_ms is not None else None
        while len(items) < limit:
            page = self.store.query(TABLE, "incident", sk_min=id_floor(since_ms), sk_max=upper,
                                    limit=min(200, limit - len(items)), cursor=cursor)
            items += page.items
            cursor = page.cursor
            if cursor is None:
                break
        return items

    def timeline(self, incident_id: str, limit: int = 1000) -> list[Item]:
        """The incident's timeline, oldest first."""
        page = self.store.query(TABLE, f"timeline#{incident_id}", newest_first=False, limit=limit)
        return page.items

    def alarm(self, arn: str) -> Item | None:
        return self.store.get(TABLE, "alarm", arn)

    def handled(self, event_id: str) -> bool:
        return self.store.get(TABLE, "event", event_id) is not None

    def origin(self, kind: str, ref: str) -> Item | None:
        return self.store.get(TABLE, "origin", f"{kind}#{ref}")

    # -- writes ---------------------------------------------------------------------------------
    def write(self, change: IncidentWrite) -> dict[str, Any]:
        """Write the incident, its facet pointers, its new timeline entries and ``extra`` in one
        transaction; :class:`Conflict` when any condition failed (nothing written). Returns the
        incident as written."""
        new = change.incident
        version = (change.expected_version or 0) + 1
        new["version"] = version
        ops: list[Op] = [VersionedPut(TABLE, {"pk": "incident", "sk": new["id"], **{
            k: v for k, v in new.items() if k != "version"}}, change.expected_version)]
        for facet in FACETS:
            old_value = (change.before or {}).get(facet)
            if old_value == new[facet]:
                continue
            if old_value is not None:
                ops.append(Delete(TABLE, f"{facet}#{old_value}", new["id"]))
            ops.append(Put(TABLE, {"pk": f"{facet}#{new[facet]}", "sk": new["id"]}, if_absent=False))
        for n, entry in enumerate(change.entries):
            ops.append(Put(TABLE, {"pk": f"timeline#{new['id']}",
                                   "sk": f"{version:08d}#{n:03d}", **entry}))
        ops += change.extra
        try:
            self.store.transact(ops)
        except TransactionCancelled:
            raise Conflict(new["id"]) from None
        if self.after_write is not None:
            self.after_write(change.before, new)
        return new

    @staticmethod
    def alarm_op(arn: str, incident_id: str, state: str, state_at: int, expected_version: int | None) -> Op:
        return VersionedPut(TABLE, {"pk": "alarm", "sk": arn, "incidentId": incident_id, "state": state,
                                    "stateAt": state_at}, expected_version)

    @staticmethod
    def event_mark(event_id: str, incident_id: str | None, now_ms: int, keep_ms: int) -> Op:
        return Put(TABLE, {"pk": "event", "sk": event_id, "incidentId": incident_id, "at": now_ms,
                           "ttl": (now_ms + keep_ms) // 1000})

    @staticmethod
    def origin_mark(kind: str, ref: str, incident_id: str, now_ms: int) -> Op:
        return Put(TABLE, {"pk": "origin", "sk": f"{kind}#{ref}", "incidentId": incident_id, "at": now_ms})

    def write_marks(self, ops: Sequence[Op]) -> None:
        """Marks without an incident change (an event handled, an alarm's last state), all or
        nothing; :class:`Conflict` when a condition failed."""
        try:
            self.store.transact(list(ops))
        except TransactionCancelled:
            raise Conflict("marks") from None

    def mark_event(self, event_id: str, now_ms: int, keep_ms: int) -> bool:
        """Mark an event that changes no incident as handled; False if it already was."""
        try:
            self.store.transact([self.event_mark(event_id, None, now_ms, keep_ms)])
        except TransactionCancelled:
            return False
        return True


def facet_of(params_status: str | None, params_service: str | None,
             params_severity: str | None) -> tuple[str | None, str | None]:
    """Which pointer partition serves a filtered list: the most selective facet given."""
    for facet, value in (("status", params_status), ("service", params_service),
                         ("severity", params_severity)):
        if value:
            return facet, value
    return None, None


def matches(item: Item, filters: Iterable[tuple[str, str | None]]) -> bool:
    return all(value is None or item.get(facet) == value for facet, value in filters)
