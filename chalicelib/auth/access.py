"""Access rules, declared next to each route. Pure markers: they record on the view what the
route needs; the one access check (``middleware.access_check``) reads and enforces them before
the view runs, in ``chalice local``, ``chalice.test.Client`` and Lambda alike.

    @business_api.route("/api/kpis", methods=["GET"])
    @access.role("viewer")                  # a user token whose role is at least viewer
    @api_errors
    def get_kpis(): ...

    @business_api.route("/api/ingest/purchase", methods=["POST"])
    @access.api_key("ingest:business")      # an API key carrying this scope; no user token
    ...

    @system_api.route("/api/health")
    @access.public                          # no credential at all
    ...

    @ci_api.route("/webhooks/github", methods=["POST"])
    @access.signature("github")             # the view verifies the sender's own signature
    ...

A route that declares nothing still needs a user token (fail closed): the viewer role for GET
(viewers read everything), admin for any other method; the app logs it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

from .api_keys import INGEST_SCOPES
from .roles import Role

View = TypeVar("View", bound=Callable)

ATTRIBUTE = "__access_rule__"


@dataclass(frozen=True)
class AccessRule:
    #: "role" (user token), "api_key" (machine key), "public", "signature" (checked by the view)
    kind: str
    role: Role | None = None
    scope: str | None = None
    #: for "signature": which scheme the view verifies (e.g. "github"); documentation only
    scheme: str | None = None

    def describe(self) -> str:
        if self.kind == "role":
            return f"a user token with the {self.role.label} role"
        if self.kind == "api_key":
            return f"an API key with scope {self.scope}"
        return "no credential" if self.kind == "public" else f"a {self.scheme} signature"


def undeclared_rule(method: str) -> AccessRule:
    """What a route that declares nothing gets: reads for viewers, everything else for admins."""
    return AccessRule("role", role=Role.VIEWER if method in ("GET", "HEAD") else Role.ADMIN)


def _mark(rule: AccessRule) -> Callable[[View], View]:
    def mark(view: View) -> View:
        declared = getattr(view, ATTRIBUTE, None)
        if declared is not None and declared != rule:
            raise TypeError(f"{view.__name__} declares two different access rules")
        setattr(view, ATTRIBUTE, rule)
        return view
    return mark


def role(name: str) -> Callable[[View], View]:
    """A signed-in user (``Authorization: Bearer <jwt>``) whose role is at least ``name``."""
    return _mark(AccessRule("role", role=Role.named(name)))


def api_key(scope: str) -> Callable[[View], View]:
    """A machine's API key (``x-api-key``) carrying ``scope``; user tokens never open these."""
    if scope not in INGEST_SCOPES:
        raise ValueError(f"unknown scope {scope!r}; declare it in auth.api_keys.INGEST_SCOPES")
    return _mark(AccessRule("api_key", scope=scope))


def public(view: View) -> View:
    """No credential: health, the SPA's static files, the sign-in flow."""
    return _mark(AccessRule("public"))(view)


def signature(scheme: str) -> Callable[[View], View]:
    """No token or key: the view itself authenticates the caller by its signature (webhooks)."""
    return _mark(AccessRule("signature", scheme=scheme))


def rule_of(view: Callable) -> AccessRule | None:
    return getattr(view, ATTRIBUTE, None)
