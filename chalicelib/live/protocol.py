"""What a client sends over the socket, validated by pydantic, and the notices it receives.

    {"action": "subscribe", "topics": ["kpis", "alerts"]}   → {"type": "subscribed", ...}
    {"action": "renew", "token": "<jwt>"}                    → {"type": "renewed", "expiresAt": ms}
    ← {"type": "changed", "topic": "kpis", "etag": "\"...\""}
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictStr, TypeAdapter


class Subscribe(BaseModel):
    """Replaces the connection's topics with ``topics`` (the page's)."""
    model_config = ConfigDict(extra="forbid")
    action: Literal["subscribe"]
    topics: Annotated[list[Annotated[StrictStr, Field(max_length=160)]], Field(max_length=90)]


class Renew(BaseModel):
    """Replaces the connection's token (the SPA renewed it); same user only."""
    model_config = ConfigDict(extra="forbid")
    action: Literal["renew"]
    token: Annotated[StrictStr, Field(min_length=1, max_length=8192)]


Message = Annotated[Union[Subscribe, Renew], Field(discriminator="action")]
MESSAGE = TypeAdapter(Message)


def changed(topic: str, etag: str | None) -> dict:
    return {"type": "changed", "topic": topic, "etag": etag}


def error(code: str, message: str, details: list | None = None) -> dict:
    """The app's one error shape, as a socket message."""
    return {"type": "error", "error": {"code": code, "message": message, "details": details or []}}
