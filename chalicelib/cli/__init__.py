"""missionctl: the operator's command line (tables, demo data, the local runtime, tokens and
API keys)."""
from __future__ import annotations

import argparse
import os
import sys


def progress_bar(total: float, desc: str, unit: str = "it"):
    """A progress bar on a terminal; silent in CI and when output is not a terminal."""
    from tqdm import tqdm  # dev-only dependency, imported when a long operation starts
    quiet = bool(os.environ.get("CI")) or not sys.stderr.isatty()
    return tqdm(total=total, desc=desc, unit=unit, disable=quiet, leave=False,
                dynamic_ncols=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="missionctl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    tables = commands.add_parser("tables", help="storage tables").add_subparsers(
        dest="action", required=True)
    create = tables.add_parser("create", help="create the tables of the configured store (idempotent)")
    create.add_argument("--stage", help="take STORE and TABLE_PREFIX from this stage of "
                                        ".chalice/config.json (e.g. prod)")

    demo = commands.add_parser("demo", help="demo data").add_subparsers(dest="action", required=True)
    load = demo.add_parser("load", help="load days of realistic demo history")
    load.add_argument("--days", type=int, default=45, help="days of history (30 to 400)")
    load.add_argument("--seed", type=int, default=7)
    load.add_argument("--if-empty", action="store_true", help="do nothing if data exists")

    run = commands.add_parser("run", help="start the product locally (API, SPA, worker)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--no-live", action="store_true", help="no synthetic live traffic")
    run.add_argument("--no-agent", action="store_true", help="no collector agent for this machine")
    run.add_argument("--verbose", action="store_true", help="the server logs a line per request")
    run.add_argument("--ws-port", type=int, default=None, help="the WebSocket API's port (default: --port + 1)")

    token = commands.add_parser("token", help="print a demo user's access token (dev stage only)")
    token.add_argument("--role", default="viewer", help="viewer, operator or admin")
    token.add_argument("--minutes", type=int, default=15, help="lifetime, 1 to 720 (default 15)")
    token.add_argument("--issuer", help="issuer URL (default: the one the running product trusts)")

    apikey = commands.add_parser("apikey", help="API keys for ingestion").add_subparsers(
        dest="action", required=True)
    new_key = apikey.add_parser("create", help="create a key and print it (only this once)")
    new_key.add_argument("--scope", action="append", required=True, dest="scopes",
                         help="ingest:business or ingest:metrics (repeat for both)")
    new_key.add_argument("--name", help="what the key is for")
    apikey.add_parser("list", help="every key: id, scopes, created, last used, revoked")
    revoke = apikey.add_parser("revoke", help="revoke a key (refused everywhere within seconds)")
    revoke.add_argument("key_id", metavar="ID")

    events = commands.add_parser("events", help="the local EventBridge bus").add_subparsers(
        dest="action", required=True)
    put_event = events.add_parser("put", help="put an event on the local bus; the running worker "
                                              "delivers it to every on_cw_event handler it matches")
    put_event.add_argument("--file", required=True, help="a JSON event (as EventBridge delivers it, or a "
                                                         "PutEvents entry); - reads standard input")

    ci = commands.add_parser("ci", help="the CI console (GitHub Actions)").add_subparsers(dest="action", required=True)
    backfill = ci.add_parser("backfill", help="fetch the recent runs of every repository the GitHub App sees")
    backfill.add_argument("--installation", type=int, help="one installation id (default: all of the App's)")
    backfill.add_argument("--runs", type=int, help="runs per repository (default: CI_BACKFILL_RUNS)")

    args = parser.parse_args(argv)
    from ..config import ConfigError
    try:
        if args.command == "tables":
            from .commands import create_tables
            return create_tables(args.stage)
        if args.command == "demo":
            from .commands import load_demo
            return load_demo(args.days, args.seed, args.if_empty)
        if args.command == "events":
            from .commands import put_event
            return put_event(args.file)
        if args.command == "token":
            from .access_commands import print_token
            return print_token(args.role, args.minutes, args.issuer)
        if args.command == "apikey":
            from . import access_commands
            if args.action == "create":
                return access_commands.create_api_key(args.scopes, args.name)
            if args.action == "list":
                return access_commands.list_api_keys()
            return access_commands.revoke_api_key(args.key_id)
        if args.command == "ci":
            from .commands import ci_backfill
            return ci_backfill(args.installation, args.runs)
        from ..local.runner import run_local
        return run_local(args.host, args.port, live=not args.no_live, agent=not args.no_agent,
                         verbose=args.verbose, ws_port=args.ws_port)
    except ConfigError as exc:
        print(f"missionctl: {exc}", file=sys.stderr)
        return 2
