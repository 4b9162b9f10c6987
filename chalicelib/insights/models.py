"""Insights' request models (pydantic). Severities come from the shared vocabulary."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from ..severity import Severity

InsightType = Literal["anomaly", "prediction", "pattern"]
Verdict = Literal["confirm", "dismiss"]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Verdict


class InsightQuery(BaseModel):
    """``GET /api/insights`` query parameters; every filter optional."""

    model_config = ConfigDict(extra="forbid")

    severity: Severity | None = None
    type: InsightType | None = None
    host: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = None
    metric: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = None
    #: epoch ms; only insights that started at or after it
    since: Annotated[int, Field(ge=0, le=9_999_999_999_999)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[StrictStr, Field(max_length=2000)] | None = None
