"""Probes of the HTTP dependencies the team names in ``HEALTH_PROBES`` (the payment provider's
status endpoint, the CDN, ...), every minute: up or down, latency, and the last hour's history.

Table ``system``: ``probe-latest`` / ``<name>`` (each probe's last result; one query gives them
all, for ``/api/system-health`` and for ``probe`` alert rules) and ``probe#<name>`` /
``<minute>`` (one result per minute, kept two hours). A probe run delivered twice for the same
minute writes the same items again.
"""
from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..storage import Store

HISTORY_KEPT_MS = 2 * 3_600_000
HOUR_MS = 3_600_000
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class ProbeTarget:
    name: str
    url: str


def parse_probe_targets(raw: str) -> list[ProbeTarget]:
    """``name=url,...`` or a JSON list of ``{"name", "url"}``; ``ValueError`` naming what is wrong."""
    raw = raw.strip()
    if not raw:
        return []
    if raw.startswith("["):
        try:
            pairs = [(p["name"], p["url"]) for p in json.loads(raw)]
        except (ValueError, KeyError, TypeError):
            raise ValueError('HEALTH_PROBES: a JSON list of {"name", "url"} objects') from None
    else:
        pairs = [tuple(part.strip().split("=", 1)) for part in raw.split(",") if part.strip()]
        if any(len(p) != 2 for p in pairs):
            raise ValueError("HEALTH_PROBES: name=url pairs, comma-separated")
    targets = []
    for name, url in pairs:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"HEALTH_PROBES: {name!r} is not a name (letters, digits, _ . -)")
        if not isinstance(url, str) or not re.match(r"^https?://\S+$", url):
            raise ValueError(f"HEALTH_PROBES: the URL of {name} is not http(s)")
        targets.append(ProbeTarget(name, url))
    if len({t.name for t in targets}) != len(targets):
        raise ValueError("HEALTH_PROBES: each name once")
    return targets


def probe(target: ProbeTarget, timeout_s: float, now_ms: int) -> dict[str, Any]:
    """One GET: up when the answer is below 400. The URL is the operator's own setting, not a
    user's, so it may point anywhere the deployment can reach."""
    import requests
    started = time.perf_counter()
    result: dict[str, Any] = {"name": target.name, "checkedAt": now_ms}
    try:
        reply = requests.get(target.url, timeout=timeout_s, allow_redirects=True,
                             headers={"User-Agent": "MissionControl-Health/1"})
        result.update(status="ok" if reply.status_code < 400 else "down", httpStatus=reply.status_code)
        if reply.status_code >= 400:
            result["error"] = f"HTTP {reply.status_code}"
    except requests.Timeout:
        result.update(status="down", error="timed out")
    except requests.RequestException as exc:
        result.update(status="down", error=type(exc).__name__)
    result["latencyMs"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def probe_all(targets: list[ProbeTarget], timeout_s: float, now_ms: int) -> list[dict[str, Any]]:
    """Every probe at once: one slow dependency does not delay the others' results."""
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(targets))) as pool:
        return list(pool.map(lambda t: probe(t, timeout_s, now_ms), targets))


class ProbeLog:
    def __init__(self, store: Store):
        self.store = store

    def record(self, results: list[dict[str, Any]], minute: int) -> None:
        ttl = (minute + HISTORY_KEPT_MS) // 1000
        items = []
        for r in results:
            items.append({"pk": "probe-latest", "sk": r["name"], **r})
            items.append({"pk": f"probe#{r['name']}", "sk": f"{minute:013d}", **r, "ttl": ttl})
        if items:
            self.store.batch_put("system", items)

    def latest(self, names: list[str]) -> list[dict[str, Any]]:
        """The last result of each probe named (a probe taken out of HEALTH_PROBES is gone)."""
        items = self.store.query("system", "probe-latest", newest_first=False, limit=100).items
        return [_public(i) for i in items if i["sk"] in names]

    def last_hour(self, name: str, now_ms: int) -> list[dict[str, Any]]:
        items = self.store.query("system", f"probe#{name}", sk_min=f"{now_ms - HOUR_MS:013d}",
                                 newest_first=False, limit=120).items
        return [{"at": int(i["sk"]), "status": i["status"], "latencyMs": i.get("latencyMs")}
                for i in items]


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "ttl")}
