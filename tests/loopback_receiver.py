"""A loopback HTTP server standing in for a notification receiver (a Slack incoming webhook, a
generic webhook receiver, a dependency's status endpoint): it records every request and answers
as the test commands, so one receiver can be made to fail or hang while the others work.

    receiver = LoopbackReceiver.start()
    receiver.url("/services/T0/B0/x")
    receiver.fail_next(2, status=503)      # the next two requests get 503
    receiver.hold()                        # requests wait (the receiver is "slow") ...
    receiver.release()                     # ... until released
    receiver.wait_for(1)                   # block until one request arrived (or fail)
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def loopback_server(serve: Callable[[BaseHTTPRequestHandler], None]
                    ) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """A quiet HTTP server on a free loopback port whose GETs and POSTs go to ``serve(request)``
    (each on its own thread), and the thread to start it on."""
    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            serve(self)

        do_POST = do_GET = _serve

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server, threading.Thread(target=server.serve_forever, daemon=True)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class LoopbackReceiver:
    def __init__(self):
        self.requests: list[Received] = []
        self.answered = 0
        self._failures: list[int] = []
        self._status = 200
        self._gate = threading.Event()
        self._gate.set()
        self._changed = threading.Condition()
        receiver = self

        def serve(request: BaseHTTPRequestHandler) -> None:
            length = int(request.headers.get("content-length") or 0)
            body = request.rfile.read(length) if length else b""
            with receiver._changed:
                receiver.requests.append(Received(request.command, request.path, dict(request.headers), body))
                status = receiver._failures.pop(0) if receiver._failures else receiver._status
                receiver._changed.notify_all()
            receiver._gate.wait()
            payload = b"ok" if status < 400 else b"failing on command"
            try:
                request.send_response(status)
                request.send_header("content-type", "text/plain")
                request.send_header("content-length", str(len(payload)))
                request.end_headers()
                request.wfile.write(payload)
            except OSError:
                pass  # the client gave up waiting (its timeout): that is the point of hold()
            with receiver._changed:
                receiver.answered += 1
                receiver._changed.notify_all()

        self.server, self.thread = loopback_server(serve)

    @classmethod
    def start(cls) -> "LoopbackReceiver":
        receiver = cls()
        receiver.thread.start()
        return receiver

    def stop(self) -> None:
        self._gate.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail_next(self, n: int, status: int = 500) -> None:
        self._failures = [status] * n

    def always(self, status: int) -> None:
        self._status = status

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def wait_for(self, count: int, timeout_s: float = 60) -> list[Received]:
        """The first ``count`` requests, once they arrived. The timeout only keeps a broken test
        from hanging; nothing is measured against it."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.requests) >= count, timeout_s):
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            return list(self.requests[:count])
