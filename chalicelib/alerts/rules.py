"""From a rule and what its source observed to one reading per series. Pure.

A source hands each series as :class:`Observed`: its labels and a value, or ``None`` when the
series has no data this time (a host that stopped sending, a KPI window below ``minVolume``).
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import operator
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .models import Absence, CiThreshold, InsightRule, KpiChange, KpiThreshold, MetricThreshold, ProbeRule, Rule
from .state_machine import Reading

OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Observed:
    labels: Mapping[str, str]
    value: float | None
    #: what a message may say besides the value (the compared value, the window, the volume)
    detail: Mapping[str, Any] = field(default_factory=dict)


def threshold_for(rules: Iterable[Rule], host: str, metric: str) -> float | None:
    """The threshold that the most specific enabled metric rule watching ``metric`` on ``host``
    sets (a named host before ``*``, a named metric before a pattern); None when no rule
    does. What an insights forecast of that series aims at ("CPU hot in 2-3 h")."""
    matching = [r for r in rules if isinstance(r, MetricThreshold) and r.enabled
                and r.host in ("*", host)
                and (r.metric == metric or ("*" in r.metric and fnmatch.fnmatchcase(metric, r.metric)))]
    if not matching:
        return None
    best = min(matching, key=lambda r: (r.host == "*", r.metric != metric))
    return float(best.value)


def threshold_of(rule: Rule) -> tuple[str, float, float] | None:
    """(op, threshold, recover) of a rule, in the unit of its value."""
    if isinstance(rule, (MetricThreshold, KpiThreshold, CiThreshold)):
        return rule.op, rule.value, rule.value if rule.recover is None else rule.recover
    if isinstance(rule, KpiChange):
        return rule.op, rule.percent, rule.percent if rule.recover is None else rule.recover
    if isinstance(rule, Absence):
        return ">=", rule.intervals, rule.intervals if rule.recover is None else rule.recover
    if isinstance(rule, ProbeRule):
        return ">=", 1, 1  # 1: the probe failed
    if isinstance(rule, InsightRule):
        return ">=", 1, 1  # 1: an insight of at least minSeverity is open
    return None


def reading_of(rule: Rule, observed: Observed) -> Reading | None:
    if observed.value is None:
        return None
    op, threshold, recover = threshold_of(rule)  # type: ignore[misc]
    compare = OPS[op]
    return Reading(value=observed.value, breaching=compare(observed.value, threshold),
                   holding=compare(observed.value, recover))


def fingerprint(rule_id: str, labels: Mapping[str, str]) -> str:
    """One alert per rule and label set: a stable short hash of both."""
    raw = json.dumps([rule_id, sorted(labels.items())], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]
