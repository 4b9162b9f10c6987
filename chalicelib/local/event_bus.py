"""An honest local emulation of the EventBridge default bus, for ``@app.on_cw_event`` handlers.

``missionctl events put --file event.json`` puts an event on the bus: it is stored (table
``system``, partition ``bus#default``), so the command and the running worker share one
durable queue. The worker then does what EventBridge does: for each rule (each registered
``on_cw_event`` handler) whose event pattern matches, it invokes the handler with the event in
EventBridge's envelope (``version``, ``id``, ``detail-type``, ``source``, ``account``,
``time``, ``region``, ``resources``, ``detail``). A failing invocation is retried on later
ticks, then set aside as a dead letter (EventBridge retries, then sends to a rule's DLQ).

Pattern matching follows EventBridge's documented rules for what our patterns use: a pattern is
a JSON object whose leaves are arrays of matchers; every field named must match (an event
field that is an array matches when any element does); a matcher is an exact value (string,
number, boolean, ``null``), or ``{"prefix": s}``, ``{"suffix": s}``,
``{"equals-ignore-case": s}``, ``{"anything-but": value | [values] | {"prefix": s}}``,
``{"exists": true|false}`` or ``{"numeric": [op, n, (op, n)]}``.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from ..storage import Store

logger = logging.getLogger("mission_control.worker")

ACCOUNT, REGION = "000000000000", "local"
BUS = "default"
#: a failing handler is invoked this often in all before the event is set aside
INVOCATIONS = 3
_MISSING = object()
_NUMERIC_OPS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "=": lambda a, b: a == b,
                ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


class BadEvent(ValueError):
    """What was put is not an event EventBridge would accept."""


# -- patterns -------------------------------------------------------------------------------------
def event_matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether ``event`` matches the EventBridge ``pattern``."""
    if not isinstance(event, Mapping):
        return False
    for name, wanted in pattern.items():
        value = event.get(name, _MISSING)
        if isinstance(wanted, Mapping):
            if not event_matches(wanted, value if value is not _MISSING else {}):
                return False
        elif isinstance(wanted, list):
            if not _field_matches(wanted, value):
                return False
        else:
            raise ValueError(f"pattern field {name!r} must be an array or an object")
    return True


def _field_matches(matchers: Sequence[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for matcher in matchers:
        if isinstance(matcher, Mapping) and "exists" in matcher:
            if bool(matcher["exists"]) == (value is not _MISSING and not (isinstance(value, list) and not value)):
                return True
            continue
        if value is _MISSING:
            continue
        if any(_matches_one(matcher, v) for v in values):
            return True
    return False


def _matches_one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, Mapping):
        if isinstance(matcher, bool) or isinstance(value, bool):
            return matcher is value
        if isinstance(matcher, (int, float)) and isinstance(value, (int, float)):
            return float(matcher) == float(value)
        return matcher == value
    (kind, arg), = matcher.items()
    if kind == "prefix":
        return isinstance(value, str) and value.startswith(arg)
    if kind == "suffix":
        return isinstance(value, str) and value.endswith(arg)
    if kind == "equals-ignore-case":
        return isinstance(value, str) and value.casefold() == str(arg).casefold()
    if kind == "anything-but":
        if isinstance(arg, Mapping):
            return not _matches_one(arg, value)
        refused = arg if isinstance(arg, list) else [arg]
        return not any(_matches_one(r, value) for r in refused)
    if kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        pairs = list(zip(arg[::2], arg[1::2]))
        return all(_NUMERIC_OPS[op](value, bound) for op, bound in pairs)
    raise ValueError(f"unsupported pattern matcher {kind!r}")


# -- the envelope -----------------------------------------------------------------------------------
def envelope(given: Mapping[str, Any], now: float) -> dict[str, Any]:
    """An event as EventBridge delivers it, from either a whole event (``detail-type``,
    ``source``, ``detail``, ...; kept as given, ``id`` and ``time`` filled in when absent) or a
    PutEvents entry (``Source``, ``DetailType``, ``Detail`` as a JSON string, ``Resources``,
    ``Time``)."""
    if "DetailType" in given or "Source" in given:
        try:
            detail = json.loads(given.get("Detail") or "{}")
        except (TypeError, ValueError):
            raise BadEvent("Detail must be a JSON object in a string") from None
        given = {"source": given.get("Source"), "detail-type": given.get("DetailType"), "detail": detail,
                 "resources": given.get("Resources") or [], "time": given.get("Time")}
    source, detail_type, detail = given.get("source"), given.get("detail-type"), given.get("detail")
    if not isinstance(source, str) or not source or not isinstance(detail_type, str) or not detail_type:
        raise BadEvent("an event needs a source and a detail-type")
    if not isinstance(detail, Mapping):
        raise BadEvent("an event's detail must be a JSON object")
    resources = given.get("resources") or []
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise BadEvent("resources must be an array of ARNs")
    when = given.get("time") or datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"version": str(given.get("version", "0")), "id": str(given.get("id") or uuid.uuid4()),
            "detail-type": detail_type, "source": source, "account": str(given.get("account") or ACCOUNT),
            "time": when, "region": str(given.get("region") or REGION), "resources": resources,
            "detail": dict(detail)}


class LocalEventBus:
    """The bus's queue in the store; the worker delivers it (``deliver``)."""

    def __init__(self, store: Store, name: str = BUS):
        self.store, self.name = store, name

    def put(self, event: Mapping[str, Any]) -> str:
        """Put one event on the bus; returns its id (EventBridge's PutEvents answer)."""
        full = envelope(event, time.time())
        now = int(time.time() * 1000)
        self.store.put("system", {"pk": f"bus#{self.name}", "sk": f"{now:013d}#{uuid.uuid4().hex}",
                                  "event": json.dumps(full, separators=(",", ":")), "putAt": now,
                                  "done": [], "invocations": {}})
        return full["id"]

    def pending(self, limit: int = 25) -> list[dict]:
        return self.store.query("system", f"bus#{self.name}", newest_first=False, limit=limit).items

    def deliver(self, rules: Sequence[tuple[str, Mapping[str, Any], Callable]],
                context_for: Callable[[str], Any]) -> int:
        """Each pending event to every rule ``(name, pattern, handler)`` it matches, once per
        rule; returns the events done with."""
        done = 0
        for item in self.pending():
            event = json.loads(item["event"])
            finished, invocations = list(item["done"]), dict(item["invocations"])
            for name, pattern, handler in rules:
                if name in finished or not event_matches(pattern, event):
                    continue
                try:
                    handler(event, context_for(name))
                    finished.append(name)
                except Exception:  # noqa: BLE001 - as EventBridge: retried, then a dead letter
                    invocations[name] = invocations.get(name, 0) + 1
                    if invocations[name] < INVOCATIONS:
                        logger.exception("rule %s: handler failed on event %s; it will be retried",
                                         name, event["id"])
                        continue
                    logger.exception("rule %s: handler failed %d times on event %s; set aside",
                                     name, invocations[name], event["id"])
                    from ..system.deadletters import set_aside
                    set_aside(self.store, f"bus-{name}", "handler failed 3 times", item["event"], event["id"])
                    finished.append(name)
            pending_rules = [n for n, p, _h in rules if n not in finished and event_matches(p, event)]
            if pending_rules:
                self.store.put("system", {**item, "done": finished, "invocations": invocations}, if_absent=False)
                continue
            self.store.delete("system", item["pk"], item["sk"])
            done += 1
        return done
