"""What clients send to the incidents API (pydantic). Responses are plain dicts built by the
feature (``workflow``)."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..field_types import EpochMs
from ..severity import Severity
from .lifecycle import STATUSES

Status = Literal[STATUSES]  # type: ignore[valid-type]
_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DeclareIncident(_Strict):
    """``POST /api/incidents``: a person declares an incident."""

    title: str = Field(min_length=1, max_length=200, pattern=_TEXT)
    severity: Severity
    service: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:/ -]+$")
    description: str = Field("", max_length=5000, pattern=_TEXT)


class ChangeIncident(_Strict):
    """``PATCH /api/incidents/{id}``: any of these; absent fields stay as they are."""

    status: Optional[Status] = None
    assignee: Optional[str] = Field(None, max_length=200, pattern=_TEXT)
    severity: Optional[Severity] = None
    title: Optional[str] = Field(None, min_length=1, max_length=200, pattern=_TEXT)

    @field_validator("assignee")
    @classmethod
    def _blank_is_nobody(cls, value: str | None) -> str | None:
        return value or None


class AddNote(_Strict):
    text: str = Field(min_length=1, max_length=5000, pattern=_TEXT)


class PromoteInsight(_Strict):
    """``POST /api/insights/{id}/incident``: the title and service default to the insight's."""

    title: Optional[str] = Field(None, min_length=1, max_length=200, pattern=_TEXT)
    severity: Optional[Severity] = None
    service: Optional[str] = Field(None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:/ -]+$")


class IncidentQuery(_Strict):
    status: Optional[Status] = None
    severity: Optional[Severity] = None
    service: Optional[str] = Field(None, max_length=100)
    since: Optional[EpochMs] = None
    limit: int = Field(50, ge=1, le=200)
    cursor: Optional[str] = Field(None, max_length=2000)
