"""Alerting storage, through the storage interface only.

Table ``alerts``:

- ``rule`` / ``<ruleId>``: a rule as written, with who wrote it and when (versioned);
- ``open#<ruleId>`` / ``<fingerprint>``: the open alert of one series (pending, firing or
  nodata) with what was told about it; one range query loads a rule's open alerts, so
  evaluation costs what the rules and series cost, never what is stored;
- ``alert`` / ``<alertId>``: every alert as listed, newest first (ids sort by start time); the
  sparse index ``gsi1`` (``alert-state#<state>`` / ``<alertId>``) lists one state;
- ``history#<alertId>`` / ``<at>#<n>``: its state changes and acknowledgements;
- ``silence`` / ``<id>``; ``evaluated`` / ``<ruleId>`` (the last minute evaluated);
  ``outbox`` / ``<notificationId>``: notifications decided but not yet published.

Table ``notifications``: ``channel`` / ``<id>`` (secrets included: only this module and the
delivery code read them), ``log`` / ``<at>#<id>`` (each delivery's outcome, newest first) and
``delivery#<notificationId>`` / ``<channelId>`` (the claim that makes a redelivered SNS message
deliver nothing twice).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..errors import NotFound
from ..storage import (AlreadyExists, Item, Page, Put, Store, TransactionCancelled,
                       VersionConflict, VersionedPut)

ALERTS, NOTIFICATIONS = "alerts", "notifications"
#: the open alerts, the alert item and a few history entries per transaction
SERIES_PER_TRANSACTION = 20


def new_id(now_ms: int) -> str:
    """Time-sortable (12 hex digits of epoch ms) and unguessable (48 random bits)."""
    return f"{now_ms:012x}{secrets.token_hex(6)}"


@dataclass
class OpenAlert:
    """The open alert of one series, as stored under ``open#<ruleId>``."""

    fingerprint: str
    labels: dict[str, str]
    alert_id: str
    state: str
    starts_at: int
    pending_since: int
    firing_at: int | None = None
    value: float | None = None
    resume: str | None = None
    notified: str | None = None
    last_notified_at: int | None = None
    ack: dict[str, Any] | None = None
    version: int | None = None

    def item(self, rule_id: str) -> Item:
        return {"pk": f"open#{rule_id}", "sk": self.fingerprint, "labels": self.labels,
                "alertId": self.alert_id, "state": self.state, "startsAt": self.starts_at,
                "pendingSince": self.pending_since, "firingAt": self.firing_at, "value": self.value,
                "resume": self.resume, "notified": self.notified,
                "lastNotifiedAt": self.last_notified_at, "ack": self.ack}

    @classmethod
    def of(cls, item: Item) -> "OpenAlert":
        return cls(item["sk"], item["labels"], item["alertId"], item["state"], item["startsAt"],
                   item["pendingSince"], item.get("firingAt"), item.get("value"), item.get("resume"),
                   item.get("notified"), item.get("lastNotifiedAt"), item.get("ack"),
                   item.get("version"))


@dataclass
class SeriesWrite:
    """What one evaluation changes for one series, written all or nothing."""

    rule_id: str
    #: the open alert to keep (None: closed or never opened)
    open_alert: OpenAlert | None
    fingerprint: str
    expected_version: int | None
    #: the alert as listed (always written when anything changed)
    alert: Item
    history: list[Item] = field(default_factory=list)
    #: the open alert existed and is now closed
    close: bool = False


def existing(item: Item | None, what: str) -> Item:
    """``item``, or ``NotFound`` (404) saying which ``what`` does not exist."""
    if item is None:
        raise NotFound(f"{what} does not exist")
    return item


def alert_item(alert: dict[str, Any], ttl_s: int | None) -> Item:
    item = {"pk": "alert", "sk": alert["id"], **alert,
            "gsi1pk": f"alert-state#{alert['state']}", "gsi1sk": alert["id"]}
    if ttl_s is not None:
        item["ttl"] = ttl_s
    return item


def public_alert(item: Item) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk", "ttl", "version")}


class AlertsRepository:
    def __init__(self, store: Store, history_ms: int):
        self.store = store
        self.history_ms = history_ms

    def _ttl(self, at_ms: int) -> int:
        return (at_ms + self.history_ms) // 1000

    # -- rules ----------------------------------------------------------------------------------
    def rules(self) -> list[Item]:
        return _all(self.store, ALERTS, "rule")

    def rule(self, rule_id: str) -> Item | None:
        return self.store.get(ALERTS, "rule", rule_id)

    def create_rule(self, rule_id: str, body: dict, who: str, now: int) -> Item:
        return self.store.put_versioned(ALERTS, {
            "pk": "rule", "sk": rule_id, "id": rule_id, "rule": body, "createdAt": now,
            "createdBy": who, "updatedAt": now, "updatedBy": who}, None)

    def replace_rule(self, stored: Item, body: dict, who: str, now: int) -> Item:
        """``VersionConflict`` when another writer changed it since ``stored`` was read."""
        return self.store.put_versioned(ALERTS, {**stored, "rule": body, "updatedAt": now,
                                                 "updatedBy": who}, stored["version"])

    def delete_rule(self, rule_id: str) -> None:
        self.store.delete(ALERTS, "rule", rule_id)
        self.store.delete(ALERTS, "evaluated", rule_id)

    def mark_defaults_installed(self, now: int) -> bool:
        """True the first time only: default rules are installed once per store, so rules an
        admin removed stay removed."""
        try:
            self.store.put(ALERTS, {"pk": "defaults", "sk": "installed", "at": now})
        except AlreadyExists:
            return False
        return True

    def defaults_installed(self) -> bool:
        return self.store.get(ALERTS, "defaults", "installed") is not None

    # -- evaluation -----------------------------------------------------------------------------
    def evaluated_minutes(self, rule_ids: Sequence[str]) -> dict[str, int]:
        found = self.store.get_many(ALERTS, [("evaluated", r) for r in rule_ids])
        return {sk: item["minute"] for (_pk, sk), item in found.items()}

    def mark_evaluated(self, rule_id: str, minute: int) -> None:
        self.store.put(ALERTS, {"pk": "evaluated", "sk": rule_id, "minute": minute}, if_absent=False)

    def open_alerts(self, rule_id: str) -> dict[str, OpenAlert]:
        return {i["sk"]: OpenAlert.of(i) for i in _all(self.store, ALERTS, f"open#{rule_id}")}

    def write_series(self, writes: Sequence[SeriesWrite]) -> list[str]:
        """Write each series' change, several series per transaction; a series another
        evaluation moved meanwhile is left to it. Returns the fingerprints written."""
        written: list[str] = []
        for start in range(0, len(writes), SERIES_PER_TRANSACTION):
            chunk = writes[start:start + SERIES_PER_TRANSACTION]
            try:
                self.store.transact([op for w in chunk for op in self._ops(w)])
                written += [w.fingerprint for w in chunk]
            except TransactionCancelled:
                for w in chunk:  # one by one: only the moved series are skipped
                    try:
                        self.store.transact(self._ops(w))
                        written.append(w.fingerprint)
                    except TransactionCancelled:
                        continue
        return written

    def _ops(self, w: SeriesWrite) -> list:
        ops: list = []
        if w.open_alert is not None:
            ops.append(VersionedPut(ALERTS, w.open_alert.item(w.rule_id), w.expected_version))
        elif w.close:
            # Closing checks the version too: a put that expects it, then the delete would be
            # two ops on one item, so the close is a versioned put of a tombstone with a TTL.
            ops.append(VersionedPut(ALERTS, {"pk": f"open#{w.rule_id}", "sk": w.fingerprint,
                                             "closed": True, "ttl": 1}, w.expected_version))
        closed = w.alert["state"] == "resolved"
        ops.append(Put(ALERTS, alert_item(w.alert, self._ttl(w.alert["endsAt"]) if closed else None),
                       if_absent=False))
        for entry in w.history:
            ops.append(Put(ALERTS, {**entry, "ttl": self._ttl(entry["at"])}, if_absent=False))
        return ops

    def history_item(self, alert_id: str, at: int, n: int, **fields: Any) -> Item:
        return {"pk": f"history#{alert_id}", "sk": f"{at:013d}#{n:03d}", "at": at, **fields}

    # -- reading alerts ---------------------------------------------------------------------------
    def alert(self, alert_id: str) -> Item | None:
        return self.store.get(ALERTS, "alert", alert_id)

    def list_alerts(self, state: str, limit: int, cursor: str | None) -> Page:
        if state == "all":
            return self.store.query(ALERTS, "alert", limit=limit, cursor=cursor)
        return self.store.query(ALERTS, f"alert-state#{state}", index="gsi1", limit=limit, cursor=cursor)

    def alerts_started_between(self, since_ms: int, until_ms: int, limit: int) -> list[Item]:
        """Alerts started in ``[since_ms, until_ms]``, newest first (ids sort by start time)."""
        return self.store.query(ALERTS, "alert", sk_min=f"{max(0, since_ms):012x}",
                                sk_max=f"{until_ms + 1:012x}", limit=limit).items

    def history(self, alert_id: str, limit: int = 200) -> list[Item]:
        return self.store.query(ALERTS, f"history#{alert_id}", newest_first=False, limit=limit).items

    def open_alert(self, rule_id: str, fingerprint: str) -> OpenAlert | None:
        item = self.store.get(ALERTS, f"open#{rule_id}", fingerprint)
        return None if item is None or item.get("closed") else OpenAlert.of(item)

    def acknowledge(self, opened: OpenAlert, rule_id: str, alert: Item, entry: Item) -> None:
        """``TransactionCancelled`` when an evaluation moved the alert meanwhile."""
        self.store.transact([
            VersionedPut(ALERTS, opened.item(rule_id), opened.version),
            Put(ALERTS, alert_item(alert, None), if_absent=False),
            Put(ALERTS, {**entry, "ttl": self._ttl(entry["at"])}, if_absent=False)])

    # -- silences -------------------------------------------------------------------------------
    def silences(self) -> list[Item]:
        return _all(self.store, ALERTS, "silence")

    def add_silence(self, silence: dict[str, Any]) -> None:
        self.store.put(ALERTS, {"pk": "silence", "sk": silence["id"], **silence,
                                "ttl": self._ttl(silence["endsAt"])})

    def silence(self, silence_id: str) -> Item | None:
        return self.store.get(ALERTS, "silence", silence_id)

    def expire_silence(self, item: Item, now: int) -> Item:
        ended = {**item, "endsAt": min(item["endsAt"], now), "ttl": self._ttl(now)}
        self.store.put(ALERTS, ended, if_absent=False)
        return ended

    # -- the outbox: notifications decided, not yet published -----------------------------------
    def add_to_outbox(self, notification_id: str, message: dict[str, Any]) -> bool:
        """False when this very notification is already there (an evaluation run twice)."""
        try:
            self.store.put(ALERTS, {"pk": "outbox", "sk": notification_id, "message": message,
                                    "ttl": self._ttl(message["createdAt"])})
        except AlreadyExists:
            return False
        return True

    def outbox(self) -> list[Item]:
        return self.store.query(ALERTS, "outbox", newest_first=False, limit=100).items

    def published(self, notification_id: str) -> None:
        self.store.delete(ALERTS, "outbox", notification_id)

    # -- channels -------------------------------------------------------------------------------
    def channels(self) -> list[Item]:
        return _all(self.store, NOTIFICATIONS, "channel")

    def channel(self, channel_id: str) -> Item | None:
        return self.store.get(NOTIFICATIONS, "channel", channel_id)

    def channels_by_id(self, ids: Iterable[str]) -> dict[str, Item]:
        found = self.store.get_many(NOTIFICATIONS, [("channel", i) for i in ids])
        return {sk: item for (_pk, sk), item in found.items()}

    def save_channel(self, item: Item, expected_version: int | None) -> Item:
        return self.store.put_versioned(NOTIFICATIONS, {"pk": "channel", "sk": item["id"], **item},
                                        expected_version)

    def delete_channel(self, channel_id: str) -> None:
        self.store.delete(NOTIFICATIONS, "channel", channel_id)

    # -- deliveries -----------------------------------------------------------------------------
    def claim_delivery(self, notification_id: str, channel_id: str, now: int, stale_ms: int) -> bool:
        """Take the delivery of one notification to one channel. False when it is done, or
        being done by another invocation that started less than ``stale_ms`` ago (a redelivered
        SNS message); a claim older than that belonged to an invocation that died, and is taken
        over."""
        key = (f"delivery#{notification_id}", channel_id)
        item = {"pk": key[0], "sk": key[1], "status": "sending", "claimedAt": now,
                "ttl": self._ttl(now)}
        try:
            self.store.put_versioned(NOTIFICATIONS, item, None)
            return True
        except VersionConflict:
            pass
        held = self.store.get(NOTIFICATIONS, *key)
        if held is None or held["status"] == "done" or now - held["claimedAt"] < stale_ms:
            return False
        try:
            self.store.put_versioned(NOTIFICATIONS, item, held["version"])
        except VersionConflict:
            return False
        return True

    def finish_delivery(self, notification_id: str, channel_id: str, entry: dict[str, Any]) -> None:
        self.store.put(NOTIFICATIONS, {"pk": f"delivery#{notification_id}", "sk": channel_id,
                                       "status": "done", "claimedAt": entry["at"],
                                       "ttl": self._ttl(entry["at"])}, if_absent=False)
        self.log(entry)

    def log(self, entry: dict[str, Any]) -> None:
        self.store.put(NOTIFICATIONS, {"pk": "log", "sk": f"{entry['at']:013d}#{entry['id']}",
                                       **entry, "ttl": self._ttl(entry["at"])}, if_absent=False)

    def deliveries(self, limit: int, cursor: str | None) -> Page:
        return self.store.query(NOTIFICATIONS, "log", limit=limit, cursor=cursor)


def _all(store: Store, table: str, pk: str) -> list[Item]:
    items, cursor = [], None
    while True:
        page = store.query(table, pk, newest_first=False, limit=500, cursor=cursor)
        items += [i for i in page.items if not i.get("closed")]
        if page.cursor is None:
            return items
        cursor = page.cursor
