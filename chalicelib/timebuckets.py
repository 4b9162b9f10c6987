"""Time buckets in the team time zone. Pure functions; times are UTC epoch milliseconds.

Minute buckets are UTC minutes (every zone's offset is a whole number of minutes); hour and
day buckets start at the local hour and local midnight, so "today" and "yesterday" follow
`TEAM_TIMEZONE`, across daylight-saving changes (a local day may last 23 or 25 hours).
"""
from __future__ import annotations

import functools
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000

GRANULARITIES = ("m", "h", "d")


def minute_start(ts_ms: int) -> int:
    return ts_ms - ts_ms % MINUTE_MS


@functools.lru_cache(maxsize=65_536)
def _hour_of_minute(minute_ms: int, tz_name: str) -> int:
    local = datetime.fromtimestamp(minute_ms / 1000, ZoneInfo(tz_name))
    return int(local.replace(minute=0, second=0, microsecond=0).timestamp() * 1000)


def hour_start(ts_ms: int, tz_name: str) -> int:
    """Start of the local hour holding ``ts_ms``."""
    return _hour_of_minute(minute_start(ts_ms), tz_name)


@functools.lru_cache(maxsize=8_192)
def _day_of_hour(hour_ms: int, tz_name: str) -> tuple[int, str]:
    local = datetime.fromtimestamp(hour_ms / 1000, ZoneInfo(tz_name))
    return day_start_of_date(local.date(), tz_name), local.date().isoformat()


def day_start(ts_ms: int, tz_name: str) -> int:
    """Start (local midnight) of the local day holding ``ts_ms``."""
    return _day_of_hour(hour_start(ts_ms, tz_name), tz_name)[0]


def local_date(ts_ms: int, tz_name: str) -> str:
    """The local calendar date holding ``ts_ms``, as YYYY-MM-DD."""
    return _day_of_hour(hour_start(ts_ms, tz_name), tz_name)[1]


@functools.lru_cache(maxsize=8_192)
def day_start_of_date(day: date | str, tz_name: str) -> int:
    """Local midnight of a calendar date, as epoch ms."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz_name))
    return int(midnight.timestamp() * 1000)


def bucket_start(ts_ms: int, granularity: str, tz_name: str) -> int:
    if granularity == "m":
        return minute_start(ts_ms)
    if granularity == "h":
        return hour_start(ts_ms, tz_name)
    if granularity == "d":
        return day_start(ts_ms, tz_name)
    raise ValueError(f"unknown granularity {granularity!r}")


def days_back(today: str, n: int) -> list[str]:
    """The ``n`` local dates ending with ``today``, oldest first."""
    end = date.fromisoformat(today)
    return [(end - timedelta(days=i)).isoformat() for i in range(n - 1, -1, -1)]


def shift_date(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def iso_utc(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, timezone.utc).isoformat().replace("+00:00", "Z")
