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
