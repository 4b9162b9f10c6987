"""The product's one severity vocabulary (seed 002): alerts, insights and incidents all use it.

Features never import each other's models; what they share lives in small modules like this.
"""
from __future__ import annotations

from typing import Literal, get_args

Severity = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]

#: least to most severe
SEVERITIES: tuple[str, ...] = get_args(Severity)


def rank(severity: str) -> int:
    """0 for LOW up to 3 for CRITICAL; ``ValueError`` for anything else."""
    return SEVERITIES.index(severity)


def at_least(severity: str, minimum: str) -> bool:
    return rank(severity) >= rank(minimum)
