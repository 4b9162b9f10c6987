"""What admins send to the key routes, validated by pydantic."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from .api_keys import INGEST_SCOPES

Scope = Literal[INGEST_SCOPES]  # type: ignore[valid-type]  (the tuple's values, one source)


class NewApiKey(BaseModel):
    """``POST /api/keys``: ``{"scopes": ["ingest:business"], "name": "shop backend"}``."""
    model_config = ConfigDict(extra="forbid")

    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(INGEST_SCOPES))]
    name: Annotated[StrictStr, Field(min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$")]
