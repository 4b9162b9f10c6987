"""The local WebSocket API: what API Gateway's WebSocket API does on AWS, for `make run`
(`chalice local` has no WebSocket support). A small server (the ``websockets`` library) calls
the app's very ``on_ws_connect`` / ``on_ws_message`` / ``on_ws_disconnect`` handlers with
API Gateway's event shapes, and serves the management API (``POST|DELETE|GET
/<stage>/@connections/{id}``, a 410 ``GoneException`` for a connection that is gone) on a
second loopback port, so handlers send through a real boto3 ``apigatewaymanagementapi``
client exactly as on Lambda.

    python -m chalicelib.local.websocket --host 127.0.0.1 --port 8001 --management-port 8002
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import secrets
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger("mission_control.websocket")

STAGE = "local"
API_ID = "local"


def connection_id() -> str:
    """API Gateway's shape: 12 random bytes, base64 (e.g. ``L0SM9cOFvHcCIhw=``)."""
    return base64.b64encode(secrets.token_bytes(12)).decode()


def websocket_event(route_key: str, conn_id: str, domain_name: str, stage: str = STAGE, *,
                    query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                    body: str | None = None, connected_at_ms: int | None = None) -> dict:
    """An API Gateway WebSocket event (``$connect`` with the handshake's query string and
    headers; ``$default`` with the message ``body``; ``$disconnect``)."""
    now = int(time.time() * 1000)
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
    context: dict[str, Any] = {
        "routeKey": route_key, "eventType": event_type, "extendedRequestId": secrets.token_hex(8),
        "requestTime": datetime.fromtimestamp(now / 1000, timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "messageDirection": "IN", "stage": stage, "connectedAt": connected_at_ms or now,
        "requestTimeEpoch": now, "identity": {"sourceIp": "127.0.0.1"}, "requestId": secrets.token_hex(8),
        "domainName": domain_name, "connectionId": conn_id, "apiId": API_ID,
    }
    if event_type == "MESSAGE":
        context["messageId"] = secrets.token_hex(8)
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if route_key == "$connect":
        event["headers"] = headers or {}
        event["multiValueHeaders"] = {k: [v] for k, v in (headers or {}).items()}
        if query:
            event["queryStringParameters"] = query
            event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    if body is not None:
        event["body"] = body
    return event


class LocalWebSocketApi:
    """The WebSocket server and its management API, on an asyncio loop of its own thread."""

    def __init__(self, app: Any, host: str, port: int, management_port: int, stage: str = STAGE):
        self.app, self.host, self.port, self.management_port, self.stage = app, host, port, management_port, stage
        self.domain_name = f"{host}:{port}"
        self.loop: asyncio.AbstractEventLoop | None = None
        self.sockets: dict[str, Any] = {}
        self.connected_at: dict[str, int] = {}
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._http: ThreadingHTTPServer | None = None

    # -- the handlers, as API Gateway invokes them -------------------------------------------
    def _handler(self, route_key: str) -> Callable[[dict, Any], Any]:
        config = self.app.websocket_handlers[route_key]
        return self.app.handler_map[config.name]

    def invoke(self, route_key: str, event: dict) -> dict:
        from ..storage import release_connections
        from .worker import LambdaContext
        name = self.app.websocket_handlers[route_key].name
        try:
            return self._handler(route_key)(event, LambdaContext(name)) or {"statusCode": 200}
        except Exception:  # noqa: BLE001 - as API Gateway: a failed integration answers 500
            logger.exception("WebSocket handler %s failed", name)
            return {"statusCode": 500}
        finally:
            release_connections()

    # -- WebSocket side ---------------------------------------------------------------------
    async def _process_request(self, connection, request):
        split = urlsplit(request.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True)) or None
        conn_id = connection_id()
        headers = {k: v for k, v in request.headers.raw_items()}
        event = websocket_event("$connect", conn_id, self.domain_name, self.stage, query=query, headers=headers)
        answer = await asyncio.get_running_loop().run_in_executor(None, self.invoke, "$connect", event)
        status = int(answer.get("statusCode", 200))
        if status >= 300:
            return connection.respond(status, answer.get("body") or "")
        connection.live_id = conn_id
        return None

    async def _serve_connection(self, connection) -> None:
        conn_id = connection.live_id
        self.sockets[conn_id] = connection
        self.connected_at[conn_id] = int(time.time() * 1000)
        loop = asyncio.get_running_loop()
        try:
            async for message in connection:
                body = message if isinstance(message, str) else message.decode("utf-8", "replace")
                event = websocket_event("$default", conn_id, self.domain_name, self.stage, body=body,
                                        connected_at_ms=self.connected_at[conn_id])
                await loop.run_in_executor(None, self.invoke, "$default", event)
        except Exception:  # noqa: BLE001 - a broken socket is a disconnect
            pass
        finally:
            self.sockets.pop(conn_id, None)
            connected = self.connected_at.pop(conn_id, None)
            event = websocket_event("$disconnect", conn_id, self.domain_name, self.stage,
                                    connected_at_ms=connected)
            await loop.run_in_executor(None, self.invoke, "$disconnect", event)

    # -- the management API (called from the management HTTP server's threads) -----------------
    def post(self, conn_id: str, data: bytes) -> bool:
        connection = self.sockets.get(conn_id)
        if connection is None or self.loop is None:
            return False
        future = asyncio.run_coroutine_threadsafe(connection.send(data.decode("utf-8", "replace")), self.loop)
        try:
            future.result(timeout=10)
        except Exception:  # noqa: BLE001 - closed under us: gone
            return False
        return True

    def delete(self, conn_id: str) -> bool:
        connection = self.sockets.get(conn_id)
        if connection is None or self.loop is None:
            return False
        asyncio.run_coroutine_threadsafe(connection.close(1008, "token expired"), self.loop)
        return True

    def _management_server(self) -> ThreadingHTTPServer:
        api = self
        prefix = f"/{self.stage}/@connections/"

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # kept-open connections, as boto3's pool expects

            def _conn_id(self) -> str | None:
                from urllib.parse import unquote
                path = urlsplit(self.path).path
                return unquote(path[len(prefix):]) if path.startswith(prefix) else None

            def _answer(self, status: int, body: dict | None = None, error_type: str | None = None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _gone(self):
                self._answer(410, {"message": None}, "GoneException")

            def do_POST(self):
                conn_id = self._conn_id()
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if conn_id is None:
                    return self._answer(404, {"message": "not found"}, "NotFoundException")
                return self._answer(200) if api.post(conn_id, data) else self._gone()

            def do_DELETE(self):
                conn_id = self._conn_id()
                return self._answer(204) if conn_id and api.delete(conn_id) else self._gone()

            def do_GET(self):
                conn_id = self._conn_id()
                if not conn_id or conn_id not in api.sockets:
                    return self._gone()
                at = datetime.fromtimestamp(api.connected_at.get(conn_id, 0) / 1000, timezone.utc)
                self._answer(200, {"connectedAt": at.isoformat(), "identity": {"sourceIp": "127.0.0.1"},
                                   "lastActiveAt": at.isoformat()})

            def log_message(self, *args):  # connection ids only; quiet like the rest
                pass

        return ThreadingHTTPServer((self.host, self.management_port), Handler)

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self.management_port}/{self.stage}"

    # -- life cycle ---------------------------------------------------------------------------
    async def _main(self) -> None:
        from websockets.asyncio.server import serve
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._serve_connection, self.host, self.port, process_request=self._process_request,
                         ping_interval=20, max_size=64 * 1024):
            self._ready.set()
            await self._stop.wait()

    def start(self) -> None:
        """Serve in background threads; returns once both listeners are up."""
        from ..live import management
        # Handlers reach the management API through the endpoint the events name, as on AWS.
        self.app.websocket_api.configure(self.domain_name, self.stage)
        management.register(management.endpoint_of(self.domain_name, self.stage), management_client(self.management_url))
        self._http = self._management_server()
        threading.Thread(target=self._http.serve_forever, name="ws-management", daemon=True).start()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="websocket", daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the local WebSocket server did not start")

    def stop(self) -> None:
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()


def management_client(management_url: str) -> Any:
    """A boto3 ``apigatewaymanagementapi`` client on the local management API (loopback only;
    the credentials are placeholders the local server does not check)."""
    import boto3
    return boto3.client("apigatewaymanagementapi", endpoint_url=management_url, region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def websocket_url(host: str, port: int) -> str:
    return f"ws://{host}:{port}/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--management-port", type=int, default=8002)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)  # its debug lines carry the URL (the token)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from app import app
    import signal
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = LocalWebSocketApi(app, args.host, args.port, args.management_port)
    server.start()
    logger.info("WebSocket API on %s (management API %s)", websocket_url(args.host, args.port), server.management_url)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
