"""Roles: what a signed-in user may do. Pure: no Chalice, no I/O.

``viewer`` reads everything; ``operator`` also acknowledges and resolves incidents and re-runs
workflows; ``admin`` also manages rules, API keys, settings and users' roles. Each role includes
the ones below it, so a route names the least role it needs.
"""
from __future__ import annotations

import enum
from typing import Any, Iterable


class Role(enum.IntEnum):
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def named(cls, name: str) -> "Role":
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"unknown role {name!r}; roles are viewer, operator, admin") from None


def groups_in_claim(value: Any) -> list[str]:
    """A groups claim as a list: Cognito sends a JSON list; some issuers a space- or
    comma-separated string. Anything else counts as no groups."""
    if isinstance(value, str):
        return [g for g in value.replace(",", " ").split() if g]
    if isinstance(value, (list, tuple)):
        return [g for g in value if isinstance(g, str) and g]
    return []


def role_for_groups(groups: Iterable[str], group_roles: dict[str, Role],
                    default: Role | None) -> Role | None:
    """The highest role any of ``groups`` grants; ``default`` when none grants one.

    A group named like a role (``admin``) grants it; ``group_roles`` maps other group names
    (e.g. an Okta group ``ops-team`` to operator).
    """
    granted = [r for g in groups
               if (r := group_roles.get(g) or Role.__members__.get(g.upper())) is not None]
    return max(granted) if granted else default
