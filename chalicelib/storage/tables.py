"""The logical tables. Each feature declares its tables here, once; both engines and
`missionctl tables create` and the CloudFormation merge template read this list."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    name: str
    #: emits a change stream (DynamoDB Streams NEW_AND_OLD_IMAGES; the local change log)
    stream: bool = False
    purpose: str = ""


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("events", stream=True,
                  purpose="raw business events; their keys make redelivery idempotent"),
        TableSpec("actors", purpose="per-user and per-session state for distinct counts"),
        TableSpec("rollups", purpose="minute/hour/day counters per shard"),
        TableSpec("stats", purpose="DailyStats: value, previous value, change"),
        TableSpec("metrics", stream=True,
                  purpose="host and web-app samples, 1-minute and 1-hour roll-ups, host registry"),
        TableSpec("insights", stream=True, purpose="anomaly, prediction and pattern insights (TTL 180 days), "
                                      "their severity index and filter pointers, per-series "
                                      "detector states and feedback counts"),
        TableSpec("deadletters", purpose="records that can never succeed, with the reason"),
        TableSpec("system", purpose="schedule runs, worker checkpoints, health"),
        TableSpec("auth", purpose="API keys (hashes only), their last use, per-key ingest rate "
                                  "counters, the dev issuer's single-use codes"),
        TableSpec("alerts", stream=True, purpose="alert rules, open alerts per series, alerts with their "
                                    "history, silences, evaluation marks, the notification outbox"),
        TableSpec("notifications", stream=True, purpose="notification channels (secrets included), the "
                                           "delivery log, per-channel delivery claims"),
        TableSpec("incidents", stream=True,
                  purpose="incidents, their status/severity/service pointers, append-only "
                          "timelines, alarm marks, handled-event marks (TTL)"),
        TableSpec("ci_runs", stream=True,
                  purpose="GitHub Actions runs (TTL 30 days) with their jobs and steps, check "
                          "suites and runs, repositories with their latest run per workflow"),
        TableSpec("ci", purpose="webhook delivery ids, CI health roll-ups, deploy runs by time, "
                                "pending backfills, users' settings"),
        TableSpec("connections", purpose="open WebSocket connections and their topic "
                                         "subscriptions (TTL: the token's expiry)"),
    )
}


def physical_name(prefix: str, table: str) -> str:
    if table not in TABLES:
        raise KeyError(f"unknown table {table!r}; declare it in chalicelib/storage/tables.py")
    return f"{prefix}{table}"
