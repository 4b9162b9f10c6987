"""The local server as `make run` starts it, under the load of a team using it for weeks:
handles bounded whatever the clients do, kept-open connections as fast as fresh ones, the
one error shape for paths no route serves, and a quiet terminal.

Real components, really started: the runner on a loopback port, its server process's open
files counted in /proc. Timings are compared within one run, never against a clock limit."""
from __future__ import annotations

import http.client
import json
import socket
import statistics
import struct
import threading
import time
import urllib.error
import urllib.request

import pytest

from open_files import open_files
from tests.e2e.conftest import Product, free_port  # by path: other conftests exist


@pytest.fixture(scope="module")
def served(tmp_path_factory, spa_dist):
    """One product for the module's tests (they leave nothing behind that another reads)."""
    product = Product(tmp_path_factory.mktemp("served"), spa_dist, free_port())
    product.start()
    try:
        yield product
    finally:
        product.stop()


def _get(product: Product, path: str, headers: dict | None = None, method: str = "GET"):
    """(status, headers, body bytes) of one request on a connection of its own."""
    request = urllib.request.Request(product.base_url + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=15) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


# -- handles ----------------------------------------------------------------------------------

def test_a_thousand_one_shot_connections_leave_the_database_handles_bounded(served):
    from chalicelib.storage.sqlite_engine import POOL_SIZE
    viewer = {"Authorization": f"Bearer {served.token('viewer')}"}
    assert _get(served, "/api/kpis?period=24h", viewer)[0] == 200
    pid = served.server_pid()
    database = str(served.data_dir / "mission-control.db")
    before = open_files(pid, database)
    every_file_before = open_files(pid, "")
    statuses: list[int] = []

    def client(requests: int) -> None:  # each request on its own TCP connection, as curl does
        for _ in range(requests):
            statuses.append(_get(served, "/api/kpis?period=24h", viewer)[0])

    clients = [threading.Thread(target=client, args=(125,)) for _ in range(8)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()

    assert statuses == [200] * 1000
    after = open_files(pid, database)
    # A pooled connection holds the file, its WAL and the shared-memory index.
    assert len(after) <= 3 * POOL_SIZE, after
    assert len(after) <= len(before) + 3 * 8  # at most one more connection per client thread
    # Nor did sockets or anything else pile up (a few may still be closing).
    assert len(open_files(pid, "")) <= len(every_file_before) + len(after) - len(before) + 8


# -- latency on a kept-open connection ---------------------------------------------------------

def test_a_kept_open_connection_answers_as_fast_as_a_fresh_one(served):
    viewer = {"Authorization": f"Bearer {served.token('viewer')}"}
    path = "/api/kpis?period=24h"

    def timed(conn: http.client.HTTPConnection) -> float:
        started = time.perf_counter()
        conn.request("GET", path, headers=viewer)
        reply = conn.getresponse()
        reply.read()
        assert reply.status == 200
        return time.perf_counter() - started

    fresh = []
    for _ in range(40):
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=15)
        fresh.append(timed(conn))
        conn.close()
    kept_open = http.client.HTTPConnection("127.0.0.1", served.port, timeout=15)
    timed(kept_open)  # the first request opens it
    kept = [timed(kept_open) for _ in range(40)]
    kept_open.close()
    # Head and body written apart stalled every later request ~40 ms (Nagle meeting the
    # client's delayed ACK) against ~1 ms fresh: a ratio of 30 or more.
    assert statistics.median(kept) <= 3 * statistics.median(fresh), (kept, fresh)


def test_a_client_that_asks_to_continue_gets_its_answer_before_sending_the_body(served):
    """curl sends ``Expect: 100-continue`` with bodies over 1 KB and holds the body back until
    the server says so (or a second passes): that answer must not wait in a buffer."""
    body = json.dumps([{"eventId": f"e{n}", "sessionId": "s", "page": "/p" * 40,
                        "timestamp": int(time.time() * 1000)} for n in range(20)]).encode()
    head = (f"POST /api/ingest/pageview HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"x-api-key: {served.api_key()}\r\nContent-Length: {len(body)}\r\n"
            f"Expect: 100-continue\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(head)
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")  # before the body is sent
        sock.sendall(body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200")


# -- paths no route serves ------------------------------------------------------------------------

SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                    "Content-Security-Policy")


@pytest.mark.parametrize("path", [
    "/api/nothing-here",
    "/webhooks/nothing-here",
    "/api/kpis;period=24h",        # a ";" belongs to its segment: not /api/kpis
    "/api/keys/some/thing",        # a path parameter cannot hold a "/"
    "/api/keys/",                  # (trailing slash dropped: that is GET /api/keys, an admin's)
])
def test_a_path_no_route_serves_is_a_json_404_that_repeats_no_credential(served, path):
    secret_token, secret_key = served.token("viewer"), "mck_not-a-real-key-0123456789"
    status, headers, body = _get(served, path, {"Authorization": f"Bearer {secret_token}",
                                                "x-api-key": secret_key})
    if path == "/api/keys/":
        assert status == 403  # the route exists; a viewer may not list keys
        return
    assert status == 404
    assert json.loads(body) == {"error": {"code": "not_found", "message": json.loads(body)["error"]["message"],
                                          "details": []}}
    assert headers["Content-Type"] == "application/json"
    # The same edge headers as the app's own answers (here a 401 from the access check).
    _status, app_headers, _body = _get(served, "/api/kpis")
    assert {h: headers[h] for h in SECURITY_HEADERS} == {h: app_headers[h] for h in SECURITY_HEADERS}
    everything = body.decode() + str(headers)
    assert secret_token not in everything and secret_key not in everything


def test_a_known_path_with_another_method_is_a_405_naming_the_allowed_ones(served):
    status, headers, body = _get(served, "/api/kpis", method="DELETE",
                                 headers={"Authorization": f"Bearer {served.token('admin')}"})
    assert status == 405
    assert headers["Allow"] == "GET, OPTIONS"
    assert json.loads(body)["error"]["code"] == "method_not_allowed"
    assert all(headers[h] for h in SECURITY_HEADERS)


def test_a_path_parameter_is_one_whole_decoded_segment(served):
    """``/api/keys/<id>;x`` names no key: it must never revoke key <id> (chalice local's
    matching cut ``;x`` off)."""
    admin = {"Authorization": f"Bearer {served.token('admin')}"}
    key_id = json.loads(_get(served, "/api/keys", admin)[2])["keys"][0]["id"]
    status, _headers, body = _get(served, f"/api/keys/{key_id};x", admin, method="DELETE")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    status, _headers, body = _get(served, f"/api/keys/{key_id}%3Bx", admin, method="DELETE")
    assert status == 404  # the same id, percent-encoded: decoded as API Gateway decodes it
    listed = json.loads(_get(served, "/api/keys", admin)[2])["keys"]
    assert next(k for k in listed if k["id"] == key_id).get("revokedAt") is None


# -- the terminal -----------------------------------------------------------------------------------

def _clients_that_go_away(product: Product, count: int = 10) -> None:
    """Connections reset in the middle of a request and right after one (a closed tab)."""
    for n in range(count):
        with socket.create_connection(("127.0.0.1", product.port), timeout=5) as sock:
            request = b"GET /api/health HTTP/1.1\r\nHost: x\r\n"
            sock.sendall(request if n % 2 else request + b"\r\n")
            # SO_LINGER 0: close with a reset, as a killed client does.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_the_terminal_stays_quiet_and_ctrl_c_stops_everything_cleanly(tmp_path, spa_dist):
    product = Product(tmp_path / "data", spa_dist, free_port())
    product.start()
    try:
        for path in ("/api/health", "/api/health?x=1", "/api/nothing-here", "/"):
            _get(product, path)
        _clients_that_go_away(product)
        time.sleep(0.5)  # let the server meet the resets
    finally:
        code = product.interrupt()
    printed = "\n".join(product.output)
    assert code == 0, printed
    for noise in ("Traceback", "BrokenPipeError", "ConnectionResetError", "Aborted!",
                  "GET /api/health", "HTTP/1.1"):
        assert noise not in printed, printed


def test_verbose_logs_a_line_per_request_without_its_query_string(tmp_path, spa_dist):
    product = Product(tmp_path / "data", spa_dist, free_port(), verbose=True)
    product.start()
    try:
        assert _get(product, "/api/health?code=secret-code")[0] == 200
        assert _get(product, "/api/nothing-here")[0] == 404
        _clients_that_go_away(product, count=4)
        time.sleep(0.5)
    finally:
        code = product.interrupt()
    printed = "\n".join(product.output)
    assert code == 0
    assert "GET /api/health 200" in printed and "GET /api/nothing-here 404" in printed
    assert "secret-code" not in printed and "Traceback" not in printed
