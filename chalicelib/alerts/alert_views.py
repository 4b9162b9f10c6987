"""Alerts as people read and act on them: the list, one alert with its history, the counts
the navigation shows, acknowledging, silences, the notification log."""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import Conflict, InvalidInput
from ..severity import SEVERITIES
from ..storage import InvalidCursor, TransactionCancelled
from .evaluation import active_silences
from .models import Acknowledgement, NewSilence
from .repository import AlertsRepository, existing, new_id, public_alert
from .routing import silencing

STATES = ("firing", "pending", "nodata", "resolved", "all")
CATEGORIES = ("business", "system")
OPEN_STATES = ("firing", "pending", "nodata")


def _choice(name: str, raw: str | None, allowed: tuple[str, ...], default: str | None) -> list[str]:
    if raw is None or raw == "":
        return [default] if default else []
    values = [v.strip() for v in raw.split(",") if v.strip()]
    wrong = [v for v in values if v not in allowed]
    if wrong or not values:
        raise InvalidInput(f"{name} must be one or more of {', '.join(allowed)}",
                           [{"field": name, "message": f"got {raw!r}"}])
    return values


def _limit(raw: str | None) -> int:
    if raw is None:
        return 50
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise InvalidInput("limit must be a whole number from 1 to 200",
                           [{"field": "limit", "message": f"got {raw!r}"}])
    return int(raw)


def _view(item: Mapping[str, Any], silences: list, now: int) -> dict[str, Any]:
    alert = public_alert(dict(item))
    ack = alert.get("ack")
    lapsed = ack is not None and ack.get("expiresAt") is not None and ack["expiresAt"] <= now
    alert["acknowledged"] = ack is not None and not lapsed and alert["state"] != "resolved"
    labels = {**alert["labels"], "alertname": alert["name"], "ruleId": alert["ruleId"],
              "severity": alert["severity"]}
    alert["silencedBy"] = silencing(silences, labels, now) if alert["state"] != "resolved" else []
    return alert


def list_alerts(repo: AlertsRepository, params: Mapping[str, str], now: int) -> dict[str, Any]:
    """Newest first, one state (or all), optionally of some severities and a category; paged by
    an opaque cursor. A page holds at most ``limit`` alerts; only ``cursor: null`` is the end."""
    state = _choice("state", params.get("state"), STATES, "all")
    if len(state) != 1:
        raise InvalidInput("state takes one value", [{"field": "state", "message": "one of " + ", ".join(STATES)}])
    severities = set(_choice("severity", params.get("severity"), SEVERITIES, None))
    categories = set(_choice("category", params.get("category"), CATEGORIES, None))
    limit, cursor = _limit(params.get("limit")), params.get("cursor") or None
    silences = active_silences(repo, now)
    found: list[dict[str, Any]] = []
    while len(found) < limit:
        try:
            page = repo.list_alerts(state[0], limit - len(found), cursor)
        except InvalidCursor:
            raise InvalidInput("the cursor does not belong to this listing",
                               [{"field": "cursor", "message": "start again without it"}]) from None
        for item in page.items:
            if (not severities or item["severity"] in severities) and (
                    not categories or item["category"] in categories):
                found.append(_view(item, silences, now))
        cursor = page.cursor
        if cursor is None:
            break
    return {"alerts": found, "cursor": cursor}


def alert_detail(repo: AlertsRepository, alert_id: str, now: int) -> dict[str, Any]:
    item = existing(repo.alert(alert_id), f"alert {alert_id}")
    history = [{k: v for k, v in h.items() if k not in ("pk", "sk", "ttl")}
               for h in repo.history(alert_id)]
    return {**_view(item, active_silences(repo, now), now), "history": history}


def alert_counts(repo: AlertsRepository) -> dict[str, Any]:
    """How many alerts are firing and pending, by severity (the navigation's badge). Reads
    the open alerts only: bounded by what is open, not by history."""
    out: dict[str, Any] = {}
    for state in ("firing", "pending"):
        by_severity = {s: 0 for s in SEVERITIES}
        cursor = None
        while True:
            page = repo.list_alerts(state, 200, cursor)
            for item in page.items:
                by_severity[item["severity"]] += 1
            cursor = page.cursor
            if cursor is None:
                break
        out[state] = sum(by_severity.values())
        out[f"{state}BySeverity"] = by_severity
    return out


def acknowledge(repo: AlertsRepository, alert_id: str, body: Any, who: Mapping[str, Any],
                now: int) -> dict[str, Any]:
    from .models import parse_body
    wanted: Acknowledgement = parse_body(Acknowledgement, body, "acknowledgement")
    if wanted.expiresAt is not None and wanted.expiresAt <= now:
        raise InvalidInput("the acknowledgement would already have expired",
                           [{"field": "expiresAt", "message": "must be in the future"}])
    for _attempt in range(5):  # an evaluation may move the alert between our read and write
        item = existing(repo.alert(alert_id), f"alert {alert_id}")
        if item["state"] not in OPEN_STATES:
            raise Conflict("this alert is resolved; there is nothing to acknowledge",
                           [{"field": "state", "message": item["state"]}])
        opened = repo.open_alert(item["ruleId"], item["fingerprint"])
        if opened is None or opened.alert_id != alert_id:
            raise Conflict("this alert is resolved; there is nothing to acknowledge")
        ack = {"by": who["subject"], "name": who.get("name"), "at": now, "comment": wanted.comment,
               "expiresAt": wanted.expiresAt}
        opened.ack = ack
        listed = {**public_alert(item), "acknowledged": True, "ack": ack, "updatedAt": now}
        entry = repo.history_item(alert_id, now, 900, **{"from": item["state"], "to": "acknowledged"},
                                  by=who["subject"], name=who.get("name"), comment=wanted.comment,
                                  expiresAt=wanted.expiresAt)
        try:
            repo.acknowledge(opened, item["ruleId"], listed, entry)
        except TransactionCancelled:
            continue
        return _view(listed, active_silences(repo, now), now)
    raise Conflict("the alert kept changing; try again")


# -- silences ---------------------------------------------------------------------------------
def silence_view(item: Mapping[str, Any], now: int) -> dict[str, Any]:
    view = {k: v for k, v in item.items() if k not in ("pk", "sk", "ttl", "version")}
    view["active"] = item["startsAt"] <= now < item["endsAt"]
    return view


def list_silences(repo: AlertsRepository, now: int) -> dict[str, Any]:
    items = sorted(repo.silences(), key=lambda s: s["id"], reverse=True)
    return {"silences": [silence_view(s, now) for s in items]}


def create_silence(repo: AlertsRepository, body: Any, who: Mapping[str, Any], now: int) -> dict[str, Any]:
    from .models import parse_body
    wanted: NewSilence = parse_body(NewSilence, body, "silence")
    starts = wanted.startsAt if wanted.startsAt is not None else now
    if wanted.endsAt <= max(starts, now):
        raise InvalidInput("the silence would end before it does anything",
                           [{"field": "endsAt", "message": "must be in the future and after startsAt"}])
    if wanted.endsAt - starts > 366 * 86_400_000:
        raise InvalidInput("a silence lasts at most a year",
                           [{"field": "endsAt", "message": "at most 366 days after startsAt"}])
    silence = {"id": new_id(now), "matchers": [m.model_dump() for m in wanted.matchers],
               "startsAt": starts, "endsAt": wanted.endsAt, "comment": wanted.comment,
               "createdBy": who["subject"], "createdByName": who.get("name"), "createdAt": now}
    repo.add_silence(silence)
    return silence_view(silence, now)


def expire_silence(repo: AlertsRepository, silence_id: str, now: int) -> dict[str, Any]:
    item = existing(repo.silence(silence_id), f"silence {silence_id}")
    return silence_view(repo.expire_silence(item, now), now)


def notification_log(repo: AlertsRepository, params: Mapping[str, str]) -> dict[str, Any]:
    try:
        page = repo.deliveries(_limit(params.get("limit")), params.get("cursor") or None)
    except InvalidCursor:
        raise InvalidInput("the cursor does not belong to this listing",
                           [{"field": "cursor", "message": "start again without it"}]) from None
    return {"deliveries": [{k: v for k, v in i.items() if k not in ("pk", "sk", "ttl")} for i in page.items],
            "cursor": page.cursor}
