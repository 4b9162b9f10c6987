"""`missionctl-agent`: command line and environment configuration.

Every option can be given as a flag or as an environment variable
(MISSIONCTL_AGENT_<OPTION>, e.g. MISSIONCTL_AGENT_URL); a flag wins over the
variable. Prefer MISSIONCTL_AGENT_API_KEY to --api-key: flags are visible to
every user in the process list. The key is never logged.

Exactly one sink: --stdout (wins over the others, handy with --once),
--url (Mission Control HTTP API) or --kinesis-stream.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import socket
import sqlite3
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from missionctl_agent import __version__
from missionctl_agent.agent import Agent
from missionctl_agent.disk_buffer import DEFAULT_MAX_BYTES, DiskBuffer
from missionctl_agent.sampler import Sampler
from missionctl_agent.shipper import Shipper
from missionctl_agent.sinks import redact
from missionctl_agent.webapp_probe import WatchTarget, WebAppProbe, default_name

log = logging.getLogger("missionctl_agent")

ENV_PREFIX = "MISSIONCTL_AGENT_"
ONCE_WARM_UP_S = 1.0
_NAMED_URL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)=(.+)$")


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(ENV_PREFIX + name)
    return value if value not in (None, "") else default


def default_buffer_path() -> str:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(state) / "missionctl-agent" / "buffer.sqlite3")


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="missionctl-agent",
        description="Sample this machine and watched web apps; send the samples to Mission Control.",
        epilog="Every option also reads MISSIONCTL_AGENT_<OPTION> (e.g. MISSIONCTL_AGENT_API_KEY); "
        "flags win. Metric names and units: docs/metrics.md.",
    )
    sink = parser.add_argument_group("sink (exactly one)")
    sink.add_argument("--url", default=env("URL"),
                      help="Mission Control base URL; samples are POSTed to URL/api/metrics [MISSIONCTL_AGENT_URL]")
    sink.add_argument("--api-key", default=env("API_KEY"),
                      help="API key sent as x-api-key; prefer the env var [MISSIONCTL_AGENT_API_KEY]")
    sink.add_argument("--kinesis-stream", default=env("KINESIS_STREAM"),
                      help="send to this Kinesis stream instead (needs the 'kinesis' extra) "
                      "[MISSIONCTL_AGENT_KINESIS_STREAM]")
    sink.add_argument("--kinesis-region", default=env("KINESIS_REGION"),
                      help="AWS region of the stream (default: boto3's usual lookup) [MISSIONCTL_AGENT_KINESIS_REGION]")
    sink.add_argument("--kinesis-endpoint-url", default=env("KINESIS_ENDPOINT_URL"),
                      help="custom Kinesis endpoint, e.g. a local emulator [MISSIONCTL_AGENT_KINESIS_ENDPOINT_URL]")
    sink.add_argument("--stdout", action="store_true", default=env("STDOUT", "") in ("1", "true", "yes"),
                      help="print samples to stdout as JSON lines instead of sending them [MISSIONCTL_AGENT_STDOUT=1]")

    what = parser.add_argument_group("what to sample")
    what.add_argument("--interval", type=positive_float, default=env("INTERVAL", "10"),
                      help="seconds between samples (default 10) [MISSIONCTL_AGENT_INTERVAL]")
    what.add_argument("--host-name", default=env("HOST_NAME") or socket.gethostname(),
                      help="host of this machine's samples (default: the hostname) [MISSIONCTL_AGENT_HOST_NAME]")
    what.add_argument("--watch", action="append", metavar="[NAME=]URL",
                      help="web app URL to check every interval; repeatable; NAME (default the URL's host:port) "
                      "is the samples' host [MISSIONCTL_AGENT_WATCH, space-separated]")
    what.add_argument("--app-metrics-url", action="append", metavar="[NAME=]URL",
                      help="JSON document of the watched app's own counters; attaches to the --watch with the same "
                      "NAME (default the URL's host:port); repeatable [MISSIONCTL_AGENT_APP_METRICS_URL, space-separated]")
    what.add_argument("--http-timeout", type=positive_float, default=env("HTTP_TIMEOUT", "5"),
                      help="timeout in seconds for web app checks and for the HTTP sink (default 5) "
                      "[MISSIONCTL_AGENT_HTTP_TIMEOUT]")

    buffering = parser.add_argument_group("buffering")
    buffering.add_argument("--buffer-path", default=env("BUFFER_PATH") or default_buffer_path(),
                           help="SQLite file holding unsent samples (default: $XDG_STATE_HOME or "
                           "~/.local/state, /missionctl-agent/buffer.sqlite3) [MISSIONCTL_AGENT_BUFFER_PATH]")
    buffering.add_argument("--buffer-max-bytes", type=positive_int,
                           default=env("BUFFER_MAX_BYTES", str(DEFAULT_MAX_BYTES)),
                           help="bound on buffered sample bytes; the oldest are dropped beyond it (default 50 MB) "
                           "[MISSIONCTL_AGENT_BUFFER_MAX_BYTES]")
    buffering.add_argument("--flush-timeout", type=positive_float, default=env("FLUSH_TIMEOUT", "10"),
                           help="seconds to keep sending on stop before leaving the rest buffered (default 10) "
                           "[MISSIONCTL_AGENT_FLUSH_TIMEOUT]")

    run = parser.add_argument_group("running")
    run.add_argument("--once", action="store_true",
                     help=f"take one round of samples (after a {ONCE_WARM_UP_S:g} s warm-up so rates are filled), "
                     "send or print it, and exit; exit status 1 if samples stayed buffered")
    run.add_argument("--log-level", default=env("LOG_LEVEL", "INFO"),
                     choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper,
                     help="default INFO [MISSIONCTL_AGENT_LOG_LEVEL]")
    run.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def split_named_url(spec: str) -> tuple[str, str]:
    """"NAME=URL" -> (NAME, URL); "URL" -> (URL's host:port, URL)."""
    match = _NAMED_URL.match(spec)
    if match:
        name, url = match.groups()
        default_name(url)  # validates the URL
        return name, url
    return default_name(spec), spec


def watch_targets(watch: Sequence[str], metrics: Sequence[str]) -> list[WatchTarget]:
    """Pair watched URLs with app metrics URLs by name; ValueError on misuse."""
    named: dict[str, str] = {}
    for spec in watch:
        name, url = split_named_url(spec)
        if name in named:
            raise ValueError(f"--watch {spec}: the name {name!r} is used twice")
        named[name] = url
    metrics_for: dict[str, str] = {}
    for spec in metrics:
        name, url = split_named_url(spec)
        if name not in named:
            raise ValueError(f"--app-metrics-url {spec}: no --watch named {name!r}; write NAME=URL with the "
                             f"watch's name (watches: {', '.join(named) or 'none'})")
        metrics_for[name] = url
    return [WatchTarget(name, url, metrics_for.get(name)) for name, url in named.items()]


class RedactingFilter(logging.Filter):
    """Masks the API key in every log record, whoever logs it (defence in
    depth: the agent itself never formats the key into a message)."""

    def __init__(self, secret: str | None) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secret:
            message = record.getMessage()
            if self._secret in message:
                record.msg, record.args = redact(message, self._secret), None
        return True


def configure_logging(level: str, secret: str | None) -> None:
    handler = logging.StreamHandler(sys.stderr)  # stdout is for --stdout samples
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s missionctl-agent: %(message)s"))
    handler.addFilter(RedactingFilter(secret))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if level != "DEBUG":  # urllib3 logs every retry/connection at WARNING/DEBUG; we summarise
        logging.getLogger("urllib3").setLevel(logging.ERROR)


def build_sink(args: argparse.Namespace):
    if args.stdout:
        from missionctl_agent.sinks.stdout_sink import StdoutSink

        return StdoutSink()
    if args.url and args.kinesis_stream:
        raise ValueError("give either --url or --kinesis-stream, not both")
    if args.url:
        if not args.api_key:
            raise ValueError("--url needs an API key: set MISSIONCTL_AGENT_API_KEY (or --api-key)")
        from missionctl_agent.sinks.http_sink import HttpSink

        return HttpSink(args.url, args.api_key, timeout_s=args.http_timeout)
    if args.kinesis_stream:
        from missionctl_agent.sinks.kinesis_sink import KinesisSink

        return KinesisSink(args.kinesis_stream, region_name=args.kinesis_region,
                           endpoint_url=args.kinesis_endpoint_url)
    raise ValueError("no sink: give --url (with an API key), --kinesis-stream or --stdout")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.watch is None:
        args.watch = (env("WATCH") or "").split()
    if args.app_metrics_url is None:
        args.app_metrics_url = (env("APP_METRICS_URL") or "").split()
    configure_logging(args.log_level, args.api_key)
    try:
        targets = watch_targets(args.watch, args.app_metrics_url)
        sink = build_sink(args)
    except ImportError as exc:
        parser.error(f"{exc}; install the agent with the 'kinesis' extra: pip install 'missionctl-agent[kinesis]'")
    except ValueError as exc:
        parser.error(str(exc))

    # --stdout never fails, so it needs no disk buffer: keep it in memory.
    try:
        buffer = DiskBuffer(":memory:" if args.stdout else args.buffer_path, max_bytes=args.buffer_max_bytes)
    except (OSError, sqlite3.Error) as exc:
        parser.error(f"cannot open the disk buffer {args.buffer_path}: {exc}")
    agent = Agent(
        sampler=Sampler(args.host_name, args.interval),
        probes=[WebAppProbe(t, timeout_s=args.http_timeout) for t in targets],
        shipper=Shipper(buffer, sink),
        interval_s=args.interval,
        flush_timeout_s=args.flush_timeout,
    )
    if args.once:
        agent.warm_up(min(ONCE_WARM_UP_S, args.interval))
        return 1 if agent.run_once() else 0

    stop = threading.Event()
    received: list[str] = []

    def request_stop(signum: int, _frame: object) -> None:
        # Only set a flag here: the loop notices it between ticks, and the
        # HTTP call in flight (bounded by --http-timeout) finishes first.
        received.append(signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    log.info("started: %s every %gs, sending to %s, buffer %s", args.host_name, args.interval,
             _describe(sink), buffer.path)
    agent.run(stop)
    log.info("stopped%s", f" on {received[0]}" if received else "")
    return 0


def _describe(sink: object) -> str:
    if getattr(sink, "name", "") == "http":
        return getattr(sink, "url", "http")
    if getattr(sink, "name", "") == "kinesis":
        return f"kinesis stream {getattr(sink, 'stream_name', '?')}"
    return "stdout"


if __name__ == "__main__":
    raise SystemExit(main())
