"""Live push settings, from the environment (prefix ``LIVE_``), read once per process."""
from __future__ import annotations

import functools
import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .topics import TABLE_TOPICS


def _local_stream_arns() -> dict[str, str]:
    prefix = os.environ.get("TABLE_PREFIX", "mission-control-dev-")
    return {table: f"arn:aws:dynamodb:local:000000000000:table/{prefix}{table}/stream/local"
            for table in TABLE_TOPICS}


class LiveSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIVE_", frozen=True)

    #: the WebSocket URL browsers connect to (the SPA's config.json ``websocketUrl``); on AWS
    #: the WebSocket API's ``wss://<api-id>.execute-api.<region>.amazonaws.com/<stage>``
    websocket_url: str = ""
    #: logical table → its DynamoDB stream ARN (JSON in ``LIVE_STREAM_ARNS`` per stage on AWS;
    #: locally the worker delivers ``<TABLE_PREFIX><table>``'s change log to the handler)
    stream_arns: dict[str, str] = Field(default_factory=_local_stream_arns)
    #: a connection is kept this long after its token expires, seconds, so a renewal in
    #: flight still finds it; the token's expiry itself is enforced on every send
    grace_s: int = Field(30, ge=0, le=600)
    #: at most this many topics per connection
    max_topics: int = Field(20, ge=1, le=90)


@functools.cache
def live_settings() -> LiveSettings:
    return LiveSettings()
