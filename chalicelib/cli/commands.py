from __future__ import annotations

import sys
import time

from . import progress_bar


def stage_environment(stage: str) -> dict[str, str]:
    """A Chalice stage's environment variables (global ones, then the stage's own)."""
    import json
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / ".chalice" / "config.json"
    config = json.loads(path.read_text())
    if stage not in config.get("stages", {}):
        raise SystemExit(f"missionctl: no stage {stage!r} in {path}; stages: {', '.join(config.get('stages', {}))}")
    return {**config.get("environment_variables", {}),
            **config["stages"][stage].get("environment_variables", {})}


def create_tables(stage: str | None = None) -> int:
    import os
    if stage is not None:
        env = stage_environment(stage)
        for name in ("STORE", "TABLE_PREFIX"):
            if name in env:
                os.environ[name] = env[name]
    from ..config import settings
    from ..storage import default_store
    from ..storage.tables import TABLES
    s = settings()
    where = s.store if s.store != "dynamodb" else f"DynamoDB, prefix {s.table_prefix!r}"
    with progress_bar(len(TABLES), "creating tables", "table") as bar:
        def step(done: int, total: int, name: str) -> None:
            bar.n = done
            bar.set_postfix_str(name)
            bar.refresh()
        default_store().ensure_tables(progress=step)
    print(f"tables ready ({len(TABLES)}) in {where}")
    return 0


def load_demo(days: int, seed: int, if_empty: bool) -> int:
    from ..business import policy, repository
    from ..local.demo_load import demo_history, has_business_data
    if not 30 <= days <= 400:
        print("missionctl: --days must be between 30 and 400", file=sys.stderr)
        return 2
    repo = repository()
    if if_empty and has_business_data(repo):
        print("demo data: the store already has data; nothing loaded")
        return 0
    started = time.perf_counter()
    with progress_bar(days, f"loading {days} days of demo data", "day") as bar:
        total = demo_history(repo, policy(), days, seed, on_progress=lambda d: bar.update(d - bar.n))
    took = time.perf_counter() - started
    print(f"demo data: {total:,} events over {days} days in {took:.1f} s")
    return 0


def put_event(path: str) -> int:
    """``missionctl events put --file event.json``: onto the local bus, as PutEvents does."""
    import json
    from pathlib import Path

    from ..local.event_bus import BadEvent, LocalEventBus, envelope
    from ..storage import default_store
    try:
        raw = sys.stdin.read() if path == "-" else Path(path).read_text()
        event = json.loads(raw)
    except (OSError, ValueError) as exc:
        print(f"missionctl: cannot read an event from {path}: {exc}", file=sys.stderr)
        return 2
    events = event if isinstance(event, list) else [event]
    try:  # every event checked before any is put: all or nothing, as a PutEvents call
        whole = [envelope(e if isinstance(e, dict) else {}, time.time()) for e in events]
    except BadEvent as exc:
        print(f"missionctl: {exc}", file=sys.stderr)
        return 2
    bus = LocalEventBus(default_store())
    for event in whole:
        print(f"put event {bus.put(event)} on the local bus")
    return 0


def ci_backfill(installation: int | None, runs: int | None) -> int:
    """Store the recent runs of every repository the App's installations see (a bar per
    installation on a terminal, quiet in CI); the same write path as webhooks."""
    from ..ci import github_client, run_intake
    from ..ci.backfill import backfill_installation
    from ..ci.github import GitHubError
    from ..ci.secrets import SecretUnavailable
    from ..ci.settings import ci_settings
    from ..errors import DomainError
    per_repo = runs or ci_settings().CI_BACKFILL_RUNS
    if not 1 <= per_repo <= 1000:
        print("missionctl: --runs must be between 1 and 1000", file=sys.stderr)
        return 2
    try:
        client = github_client()
        installations = [installation] if installation else client.installations()
        writer = run_intake()
        totals = {"repos": 0, "runs": 0, "stored": 0, "jobs": 0}
        for installation_id in installations:
            with progress_bar(0, f"backfilling installation {installation_id}", "repo") as bar:
                def step(repo: str, count: int) -> None:
                    bar.total = (bar.total or 0) + 1
                    bar.set_postfix_str(f"{repo}: {count} runs")
                    bar.update(1)
                counts = backfill_installation(client, writer, installation_id, per_repo, step)
            totals = {k: totals[k] + counts[k] for k in totals}
    except (DomainError, GitHubError, SecretUnavailable) as exc:
        print(f"missionctl: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    print(f"backfill: {totals['runs']} runs from {totals['repos']} repositories, {totals['stored']} new or newer, "
          f"{totals['jobs']} jobs")
    return 0
