"""One timeline of what happened: incidents, alerts, insights and CI deploy runs, merged newest
first from per-kind source functions.

Each source is ``(since_ms, until_ms, limit) -> list[entry]``, an entry being
``{"at", "kind", "id", "title", "severity", "status", "link"}`` (``at`` epoch ms; ``link`` a
dashboard path). Sources read their own feature through its public functions, by key range.
"""
from __future__ import annotations

from typing import Any, Callable

from ..errors import InvalidInput

Entry = dict[str, Any]
Source = Callable[[int, int, int], list[Entry]]

DAY_MS = 86_400_000
#: the longest range one request may ask for
MAX_RANGE_MS = 31 * DAY_MS
MAX_LIMIT = 500


def entry(at: int, kind: str, entry_id: str, title: str, link: str, severity: str | None = None,
          status: str | None = None) -> Entry:
    return {"at": at, "kind": kind, "id": entry_id, "title": title, "severity": severity,
            "status": status, "link": link}


def incident_entries(since_ms: int, until_ms: int, limit: int) -> list[Entry]:
    from ..incidents import repository
    return [entry(i["createdAt"], "incidents", i["id"], i["title"], f"#/incidents?id={i['id']}", i["severity"],
                  i["status"]) for i in repository().created_between(since_ms, until_ms, limit)]


def alert_entries(since_ms: int, until_ms: int, limit: int) -> list[Entry]:
    from ..alerts import alerts_between
    return [entry(a["startsAt"], "alerts", a["id"], f"{a.get('name', 'alert')}: {a.get('message', '')}",
                  f"#/alerts?alert={a['id']}", a.get("severity"), a.get("state"))
            for a in alerts_between(since_ms, until_ms, limit)]


def insight_entries(since_ms: int, until_ms: int, limit: int) -> list[Entry]:
    from ..insights import insights_between
    return [entry(i["startsAt"], "insights", i["id"], i.get("message") or i.get("type", "insight"),
                  f"#/insights?insight={i['id']}", i.get("severity"), "open" if i.get("endsAt") is None else "closed")
            for i in insights_between(since_ms, until_ms, limit)]


def deploy_entries(since_ms: int, until_ms: int, limit: int) -> list[Entry]:
    from urllib.parse import quote

    from ..ci import deploy_runs_between
    return [entry(r["time"], "ci", f"{r['repo']}#{r['runId']}", r["title"],
                  f"#/ci?repo={quote(r['repo'], safe='/')}&run={r['runId']}", None, r.get("conclusion") or r["status"])
            for r in deploy_runs_between(since_ms, until_ms, limit)]


def sources() -> dict[str, Source]:
    """Every kind the timeline knows, by name. A new kind is one line here."""
    return {
        "incidents": incident_entries,
        "alerts": alert_entries,
        "insights": insight_entries,
        "ci": deploy_entries,
    }


#: the kinds that tell "what changed before" an incident: every source but incidents
def change_kinds() -> list[str]:
    return [kind for kind in sources() if kind != "incidents"]


def merged(kinds: list[str], since_ms: int, until_ms: int, limit: int) -> list[Entry]:
    """Entries of ``kinds`` in ``[since_ms, until_ms]``, newest first, at most ``limit``."""
    known = sources()
    found: list[Entry] = []
    for kind in kinds:
        found += known[kind](since_ms, until_ms, limit)
    return sorted(found, key=lambda e: (e["at"], e["id"]), reverse=True)[:limit]


def timeline(params: dict[str, str], now_ms: int) -> dict[str, Any]:
    """``GET /api/timeline?since=&until=&kinds=&limit=``: defaults the last 24 h, every kind."""
    from pydantic import TypeAdapter, ValidationError

    from ..errors import pydantic_details
    from ..field_types import EpochMs
    known = sources()

    def when(name: str, default: int) -> int:
        raw = params.get(name)
        if not raw:
            return default
        try:
            return TypeAdapter(EpochMs).validate_python(int(raw) if raw.isdigit() else raw)
        except ValidationError as exc:
            raise InvalidInput(f"{name} is not a time", pydantic_details(exc, name)) from None

    until = when("until", now_ms)
    since = when("since", until - DAY_MS)
    if since > until or until - since > MAX_RANGE_MS:
        raise InvalidInput("since must be before until, at most 31 days apart",
                           [{"field": "since", "message": "choose a range of at most 31 days"}])
    kinds = [k for k in (params.get("kinds") or ",".join(known)).split(",") if k]
    unknown = [k for k in kinds if k not in known]
    if unknown or not kinds:
        raise InvalidInput("unknown kinds", [{"field": "kinds", "message": f"kinds are {', '.join(known)}",
                                             "allowed": list(known)}])
    limit_raw = params.get("limit") or "200"
    if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= MAX_LIMIT:
        raise InvalidInput("limit must be 1 to 500", [{"field": "limit", "message": "a whole number, 1 to 500"}])
    return {"since": since, "until": until, "kinds": kinds,
            "entries": merged(kinds, since, until, int(limit_raw))}
