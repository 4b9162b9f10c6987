"""Access control: user tokens (OIDC / Cognito JWTs) for people, API keys for machines that
ingest, roles for what people may do, one check in front of every route.

- ``access``: the rules a route declares (``@access.role("viewer")``, ``@access.api_key(...)``,
  ``@access.public``, ``@access.signature(...)``);
- ``middleware.access_check``: the Chalice middleware that enforces them;
- ``gate()``: the process's :class:`~gate.AccessGate` (caches, configuration);
- ``current_principal()``: who is calling, inside a view;
- ``ensure_local_api_key(scope)``: the local runtime's own API keys.

Importing this package loads neither PyJWT nor cryptography: they load on the first token.
"""
from __future__ import annotations

import threading

from . import access  # noqa: F401  (the package's public names)
from .gate import ANONYMOUS, AccessGate, AccessRefused, Principal  # noqa: F401
from .roles import Role  # noqa: F401

_lock = threading.Lock()
_gates: list[AccessGate] = []


def gate() -> AccessGate:
    """The process's access gate, built from ``auth_settings()`` on first use."""
    if not _gates:
        with _lock:
            if not _gates:
                from ..config import auth_settings
                _gates.append(AccessGate(auth_settings(), repository))
    return _gates[-1]


def use_gate(replacement: AccessGate | None) -> None:
    """Make ``replacement`` the process's gate (None: rebuild from the settings on next use).
    For tests and benchmarks that configure an issuer of their own; the check stays the same."""
    with _lock:
        _gates.clear()
        if replacement is not None:
            _gates.append(replacement)


def repository():
    from ..storage import default_store
    from .repository import AccessRepository
    return AccessRepository(default_store())


def current_principal() -> Principal:
    """Who is calling the route being served (``ANONYMOUS`` on public routes)."""
    from .middleware import principal_of_request
    return principal_of_request.get()


def ensure_local_api_key(scope: str) -> str:
    """The local runtime's API key for ``scope``, created on first use and kept (mode 0600)
    under the data directory; a key that was revoked or lost with its store is replaced."""
    from .local_keys import ensure_local_api_key as ensure
    return ensure(scope)
