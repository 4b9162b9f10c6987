"""What each rule looks at, read through the other features' public read functions, never
their tables, and only from roll-ups and registries: the host registry (one query for every
metric and absence rule), the KPI roll-ups (one range query per window), the probes' latest
results (one query). An evaluation's reads grow with rules and series, not with data stored.

Each reading is cached for one evaluation, so ten rules on host metrics cost one query.
"""
from __future__ import annotations

import fnmatch
from typing import Any, Callable

from ..timebuckets import HOUR_MS, MINUTE_MS, day_start_of_date, hour_start, local_date, shift_date
from .models import Absence, CiThreshold, InsightRule, KpiChange, KpiThreshold, KpiWindowRule, MetricThreshold, ProbeRule, Rule
from .rules import Observed

#: what a KPI's volume is counted in, for ``minVolume``
VOLUME_OF = {"revenue": "orders", "orders": "orders", "aov": "orders", "conversion": "sessions",
             "sessions": "sessions", "dau": "dau"}
#: a probe result older than this is no data
PROBE_FRESH_MS = 5 * MINUTE_MS
#: insights started this long ago are still watched: an alert on one resolves when it closes
INSIGHT_LOOKBACK_MS = 24 * HOUR_MS
WEEK_MS = 7 * 24 * HOUR_MS


def kpi_windows(rule: KpiWindowRule, compare: str | None, now: int, tz: str
                ) -> tuple[str, tuple[int, int], tuple[int, int] | None]:
    """(granularity, current buckets, compared buckets) as (first, last) bucket starts.

    The current window is the last complete one: whole minutes before this minute for windows
    under an hour, whole local hours before this hour for longer ones, the local yesterday for
    ``1d``. Only complete buckets are compared, so a window half-filled never looks like a drop.
    """
    if rule.window == "1d":
        today = local_date(now, tz)
        day = shift_date(today, -1)
        back = {"previous_period": 1, "yesterday": 1, "same_hour_last_week": 7}.get(compare or "", 0)
        current = (day_start_of_date(day, tz),) * 2
        compared = (day_start_of_date(shift_date(day, -back), tz),) * 2 if back else None
        return "d", current, compared
    window = rule.window_ms
    if window < HOUR_MS:
        granularity, step, end = "m", MINUTE_MS, now - now % MINUTE_MS
    else:
        granularity, step, end = "h", HOUR_MS, hour_start(now, tz)
    current = (end - window, end - step)
    shift = {"previous_period": window, "yesterday": 24 * HOUR_MS,
             "same_hour_last_week": WEEK_MS}.get(compare or "")
    compared = (current[0] - shift, current[1] - shift) if shift else None
    return granularity, current, compared


class Sources:
    """Readers for one evaluation at ``now`` (the minute evaluated)."""

    def __init__(self, now: int, tz: str, currency: str, *,
                 hosts: Callable[[int], list[dict[str, Any]]],
                 kpis: Callable[[str, int, int], dict[str, float]],
                 probes: Callable[[], list[dict[str, Any]]],
                 insights: Callable[[str, int], list[dict[str, Any]]] = lambda severity, since: [],
                 ci: Callable[[int, int], list[dict[str, Any]]] = lambda since, until: []):
        self.now, self.tz, self.currency = now, tz, currency
        self._ci = ci
        self._hosts, self._kpis, self._probes, self._insights = hosts, kpis, probes, insights
        self._cache: dict[Any, Any] = {}

    def _cached(self, key: Any, read: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    def hosts(self) -> list[dict[str, Any]]:
        return self._cached("hosts", lambda: self._hosts(self.now))

    def kpi(self, granularity: str, buckets: tuple[int, int]) -> dict[str, float]:
        return self._cached(("kpi", granularity, buckets), lambda: self._kpis(granularity, *buckets))

    def probes(self) -> list[dict[str, Any]]:
        return self._cached("probes", self._probes)

    def insights(self, min_severity: str) -> list[dict[str, Any]]:
        since = self.now - INSIGHT_LOOKBACK_MS
        return self._cached(("insights", min_severity), lambda: self._insights(min_severity, since))

    def observe(self, rule: Rule) -> list[Observed]:
        if isinstance(rule, MetricThreshold):
            return self._metric(rule)
        if isinstance(rule, (KpiThreshold, KpiChange)):
            return [self._kpi(rule)]
        if isinstance(rule, Absence):
            return self._absence(rule)
        if isinstance(rule, ProbeRule):
            return self._probe(rule)
        if isinstance(rule, InsightRule):
            return self._insight(rule)
        if isinstance(rule, CiThreshold):
            return self._ci_health(rule)
        return []

    def _ci_health(self, rule: CiThreshold) -> list[Observed]:
        """One series per repository and workflow, over the last ``window`` of whole hours
        (the CI console's hour roll-ups); the failure rate in percent."""
        until = self.now - self.now % HOUR_MS
        rows = self._cached(("ci", rule.window_ms), lambda: self._ci(until - rule.window_ms, until))
        out = []
        for row in rows:
            if row.get("branch", "*") != rule.branch or (rule.repo != "*" and row["repo"] != rule.repo) or (
                    rule.workflow != "*" and not fnmatch.fnmatchcase(row["workflow"], rule.workflow)):
                continue
            value = row.get(rule.measure)
            if rule.measure == "failureRate" and value is not None:
                value = round(value * 100, 2)
            if row["runs"] < rule.minRuns:
                value = None
            out.append(Observed({"repo": row["repo"], "workflow": row["workflow"]}, value,
                                {"runs": row["runs"], "window": rule.window}))
        return out

    def _host_rows(self, host: str, kind: str | None) -> list[dict[str, Any]]:
        return [h for h in self.hosts() if (host == "*" or h["host"] == host)
                and (kind is None or h["kind"] == kind)]

    def _metric(self, rule: MetricThreshold) -> list[Observed]:
        out = []
        for row in self._host_rows(rule.host, rule.hostKind):
            fresh = row["status"] == "online"
            for metric, value in sorted(row["values"].items()):
                if metric == rule.metric or ("*" in rule.metric and fnmatch.fnmatchcase(metric, rule.metric)):
                    # A host that stopped reporting: its series have no data, not old values.
                    out.append(Observed({"host": row["host"], "metric": metric}, value if fresh else None))
        return out

    def _absence(self, rule: Absence) -> list[Observed]:
        out = []
        for row in self._host_rows(rule.host, rule.hostKind):
            interval = max(row["intervalMs"], 1_000)
            missed = max(0, (self.now - row["lastSeen"]) // interval)
            out.append(Observed({"host": row["host"], "hostKind": row["kind"]}, missed,
                                {"intervalS": interval / 1000, "lastSeen": row["lastSeen"]}))
        return out

    def _probe(self, rule: ProbeRule) -> list[Observed]:
        out = []
        for p in self.probes():
            if rule.probe != "*" and p["name"] != rule.probe:
                continue
            fresh = self.now - p["checkedAt"] <= PROBE_FRESH_MS
            out.append(Observed({"probe": p["name"]}, (0 if p["status"] == "ok" else 1) if fresh else None,
                                {"error": p.get("error"), "httpStatus": p.get("httpStatus"),
                                 "latencyMs": p.get("latencyMs")}))
        return out

    def _insight(self, rule: InsightRule) -> list[Observed]:
        """One series per insight: 1 while it is open, 0 once it closed (the alert resolves)."""
        out = []
        for i in self.insights(rule.minSeverity):
            hosts = i.get("affectedHosts") or ([i["host"]] if i.get("host") else [])
            if rule.insightType is not None and i["type"] != rule.insightType:
                continue
            if rule.host != "*" and rule.host not in hosts:
                continue
            labels = {"insight": i["id"], "host": ",".join(hosts) or "-", "metric": i.get("metric") or "-"}
            out.append(Observed(labels, 1 if i.get("endsAt") is None else 0,
                                {"message": f"[{i['severity']}] {i['message']}"}))
        return out

    def _kpi(self, rule: KpiThreshold | KpiChange) -> Observed:
        compare = rule.compare if isinstance(rule, KpiChange) else None
        granularity, current, compared = kpi_windows(rule, compare, self.now, self.tz)
        labels = {"kpi": rule.kpi}
        now = self.kpi(granularity, current)
        volume_of = VOLUME_OF[rule.kpi]
        detail: dict[str, Any] = {"current": now[rule.kpi], "currency": self.currency,
                                  "window": [current[0], current[1]]}
        if isinstance(rule, KpiThreshold):
            if now[volume_of] < rule.minVolume:
                return Observed(labels, None, {**detail, "reason": f"{now[volume_of]} {volume_of}, "
                                               f"under the minimum volume of {rule.minVolume}"})
            return Observed(labels, now[rule.kpi], detail)
        before = self.kpi(granularity, compared)  # type: ignore[arg-type]
        detail["previous"] = before[rule.kpi]
        volume = max(now[volume_of], before[volume_of])
        if volume < rule.minVolume:
            return Observed(labels, None, {**detail, "reason": f"{volume} {volume_of}, under the "
                                           f"minimum volume of {rule.minVolume}"})
        if not before[rule.kpi]:
            return Observed(labels, None, {**detail, "reason": "nothing in the compared period"})
        change = round((now[rule.kpi] - before[rule.kpi]) / before[rule.kpi] * 100, 2)
        return Observed(labels, change, detail)
