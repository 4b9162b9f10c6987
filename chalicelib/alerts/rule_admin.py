"""Rules, as admins manage them (``/api/alert-rules``)."""
from __future__ import annotations

from typing import Any

from ..errors import Conflict, InvalidInput
from ..storage import VersionConflict
from .defaults import install_default_rules
from .evaluation import retire_alerts
from .models import Rule, parse_rule, rule_from_stored
from .repository import AlertsRepository, existing, new_id

#: the fields that decide which series a rule looks at: changing one retires its open alerts
SELECTOR_FIELDS = ("kind", "source", "host", "hostKind", "metric", "kpi", "window", "compare",
                   "probe", "minSeverity", "insightType")


def rule_view(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], **item["rule"], "category": rule_from_stored(item["rule"]).category,
            "createdAt": item["createdAt"], "createdBy": item.get("createdBy"),
            "updatedAt": item["updatedAt"], "updatedBy": item.get("updatedBy")}


def list_rules(repo: AlertsRepository, now: int) -> dict[str, Any]:
    install_default_rules(repo, now)
    items = sorted(repo.rules(), key=lambda i: (i["rule"]["name"].lower(), i["id"]))
    return {"rules": [rule_view(i) for i in items]}


def get_rule(repo: AlertsRepository, rule_id: str) -> dict[str, Any]:
    return rule_view(existing(repo.rule(rule_id), f"alert rule {rule_id}"))


def _check_channels(repo: AlertsRepository, rule: Rule) -> None:
    if not rule.channels:
        return
    known = repo.channels_by_id(rule.channels)
    unknown = [c for c in rule.channels if c not in known]
    if unknown:
        raise InvalidInput("the rule names channels that do not exist", [
            {"field": "channels", "message": f"no channel {', '.join(unknown)}"}])


def create_rule(repo: AlertsRepository, body: Any, who: str, now: int) -> dict[str, Any]:
    rule = parse_rule(body)
    _check_channels(repo, rule)
    install_default_rules(repo, now)  # before: a fresh install's defaults come first, once
    return rule_view(repo.create_rule(new_id(now), rule.as_json(), who, now))


def replace_rule(repo: AlertsRepository, rule_id: str, body: Any, who: str, now: int) -> dict[str, Any]:
    rule = parse_rule(body)
    _check_channels(repo, rule)
    stored = existing(repo.rule(rule_id), f"alert rule {rule_id}")
    new = rule.as_json()
    try:
        written = repo.replace_rule(stored, new, who, now)
    except VersionConflict:
        raise Conflict("the rule was changed by someone else meanwhile; load it and try again") from None
    old = stored["rule"]
    if not rule.enabled or any(old.get(f) != new.get(f) for f in SELECTOR_FIELDS):
        # Its open alerts belong to series it no longer looks at (or it is off): close them.
        retire_alerts(repo, rule_id, "resolved: the rule was changed", now)
    return rule_view(written)


def delete_rule(repo: AlertsRepository, rule_id: str, now: int) -> None:
    existing(repo.rule(rule_id), f"alert rule {rule_id}")
    repo.delete_rule(rule_id)
    retire_alerts(repo, rule_id, "resolved: the rule was removed", now)
