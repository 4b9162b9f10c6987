"""The CI console's own settings, from the environment (per stage in .chalice/config.json).

Secrets are not settings: the webhook secret and the App's private key come through
``secrets.py`` (the environment or a 0600 file locally, Secrets Manager on AWS).
"""
from __future__ import annotations

import functools

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: GitHub's own limit on a webhook delivery's body
GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024


class CiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=True, extra="ignore", frozen=True)

    #: the REST API the App client talks to; tests point it at a loopback server
    GITHUB_API_URL: str = "https://api.github.com"
    #: the GitHub App's numeric id (the JWT's ``iss``); empty: no App client (webhooks still work)
    GITHUB_APP_ID: str = ""
    #: locally: the App's private key (PEM) file; on AWS the key comes from Secrets Manager
    GITHUB_APP_PRIVATE_KEY_FILE: str = ""
    #: how long a cached run, its jobs and a delivery id are kept (the seed's 30 days)
    CI_RUN_TTL_DAYS: int = Field(30, ge=1, le=400)
    #: workflows whose runs are deploys (comma-separated names); any workflow whose name
    #: contains "deploy" is one as well
    CI_DEPLOY_WORKFLOWS: str = ""
    #: runs fetched per repository by a backfill (GitHub pages of up to 100)
    CI_BACKFILL_RUNS: int = Field(50, ge=1, le=1000)
    #: the most the client waits out one rate limit before giving up (seconds)
    GITHUB_MAX_BACKOFF_S: float = Field(60.0, ge=0, le=3600)
    GITHUB_TIMEOUT_S: float = Field(10.0, gt=0, le=60)

    @property
    def run_ttl_ms(self) -> int:
        return self.CI_RUN_TTL_DAYS * 86_400_000

    def is_deploy(self, workflow_name: str) -> bool:
        named = {n.strip().lower() for n in self.CI_DEPLOY_WORKFLOWS.split(",") if n.strip()}
        name = workflow_name.lower()
        return name in named or "deploy" in name


@functools.cache
def ci_settings() -> CiSettings:
    return CiSettings()
