"""The one access check, as a Chalice HTTP middleware: it runs before every view, in
``chalice local``, ``chalice.test.Client`` and on Lambda, so all three answer the same status
codes. It reads the rule the route declared (``access.py``), asks the gate, and either answers
401/403/429/503 itself — the view never runs — or hands the caller to the view through
``current_principal()``.
"""
from __future__ import annotations

import contextvars
import logging
from typing import Any, Callable

from ..web import error_response
from .access import rule_of, undeclared_rule
from .gate import ANONYMOUS, AccessRefused, Principal

logger = logging.getLogger("mission_control.auth")

#: the caller of the request being served (a context variable: chalice local serves threads)
principal_of_request: contextvars.ContextVar[Principal] = contextvars.ContextVar(
    "principal_of_request", default=ANONYMOUS)


def access_check(app: Any) -> Callable:
    """The middleware for ``app`` (register it with ``app.register_middleware(..., "http")``)."""
    from . import gate

    warned: set[tuple[str, str]] = set()

    def check(request: Any, get_response: Callable) -> Any:
        path, method = request.context.get("resourcePath"), request.method
        entry = app.routes.get(path, {}).get(method)
        if entry is None or method == "OPTIONS":
            return get_response(request)  # 405 from Chalice, or a CORS preflight: no view runs
        rule = rule_of(entry.view_function)
        if rule is None:
            rule = undeclared_rule(method)
            if (path, method) not in warned:
                warned.add((path, method))
                logger.warning("%s %s declares no access rule: %s until it does", method, path,
                               rule.describe())
        try:
            principal = gate().check(rule, request.headers)
        except AccessRefused as refused:
            return error_response(refused.status, refused.code, refused.message, refused.details,
                                  refused.headers)
        except Exception:  # noqa: BLE001 - an unexpected failure refuses, it never lets through
            logger.exception("access check failed for %s %s", method, path)
            return error_response(500, "internal", "something went wrong on our side; it is logged")
        token = principal_of_request.set(principal)
        try:
            return get_response(request)
        finally:
            principal_of_request.reset(token)

    return check


def undeclared_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route without an access rule (see ``access.undeclared_rule``)."""
    return sorted((method, path) for path, methods in app.routes.items()
                  for method, entry in methods.items()
                  if method != "OPTIONS" and rule_of(entry.view_function) is None)
