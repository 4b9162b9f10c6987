"""The incidents feature's own settings, from the environment (per stage in .chalice/config.json)."""
from __future__ import annotations

import functools

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..severity import Severity


class IncidentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INCIDENTS_", case_sensitive=False, extra="ignore",
                                      frozen=True)

    #: an alarm firing again within this many minutes of its incident's resolution reopens it;
    #: later, it opens a new incident
    reopen_window_minutes: int = Field(30, ge=0, le=7 * 24 * 60)
    #: an alarm's OK resolves its incident, unless a person has taken the incident on
    auto_resolve: bool = True
    #: the severity of an incident a CloudWatch alarm opens (an alarm event carries none)
    alarm_severity: Severity = "HIGH"
    #: how long the marks that make a redelivered event change nothing are kept, days
    #: (EventBridge retries for at most 24 h)
    event_marks_days: int = Field(7, ge=1, le=90)
    #: revenue impact: an hour whose same hour last week had fewer orders than this claims nothing
    revenue_min_orders: int = Field(20, ge=1, le=1_000_000)

    @property
    def reopen_window_ms(self) -> int:
        return self.reopen_window_minutes * 60_000


@functools.cache
def incident_settings() -> IncidentSettings:
    return IncidentSettings()
