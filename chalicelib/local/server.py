"""The local HTTP server behind `make run`: the very app `chalice local` serves, through
chalice's own local gateway, request handler and threaded server (``chalice.local``), with what
a server that runs for weeks on one machine needs:

- one write per response, and TCP_NODELAY: head and body written apart made the body wait for
  the client's delayed ACK (Nagle), ~40 ms on every request after the first on a kept-open
  connection — every browser refresh;
- the store's connections go back to its pool after each request, so open file handles follow
  the requests in flight, not the clients; an idle kept-open connection is closed after
  ``IDLE_CONNECTION_TIMEOUT_S``, and its thread ends with it;
- a path no route serves gets a JSON 404 (a known path with another method: 405 with
  ``Allow``) in the app's one error shape with its security headers, where chalice local's
  gateway answered 403 repeating the caller's Authorization header;
- path parameters as API Gateway passes them: one non-empty segment each, percent-decoded; a
  ``;`` belongs to its segment (chalice local cut it off with everything after it, so
  ``/api/kpis;x`` was served as ``/api/kpis``);
- quiet: no line per request (``--verbose`` prints one, without the query string), no
  traceback when a client goes away, and SIGINT/SIGTERM stop it cleanly.

    python -m chalicelib.local.server --host 127.0.0.1 --port 8000 [--stage dev] [--verbose]
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from chalice.local import (
    ChaliceRequestHandler, CustomLocalChalice, LambdaEventConverter, LocalChalice, LocalGateway,
    MatchResult, RouteMatcher, ThreadedHTTPServer,
)

from ..storage import release_connections
from ..web import unrouted_error_response

PROJECT_DIR = Path(__file__).resolve().parents[2]
logger = logging.getLogger("mission_control.server")

#: a kept-open connection with no request for this long is closed (a browser opens a new one
#: when it needs it); it bounds the threads that idle clients hold
IDLE_CONNECTION_TIMEOUT_S = 120
#: responses up to this size leave in one write (larger ones in a few, at once: TCP_NODELAY)
RESPONSE_BUFFER_BYTES = 64 * 1024
#: malloc arenas for the server's threads: they take turns on the interpreter lock, so two
#: are enough (glibc's default is 8 per core)
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


class PathMatcher(RouteMatcher):
    """chalice's route matching, on the path as API Gateway reads it."""

    def match_route(self, url: str) -> MatchResult:
        # urlsplit, not urlparse: urlparse cuts ";params" off the last segment.
        parts = urlsplit(url)
        path = parts.path
        if path != "/" and path.endswith("/"):  # as API Gateway (and chalice local) do
            path = path[:-1]
        segments = path.split("/")
        for route in self.route_urls:  # sorted: fixed segments before parameters
            expected = route.split("/")
            if len(expected) != len(segments):
                continue
            captured: dict[str, str] = {}
            for given, wanted in zip(segments, expected):
                if wanted.startswith("{") and wanted.endswith("}"):
                    if not given:
                        break
                    captured[wanted[1:-1]] = unquote(given)
                elif given != wanted:
                    break
            else:
                return MatchResult(route, captured, parse_qs(parts.query, keep_blank_values=True))
        raise ValueError("no route serves this path")


class Gateway(LocalGateway):
    """chalice's local API Gateway, answering itself what API Gateway would refuse before the
    app: no route (404), or a route without this method (405)."""

    def __init__(self, app: Any, config: Any, edge_config: Callable[[], Any]):
        super().__init__(app, config)
        self.paths = PathMatcher(list(app.routes))
        self.event_converter = LambdaEventConverter(self.paths, app.api.binary_types)
        self.edge_config = edge_config

    def handle_request(self, method: str, path: str, headers: dict, body: bytes | None) -> dict:
        try:
            route = self.paths.match_route(path)
        except ValueError:
            return self._refusal(404, method, path, headers)
        methods = self._app_object.routes[route.route]
        if method not in methods:
            return self._refusal(405, method, path, headers, tuple(methods))
        return super().handle_request(method, path, headers, body)

    def _refusal(self, status: int, method: str, path: str, headers: dict,
                 allowed: tuple[str, ...] = ()) -> dict:
        """The app's own error body and edge headers; nothing of the request is repeated."""
        lowered = {k.lower(): v for k, v in headers.items()}
        response = unrouted_error_response(status, method, path, lowered, self.edge_config(),
                                           allowed_methods=allowed)
        return response.to_dict(self._app_object.api.binary_types)


class RequestHandler(ChaliceRequestHandler):
    # chalice's handler writes the head, then the body: into this buffer, which http.server
    # flushes once per request. Separate writes made the body wait for the client's delayed
    # ACK of the head (Nagle's algorithm).
    wbufsize = RESPONSE_BUFFER_BYTES
    disable_nagle_algorithm = True  # what a write hands the socket leaves at once
    timeout = IDLE_CONNECTION_TIMEOUT_S
    server: "Server"

    def __init__(self, request: Any, client_address: Any, server: "Server") -> None:
        # One gateway for the server (chalice's handler builds one per connection).
        self.local_gateway = server.gateway
        self.started = 0.0
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def _generic_handle(self) -> None:
        self.started = time.perf_counter()
        try:
            super()._generic_handle()
        finally:
            release_connections()  # between requests a kept-open connection holds none
        if self.command == "HEAD":
            # chalice's handler sends a body even for HEAD, which the client does not read:
            # it must not be taken for the start of the next response.
            self.close_connection = True

    def handle_expect_100(self) -> bool:
        # "100 Continue" must leave now, not wait in the buffer for the response: the client
        # holds its body back until it comes (curl for a second, for bodies over 1 KB).
        answered = super().handle_expect_100()
        self.wfile.flush()
        return answered

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def version_string(self) -> str:
        return "mission-control"  # no Python version for scanners to match

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        if self.server.verbose:
            took = f"{(time.perf_counter() - self.started) * 1000:.1f} ms" if self.started else "-"
            # The path only: a query string may carry what logs must not (an OAuth code).
            logger.info("%s %s %s %s", self.command, urlsplit(self.path).path, code, took)

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        if self.server.verbose:  # malformed requests and idle timeouts: the client's business
            logger.info("%s: " + format, self.client_address[0], *args)


class Server(ThreadedHTTPServer):
    """chalice local's threaded server: a thread per connection, daemon threads."""

    block_on_close = False  # stopping never waits for kept-open connections to go idle

    def __init__(self, address: tuple[str, int], gateway: Gateway, verbose: bool = False):
        self.gateway = gateway
        self.verbose = verbose
        super().__init__(address, RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return  # the client went away (a closed tab, a timeout): nothing to fix or print
        logger.exception("error while serving a request from %s", client_address[0])


def create_server(host: str, port: int, stage: str = "dev", verbose: bool = False) -> Server:
    """The app of this project, loaded as `chalice local` loads it (the stage's environment
    variables from .chalice/config.json, then app.py), bound to host:port."""
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"  # as every chalice command sets it
    config = CLIFactory(str(PROJECT_DIR), environ=os.environ).create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    validate_routes(app.routes)  # what `chalice deploy` would refuse, refused here too
    # As chalice.local.create_local_server: ``app.current_request`` is per thread.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    from ..auth import gate
    return Server((host, port), Gateway(app, config, lambda: gate().config), verbose)


def compact_store_once() -> None:
    """A SQLite file made before incremental auto-vacuum was on is converted, once, before the
    first request (one full VACUUM: about a second per 100 MB, while nothing else writes). From
    then on the worker gives the pages of trimmed change-log entries back to the file system."""
    from ..storage import default_store
    store = default_store()
    compact = getattr(store, "compact", None)  # SQLite's; DynamoDB manages its own space
    if compact is not None:
        freed = compact(convert=True)
        if freed:
            logger.info("store compacted: %.1f MB given back to the file system", freed / 1e6)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (True if it could). glibc gives threads arenas of their own,
    up to 8 per core, and seldom hands their free memory back: under a thread per connection
    the server's memory crept up ~8 MB in 5 minutes of the soak (benchmarks/README.md). Call
    before the first thread starts. Elsewhere (musl, macOS) there is nothing to cap."""
    import ctypes
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def serve(host: str, port: int, stage: str = "dev", verbose: bool = False) -> int:
    limit_malloc_arenas()
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()
    # Before the app is imported, so that Ctrl-C at any moment stops without a traceback.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server = create_server(host, port, stage, verbose)
    compact_store_once()
    serving = threading.Thread(target=server.serve_forever, name="http-accept", daemon=True)
    serving.start()
    try:
        while not stop.wait(0.5):
            if not serving.is_alive():
                return 1
        return 0
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev", help="the .chalice/config.json stage")
    parser.add_argument("--verbose", action="store_true", help="a log line per request")
    args = parser.parse_args(argv)
    return serve(args.host, args.port, args.stage, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
