"""Settings from the environment, read once per process.

`.chalice/config.json` sets these per stage for Lambda; the local runner sets them for
`chalice local`; tests set them before building the app.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    stage: str
    store: str  # "sqlite:<path>" or "dynamodb"
    table_prefix: str
    team_timezone: str
    reporting_currency: str
    #: how far back an event may be dated; day roll-ups are kept this long
    rollup_retention_days: int
    #: shards per roll-up counter, so no single item takes more than ~100 writes/s
    rollup_shards: int
    spa_dir: str | None
    #: how long raw metric samples and their roll-ups are kept (TTL)
    metrics_retention_days: int
    #: the Kinesis stream the collectors write to (AWS); its consumer is the same ingest code
    metrics_stream: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.team_timezone)


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is outside {low}..{high}")
    return value


@functools.cache
def settings() -> Settings:
    tz = os.environ.get("TEAM_TIMEZONE", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TEAM_TIMEZONE={tz!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    currency = os.environ.get("REPORTING_CURRENCY", "USD").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ConfigError(f"REPORTING_CURRENCY={currency!r} is not an ISO 4217 code (e.g. USD)")
    store = os.environ.get("STORE", "sqlite:.data/mission-control.db")
    if not (store == "dynamodb" or (store.startswith("sqlite:") and len(store) > 7)):
        raise ConfigError(f"STORE={store!r}: use sqlite:<path> or dynamodb")
    return Settings(
        stage=os.environ.get("STAGE", "dev"),
        store=store,
        table_prefix=os.environ.get("TABLE_PREFIX", "mission-control-dev-"),
        team_timezone=tz,
        reporting_currency=currency,
        rollup_retention_days=_int("ROLLUP_RETENTION_DAYS", 400, 35, 3650),
        rollup_shards=_int("ROLLUP_SHARDS", 8, 1, 64),
        spa_dir=os.environ.get("SPA_DIR") or None,
        metrics_retention_days=_int("METRICS_RETENTION_DAYS", 90, 1, 3650),
        metrics_stream=os.environ.get("METRICS_STREAM", "mission-control-metrics"),
    )
