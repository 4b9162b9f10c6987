"""Insights settings, from the environment (prefix ``INSIGHTS_``), read once per process."""
from __future__ import annotations

import functools
import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class InsightsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INSIGHTS_", frozen=True)

    #: the metrics table's DynamoDB stream (set per stage on AWS; locally the worker delivers
    #: the change log of ``<TABLE_PREFIX>metrics`` to the handler registered on this ARN)
    metrics_stream_arn: str = Field(default_factory=lambda: (
        "arn:aws:dynamodb:local:000000000000:table/"
        f"{os.environ.get('TABLE_PREFIX', 'mission-control-dev-')}metrics/stream/local"))
    #: how long insights are kept (TTL), days
    retention_days: int = Field(180, ge=1, le=3650)
    #: an anomaly insight closes after this long without an anomalous point, ms
    close_after_ms: int = Field(300_000, ge=10_000, le=86_400_000)
    #: onsets of one kind on this many hosts within ``pattern_window_ms`` make one pattern
    pattern_min_hosts: int = Field(3, ge=2, le=100)
    pattern_window_ms: int = Field(300_000, ge=10_000, le=3_600_000)
    #: forecasts further out than this are not reported, hours
    forecast_horizon_hours: int = Field(168, ge=1, le=24 * 90)


@functools.cache
def insights_settings() -> InsightsSettings:
    return InsightsSettings()
