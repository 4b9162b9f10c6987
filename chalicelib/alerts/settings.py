"""The alerting feature's own settings, from the environment (per stage in .chalice/config.json).

Only what alerting needs lives here; ``chalicelib.config`` keeps what every feature shares
(stage, store, ``TEAM_TIMEZONE``).
"""
from __future__ import annotations

import functools
import os
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .durations import parse_duration_ms


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=True, extra="ignore",
                                      frozen=True)

    #: the SNS topic evaluation publishes to; its ARN is found from the Lambda's account and
    #: region unless ALERTS_TOPIC_ARN says it
    ALERTS_TOPIC: str = Field("mission-control-alerts", pattern=r"^[A-Za-z0-9_-]{1,256}$")
    ALERTS_TOPIC_ARN: str | None = None
    #: ``sns``: publish to the topic (AWS); ``local``: the local worker's topic emulation. Empty:
    #: ``sns`` on Lambda, ``local`` elsewhere.
    NOTIFY_VIA: Literal["sns", "local", ""] = ""
    #: how often a firing alert that nobody acknowledged is sent again
    ALERT_REPEAT_INTERVAL: str = "4h"
    #: how long resolved alerts, their history and the notification log are kept
    ALERT_HISTORY_DAYS: int = Field(30, ge=1, le=400)
    #: links in notifications point here (the SPA), e.g. https://dashboard.example.com
    DASHBOARD_URL: str = ""
    #: each delivery to Slack or a webhook: attempts, first back-off, per-attempt timeout
    NOTIFY_ATTEMPTS: int = Field(3, ge=1, le=6)
    NOTIFY_BACKOFF_S: float = Field(1.0, ge=0, le=30)
    NOTIFY_TIMEOUT_S: float = Field(5.0, gt=0, le=20)

    @field_validator("ALERT_REPEAT_INTERVAL")
    @classmethod
    def _repeat(cls, value: str) -> str:
        ms = parse_duration_ms(value)
        if not 60_000 <= ms <= 7 * 86_400_000:
            raise ValueError("must be between 1m and 168h")
        return value

    @property
    def repeat_interval_ms(self) -> int:
        return parse_duration_ms(self.ALERT_REPEAT_INTERVAL)

    @property
    def history_ms(self) -> int:
        return self.ALERT_HISTORY_DAYS * 86_400_000

    @property
    def transport(self) -> str:
        if self.NOTIFY_VIA:
            return self.NOTIFY_VIA
        return "sns" if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else "local"


@functools.cache
def alert_settings() -> AlertSettings:
    return AlertSettings()
