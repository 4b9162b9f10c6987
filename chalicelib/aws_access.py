"""What each Lambda function uses on AWS, declared next to the code that uses it.

The prod stack gives every function its own IAM role made of exactly its declarations
(infrastructure/build_template.py), and the template builder refuses a function without one. A
feature adds one ``uses(...)`` line beside its blueprint:

    uses(__name__, "evaluateAlerts", reads=("metrics",), writes=("alerts",), publishes=("alerts",))

- ``function``: the Chalice function: an event handler's ``name=``, ``API_HANDLER`` for a module
  that registers routes (every route runs in that one function, so it gets the union of every
  route module's declarations), ``websocket_connect`` / ``websocket_message`` /
  ``websocket_disconnect`` for WebSocket handlers.
- ``reads`` / ``writes``: logical table names (chalicelib/storage/tables.py). Reads are GetItem,
  BatchGetItem and Query on the table and its indexes; writes are PutItem, UpdateItem,
  DeleteItem, BatchWriteItem and ConditionCheckItem (transactions are made of those).
- ``publishes`` / ``subscribes``: topics by their key in ``TOPICS``.
- ``secrets``: Secrets Manager secret names (the stack creates them; GetSecretValue only).
- ``manages_connections``: posts to WebSocket clients (execute-api:ManageConnections).

Stream and queue sources need no declaration: the event source itself says what the function
reads, and the template grants exactly that. Importing this module costs nothing at run time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

API_HANDLER = "api_handler"

#: SNS topics: key -> (env var holding its name, env var holding its ARN). The stack creates
#: each topic and sets both variables on every function.
TOPICS: dict[str, tuple[str, str]] = {
    "alerts": ("ALERTS_TOPIC", "ALERTS_TOPIC_ARN"),
}


@dataclass(frozen=True)
class Uses:
    module: str
    function: str
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    publishes: tuple[str, ...] = ()
    subscribes: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    manages_connections: bool = False


@dataclass
class Declarations:
    by_function: dict[str, list[Uses]] = field(default_factory=dict)

    def of(self, function: str) -> list[Uses]:
        return self.by_function.get(function, [])

    def modules(self, function: str) -> set[str]:
        return {u.module for u in self.of(function)}


DECLARED = Declarations()


def uses(module: str, function: str, *, reads: tuple[str, ...] = (), writes: tuple[str, ...] = (),
         publishes: tuple[str, ...] = (), subscribes: tuple[str, ...] = (),
         secrets: tuple[str, ...] = (), manages_connections: bool = False) -> None:
    """Declare what ``function`` uses because of the code in ``module`` (pass ``__name__``)."""
    declared = Uses(module, function, tuple(reads), tuple(writes), tuple(publishes),
                    tuple(subscribes), tuple(secrets), manages_connections)
    mine = DECLARED.by_function.setdefault(function, [])
    if declared not in mine:  # a module imported twice declares once
        mine.append(declared)
