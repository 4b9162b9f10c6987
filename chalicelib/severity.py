"""The one severity vocabulary of alerts, insights and incidents (DESIGN.md, Conventions)."""
from __future__ import annotations

from typing import Literal

Severity = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]

#: lowest first
SEVERITIES: tuple[Severity, ...] = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


def rank(severity: Severity) -> int:
    """0 for LOW up to 3 for CRITICAL, so severities compare as numbers."""
    return SEVERITIES.index(severity)


def at_least(severity: Severity, minimum: Severity) -> bool:
    return rank(severity) >= rank(minimum)
