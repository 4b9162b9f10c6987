"""The WebSocket handlers and the change-stream consumer: thin wiring over ``sessions`` and
``push``. API Gateway's WebSocket API calls the ``on_ws_*`` handlers on AWS; the local
runner's WebSocket server calls the very same ones with the same event shapes.

``ws_connect`` / ``ws_message`` / ``ws_disconnect`` are registered by app.py on the app itself:
Chalice (1.34) wraps WebSocket handlers into its ``WebsocketEvent`` only when the app registers
them (a blueprint's stay raw ``(event, context)`` functions), and Lambda calls them by their
name in ``app``. The stream consumer is a blueprint's, as the other features' are."""
from __future__ import annotations

import logging

from chalice import Blueprint, Rate
from pydantic import ValidationError

from ..auth.gate import AccessRefused, Principal
from ..auth.roles import Role
from ..aws_access import uses
from ..field_types import now_ms
from ..storage.tables import TABLES
from ..system import recorded
from ..web import error_response
from . import management
from .protocol import MESSAGE, Renew, Subscribe, error
from .push import StoredChange, close_expired, push_changes
from .reads import etag_of_topic
from .repository import ConnectionsRepository
from .sessions import open_connection, renew, subscribe
from .settings import live_settings
from .topics import TABLE_TOPICS

logger = logging.getLogger("mission_control.live")

live_api = Blueprint(__name__)


def _repo() -> ConnectionsRepository:
    from ..storage import default_store
    return ConnectionsRepository(default_store(), live_settings().grace_s)


def verified_token(token: str) -> tuple[Principal, int]:
    """The user a token names and its expiry (epoch ms), checked by the REST API's own check
    (the gate, as for ``Authorization: Bearer``) for the least role, viewer."""
    from ..auth import gate
    from ..auth.access import AccessRule
    principal = gate().check(AccessRule("role", role=Role.VIEWER), {"authorization": f"Bearer {token}"})
    import jwt  # verified above; only its expiry is read here
    exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise AccessRefused(401, "unauthenticated", "invalid token: it has no expiry")
    return principal, int(exp * 1000)


def ws_connect(event):
    params = event.to_dict().get("queryStringParameters") or {}
    try:
        open_connection(_repo(), event.connection_id, management.endpoint_of(event.domain_name, event.stage),
                        params.get("token"), verified_token)
    except AccessRefused as refused:
        logger.info("connection refused: %s", refused.code)  # never the token
        return error_response(refused.status, refused.code, refused.message, refused.details)
    return {"statusCode": 200}


def ws_message(event):
    repo, endpoint = _repo(), management.endpoint_of(event.domain_name, event.stage)
    reply = _answer(repo, event.connection_id, event.body)
    if reply is not None and not management.send(endpoint, event.connection_id, reply):
        repo.delete(event.connection_id)
    elif reply is not None and reply.get("error", {}).get("code") == "token_expired":
        management.close(endpoint, event.connection_id)  # expired and not renewed: closed
    return {"statusCode": 200}


def _answer(repo: ConnectionsRepository, connection_id: str, body: str) -> dict | None:
    conn = repo.get(connection_id)
    if conn is None:
        return error("unknown_connection", "this connection is not open; reconnect")
    try:
        parsed = MESSAGE.validate_json(body or "")
    except ValidationError as exc:
        details = [{"field": ".".join(map(str, e["loc"])) or "(body)", "message": e["msg"]}
                   for e in exc.errors(include_url=False, include_input=False)]
        return error("invalid_input", "send {\"action\": \"subscribe\", \"topics\": [...]} or "
                     "{\"action\": \"renew\", \"token\": \"...\"}", details)
    if isinstance(parsed, Renew):
        try:
            conn = renew(repo, conn, parsed, verified_token)
        except AccessRefused as refused:
            return error(refused.code, refused.message, refused.details)
        return {"type": "renewed", "expiresAt": conn.expires_at, "topics": list(conn.topics)}
    if conn.expires_at <= now_ms():
        return error("token_expired", "the token expired and was not renewed; reconnect with a new one")
    assert isinstance(parsed, Subscribe)
    conn, refused = subscribe(repo, conn, parsed, live_settings().max_topics)
    return {"type": "subscribed", "topics": list(conn.topics), "refused": refused}


def ws_disconnect(event):
    _repo().delete(event.connection_id)
    return {"statusCode": 200}


def push(event):
    """One function for every streamed table (registered once per stream ARN below)."""
    from ..config import settings
    prefix = settings().table_prefix
    changes = [StoredChange(r.table_name.removeprefix(prefix),
                            {k: next(iter(v.values())) for k, v in (r.keys or {}).items()},
                            r.new_image, r.old_image) for r in event]
    report = push_changes(changes, _repo(), etag_of_topic, management.send, management.close, now_ms())
    if report.topics:
        logger.info("pushed %s: %d sent, %d gone, %d expired", ",".join(report.topics),
                    report.sent, report.gone, report.expired)
    return {"batchItemFailures": []}  # a notice is a hint: never redeliver a batch for it


@live_api.schedule(Rate(1, unit=Rate.MINUTES), name="closeExpiredConnections")
@recorded("closeExpiredConnections")
def close_expired_connections(event):
    """A connection whose token expired unrenewed is closed within a minute, even if idle."""
    return {"closed": close_expired(_repo(), management.close, now_ms())}


def push_function_name(table: str) -> str:
    """The Lambda function (Chalice name) that pushes ``table``'s changes: ``pushEvents``."""
    return "push" + "".join(part.capitalize() for part in table.split("_"))


#: the streamed tables whose changes are pushed (a table in TABLE_TOPICS must stream)
PUSHED_TABLES = tuple(t for t in TABLE_TOPICS if t in TABLES and TABLES[t].stream)

#: what each table's push reads besides the connections: the tables behind its topics' ETags
#: (``reads.READS``)
PUSH_READS: dict[str, tuple[str, ...]] = {
    "events": ("rollups",), "metrics": ("metrics",), "alerts": ("alerts",),
    "insights": ("insights",), "notifications": ("notifications",), "incidents": ("incidents",), "ci_runs": (),
}

uses(__name__, "websocket_connect", reads=("connections",), writes=("connections",))
uses(__name__, "websocket_message", reads=("connections",), writes=("connections",), manages_connections=True)
uses(__name__, "websocket_disconnect", reads=("connections",), writes=("connections",))
uses(__name__, "closeExpiredConnections", reads=("connections", "system"), writes=("connections", "system"),
     manages_connections=True)

_push = push
for _table in PUSHED_TABLES:
    uses(__name__, push_function_name(_table), reads=("connections", *PUSH_READS[_table]), writes=("connections",),
         manages_connections=True)
    push = live_api.on_dynamodb_record(stream_arn=live_settings().stream_arns[_table],
                                       name=push_function_name(_table), batch_size=100,
                                       starting_position="LATEST")(_push)
# ``push`` is now a wrapped handler: every push* Lambda's handler string names it.
