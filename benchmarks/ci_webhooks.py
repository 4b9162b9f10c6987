"""CI webhooks: time per delivery (signature, parse, ordering check, one transaction) against
the same transaction made straight on the bare engine, and a repository's runs page read with
a few and with many runs stored (a page must cost the same: no scan). Never run as a test.

    .venv/bin/python -m benchmarks.ci_webhooks [--engine sqlite|dynamodb] [--runs 200,5000]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from benchmarks.run import engine_workdir, open_engine

SAMPLE = Path(__file__).resolve().parents[1] / "tests/fixtures/shared-data/github-webhooks/workflow_run/completed.payload.json"
SECRET = b"bench-secret"


def bodies(n: int, start: int, repo: str) -> list[bytes]:
    base = json.loads(SAMPLE.read_bytes())
    base["repository"]["full_name"] = repo
    out = []
    for i in range(start, start + n):
        run = base["workflow_run"]
        run.update(id=10_000_000 + i, created_at=_iso(1_700_000_000_000 + i * 60_000),
                   updated_at=_iso(1_700_000_000_000 + i * 60_000 + 50_000),
                   run_started_at=_iso(1_700_000_000_000 + i * 60_000 + 5_000))
        out.append(json.dumps(base).encode())
    return out


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def deliver_all(intake, payloads: list[bytes]) -> list[float]:
    from chalicelib import bounded_json
    from chalicelib.ci.signature import is_valid, sign
    times = []
    for i, body in enumerate(payloads):
        header = sign(SECRET, body)
        started = time.perf_counter()
        assert is_valid(SECRET, body, header)
        status, _ = intake.receive("workflow_run", f"bench-{time.time_ns()}-{i}", bounded_json.parse(body, 25 << 20, 64))
        times.append(time.perf_counter() - started)
        assert status == 200
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="sqlite", choices=("sqlite", "dynamodb"))
    parser.add_argument("--runs", default="200,5000")
    args = parser.parse_args()
    from chalicelib.ci.intake import Intake
    from chalicelib.ci.repository import CiRepository
    from chalicelib.ci.settings import CiSettings
    from chalicelib.storage import Put
    with engine_workdir(args.engine) as workdir:
        store = open_engine(args.engine, workdir, "ci")
        repo = CiRepository(store, 30 * 86_400_000)
        intake = Intake(repo, CiSettings(), "UTC", lambda: int(time.time() * 1000))
        rows, stored = [], 0
        for size in (int(s) for s in args.runs.split(",")):
            deliver_all(intake, bodies(size - stored, stored, "bench/many"))
            stored = size
            probe = deliver_all(intake, bodies(50, 1_000_000 + size, "bench/probe"))
            bare = []
            for i in range(50):
                item = {"pk": f"bare#{size}#{i}", "sk": "x", "payload": "y" * 600}
                started = time.perf_counter()
                store.transact([Put("ci", {"pk": f"delivery#bare-{size}-{i}", "sk": "delivery"}),
                                Put("ci_runs", item)])
                bare.append(time.perf_counter() - started)
            reads = []
            for _ in range(20):
                started = time.perf_counter()
                page = repo.runs_page("bench/many", 25, None)
                reads.append(time.perf_counter() - started)
                assert len(page.items) == 25
            rows.append({"runs stored": size, "delivery ms (median)": round(statistics.median(probe) * 1000, 2),
                         "bare 2-item transaction ms": round(statistics.median(bare) * 1000, 2),
                         "runs page ms (median of 20)": round(statistics.median(reads) * 1000, 2)})
        print(json.dumps({"engine": args.engine, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
