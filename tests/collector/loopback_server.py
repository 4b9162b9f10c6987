"""A stand-in for Mission Control's POST /api/metrics on 127.0.0.1 (free
port) that fails on command, plus a tiny web app for the probe tests.

Modes of the metrics endpoint:
- "ok": 200, every sample accepted;
- an int status (503, 408, 429, 401, 400...): that status, nothing accepted;
- "close": read the request, then close the connection without answering;
- "hang": read the request, answer only after `release` is set (for timeouts);
- "refuse": 207 refusing the indices in `refuse_indices`, accepting the rest.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # dropped connections are what some tests are about


class MetricsServer:
    def __init__(self) -> None:
        self.mode: Any = "ok"
        self.refuse_indices: set[int] = set()
        self.accepted: list[dict[str, Any]] = []  # every sample accepted, in arrival order
        self.batches: list[int] = []  # size of every accepted batch
        self.attempts = 0  # every POST, whatever the answer
        self.api_keys: set[str | None] = set()
        self.release = threading.Event()
        self.changed = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                server._record_attempt(self.headers.get("x-api-key"))
                mode = server.mode
                if self.path != "/api/metrics":
                    self._answer(404, {"error": "not found"})
                elif mode == "close":
                    self.close_connection = True
                    self.connection.shutdown(2)
                elif mode == "hang":
                    server.release.wait()
                    self._answer(503, {})
                elif isinstance(mode, int):
                    self._answer(mode, {"error": f"mode {mode}"})
                else:
                    samples = json.loads(body)
                    refused = sorted(i for i in server.refuse_indices if i < len(samples)) if mode == "refuse" else []
                    kept = [s for i, s in enumerate(samples) if i not in refused]
                    server._record_accepted(kept)
                    if refused:
                        self._answer(207, {
                            "accepted": len(kept), "duplicates": 0,
                            "refused": [{"index": i, "errors": ["values: not allowed"]} for i in refused],
                        })  # fmt: skip
                    else:
                        self._answer(200, {"accepted": len(kept), "duplicates": 0, "refused": []})

            def _answer(self, status: int, doc: Any) -> None:
                data = json.dumps(doc).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

        self._httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> "MetricsServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _record_attempt(self, key: str | None) -> None:
        with self.changed:
            self.attempts += 1
            self.api_keys.add(key)
            self.changed.notify_all()

    def _record_accepted(self, samples: list[dict[str, Any]]) -> None:
        with self.changed:
            self.accepted.extend(samples)
            self.batches.append(len(samples))
            self.changed.notify_all()

    def wait_for(self, predicate, timeout: float = 60.0) -> bool:
        """Block until predicate(self) holds. The timeout only guards against
        a hang in a broken build; no test asserts how long things take."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout=timeout)


class WebApp:
    """A watched web app: GET /health answers `status`, GET /metrics.json
    answers `metrics` (a JSON-able document, or an int status)."""

    def __init__(self) -> None:
        self.status = 200
        self.metrics: Any = {"activeUsers": 12, "requestsPerSecond": 3.2, "trafficSources": {"direct": 10}}
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/metrics.json":
                    if isinstance(app.metrics, int):
                        status, data = app.metrics, b"{}"
                    else:
                        status, data = 200, json.dumps(app.metrics).encode()
                else:
                    status, data = app.status, b"hello"
                self.send_response(status)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> "WebApp":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
