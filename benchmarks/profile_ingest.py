"""Where the time of one 500-purchase batch goes: cProfile of ``POST /api/ingest/purchase``
through the app (validation, access check, ingest, store), top 15 by cumulative time.

    .venv/bin/python -m benchmarks.profile_ingest [--engine sqlite|dynamodb] [--backfill]

A few warm-up batches run first (imports, caches, the JWKS and key lookups), so the profile
shows the steady state of a live writer.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time

from benchmarks.run import client_on, engine_workdir, live_purchases, open_engine, purchases


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "dynamodb"], default="sqlite")
    parser.add_argument("--backfill", action="store_true",
                        help="events spread over 29 days instead of the last 10 minutes")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    make = purchases if args.backfill else live_purchases
    now = int(time.time() * 1000)
    with engine_workdir(args.engine) as workdir:
        store = open_engine(args.engine, workdir, "profile")
        with client_on(store) as client:
            def post(start: int) -> None:
                reply = client.http.post("/api/ingest/purchase",
                                         headers={"content-type": "application/json"},
                                         body=json.dumps(make(500, start, now)))
                assert reply.status_code == 200, reply.body
            for warm in range(4):
                post(warm * 500)
            profiler = cProfile.Profile()
            profiler.enable()
            post(10_000)
            profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    # Chalice's middleware frames all carry the whole request: show the project's own
    # functions (and the store's) by cumulative time, then everything by own time.
    print("== by cumulative time, chalicelib only ==", file=out)
    stats.sort_stats("cumulative").print_stats(r"ingest|rollup|repository|engine|models|batches|"
                                                r"routes|gate|web", args.top)
    print("== by own time ==", file=out)
    stats.sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
