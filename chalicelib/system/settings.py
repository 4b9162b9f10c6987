"""System health's own settings: the HTTP dependencies probed every minute."""
from __future__ import annotations

import functools

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .probes import ProbeTarget, parse_probe_targets


class HealthSettings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True)

    #: ``name=url`` pairs, comma-separated (``payments=https://status.example.com/api,cdn=https://
    #: d111.cloudfront.net/``), or a JSON list of ``{"name", "url"}``
    HEALTH_PROBES: str = ""
    HEALTH_PROBE_TIMEOUT_S: float = Field(3.0, gt=0, le=10)

    @field_validator("HEALTH_PROBES")
    @classmethod
    def _probes(cls, value: str) -> str:
        parse_probe_targets(value)  # refuse a malformed setting at start, naming it
        return value

    @property
    def probes(self) -> list[ProbeTarget]:
        return parse_probe_targets(self.HEALTH_PROBES)


@functools.cache
def health_settings() -> HealthSettings:
    return HealthSettings()
