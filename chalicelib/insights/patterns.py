"""Cross-host patterns and peer outliers. Pure: no I/O, no clock.

- A pattern: the same kind of anomaly (same metric, same direction) starting on ``min_hosts``
  or more hosts within ``window_ms`` is one insight naming them all, not N separate ones.
- An outlier: one host whose value is far from its peers' (same role) while the peers agree
  with each other; measured against the peers' median and MAD, so the outlier cannot hide
  itself by dragging a mean.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

FIVE_MINUTES_MS = 300_000


@dataclass(frozen=True)
class Onset:
    """An anomaly's start on one host."""

    host: str
    metric: str
    direction: str  # "up" | "down"
    starts_at: int  # ms


@dataclass(frozen=True)
class Pattern:
    metric: str
    direction: str
    hosts: tuple[str, ...]  # sorted
    starts_at: int          # the earliest onset (ms)


def patterns(onsets: Iterable[Onset], min_hosts: int = 3,
             window_ms: int = FIVE_MINUTES_MS) -> list[Pattern]:
    """Groups of onsets of one metric and direction on at least ``min_hosts`` distinct hosts,
    each group spanning at most ``window_ms`` from its first onset. An onset joins at most one
    group; groups come out oldest first."""
    by_kind: dict[tuple[str, str], list[Onset]] = {}
    for onset in onsets:
        by_kind.setdefault((onset.metric, onset.direction), []).append(onset)
    found: list[Pattern] = []
    for (metric, direction), group in by_kind.items():
        group.sort(key=lambda o: o.starts_at)
        i = 0
        while i < len(group):
            first = group[i].starts_at
            j = i
            while j < len(group) and group[j].starts_at - first <= window_ms:
                j += 1
            hosts = sorted({o.host for o in group[i:j]})
            if len(hosts) >= min_hosts:
                found.append(Pattern(metric, direction, tuple(hosts), first))
                i = j
            else:
                i += 1
    return sorted(found, key=lambda p: (p.starts_at, p.metric))


@dataclass(frozen=True)
class Outlier:
    host: str
    value: float
    peer_median: float
    #: how far from the peers, in peer spreads (robust sigmas)
    distance: float


def outliers(values: Mapping[str, float], min_peers: int = 3, distance: float = 6.0,
             rel_floor: float = 0.02) -> list[Outlier]:
    """Hosts of one role whose latest value of a metric stands ``distance`` robust sigmas away
    from the others'. The spread is the others' MAD, floored at ``rel_floor`` of their median
    so that identical peers do not make every small difference an outlier. Nothing is
    reported unless at least ``min_peers`` other hosts agree, or when more than one host stands
    out (that is a split, not an outlier)."""
    if len(values) < min_peers + 1:
        return []
    found = []
    for host, value in values.items():
        peers = sorted(v for h, v in values.items() if h != host)
        median = _median(peers)
        mad = _median(sorted(abs(v - median) for v in peers))
        spread = max(1.4826 * mad, rel_floor * abs(median), 1e-12)
        d = abs(value - median) / spread
        if d >= distance:
            found.append(Outlier(host, value, median, d))
    return found if len(found) == 1 else []


def _median(ordered: list[float]) -> float:
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


#: what an open outlier insight keeps, so closing it rewrites it as it was, with its end
KEPT = ("startsAt", "severity", "confidence", "message", "direction", "score")
#: metrics that describe the hardware or the process's age, not its behaviour: never outliers
NOT_BEHAVIOUR = ("total_bytes", "uptime_s", "freq_mhz")


class PeerGroup:
    """The latest values of the hosts of one role (samples' ``meta.role``) and kind, and the
    outlier insights open among them. Fed per batch; ``finish`` compares each metric across
    the hosts heard from within ``fresh_ms`` and opens, updates or closes outlier insights
    (type ``anomaly``, one per host and metric while it stands out). Pure; its state is one
    JSON-serialisable dict."""

    def __init__(self, kind: str, role: str, state: Mapping | None = None, fresh_ms: int = FIVE_MINUTES_MS,
                 min_peers: int = 3, distance: float = 6.0):
        state = state or {}
        self.kind, self.role = kind, role
        self.hosts: dict[str, dict] = {h: dict(v) for h, v in state.get("hosts", {}).items()}
        self.open: dict[str, dict] = dict(state.get("open", {}))
        self.fresh_ms, self.min_peers, self.distance = fresh_ms, min_peers, distance

    def observe(self, host: str, timestamp_ms: int, values: Mapping[str, float], anomalous: Iterable[str]) -> None:
        """A host's latest sample, and the metrics its own detector calls anomalous now."""
        known = self.hosts.get(host)
        if known is None or timestamp_ms >= known["t"]:
            self.hosts[host] = {"t": timestamp_ms, "v": dict(values), "a": sorted(anomalous)}

    def finish(self, now_ms: int) -> list[dict]:
        fresh = {h: s for h, s in self.hosts.items() if now_ms - s["t"] <= self.fresh_ms}
        self.hosts = fresh  # hosts gone quiet leave the group (bounded state)
        metrics = {m for s in fresh.values() for m in s["v"] if not m.endswith(NOT_BEHAVIOUR)}
        standing: dict[str, dict] = {}
        for metric in metrics:
            values = {h: s["v"][metric] for h, s in fresh.items() if metric in s["v"]}
            found = outliers(values, self.min_peers, self.distance)
            if not found:
                continue
            o = found[0]
            if any(metric in fresh[h]["a"] for h in values if h != o.host):
                continue  # the peers are not normal themselves: not an outlier's doing
            standing[f"{o.host}|{metric}"] = {"host": o.host, "metric": metric, "value": o.value,
                                              "median": o.peer_median, "distance": o.distance,
                                              "peers": len(values) - 1}
        changed = []
        for key, now in standing.items():
            before = self.open.get(key)
            item = self._insight(now, before["startsAt"] if before else now_ms)
            if before is None or before["severity"] != item["severity"]:
                # New, or graver or milder: written. Otherwise the stored insight stands as is.
                self.open[key] = {k: item[k] for k in KEPT}
                changed.append(item)
        for key in [k for k in self.open if k not in standing]:
            host, metric = key.split("|", 1)
            closed = self.open.pop(key)
            changed.append({**self._insight({"host": host, "metric": metric, "value": 0.0, "median": 0.0,
                                             "distance": 0.0, "peers": 0}, closed["startsAt"]),
                            **closed, "endsAt": now_ms})
        return changed

    def _insight(self, o: dict, starts: int) -> dict:
        from .tracking import insight_id
        distance = o["distance"]
        return {"id": insight_id(starts, "outlier", self.kind, self.role, o["host"], o["metric"]),
                "type": "anomaly", "outlier": True, "role": self.role,
                "severity": "HIGH" if distance >= 20 else "MEDIUM" if distance >= 10 else "LOW",
                "confidence": min(99, round(50 + 2 * distance)),
                "message": (f"{o['metric']} on {o['host']} is {o['value']:.4g} while its {o['peers']} "
                            f"{self.role} peers are at about {o['median']:.4g}"),
                "affectedHosts": [o["host"]], "metric": o["metric"],
                "direction": "up" if o["value"] >= o["median"] else "down",
                "startsAt": starts, "endsAt": None, "score": round(distance / (distance + 6.0), 4), "points": []}

    def state(self) -> dict:
        return {"hosts": self.hosts, "open": self.open}
