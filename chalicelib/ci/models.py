"""What the CI console's API accepts (pydantic)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..field_types import matching, printable

RepoName = matching(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}", "owner/name", 201)
STATUSES = ("requested", "waiting", "pending", "queued", "in_progress", "completed")
CONCLUSIONS = ("success", "failure", "cancelled", "skipped", "neutral", "timed_out", "action_required",
               "startup_failure", "stale")


class RunFilters(BaseModel):
    """``GET /api/repos/{owner}/{repo}`` query: filters, a page size and the cursor of a page."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    workflow: printable(255) | None = None
    branch: printable(255) | None = None
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    conclusion: Literal[CONCLUSIONS] | None = None  # type: ignore[valid-type]
    limit: int = Field(25, ge=1, le=100)
    cursor: printable(2000) | None = None


class NotificationPreferences(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: notify when a run of a pinned repository fails / recovers
    onFailure: bool = True
    onRecovery: bool = False
    #: only runs on the default branch
    defaultBranchOnly: bool = True


class Preferences(BaseModel):
    """A user's settings: which repositories they watch, which come first, how the SPA looks
    and refreshes, what they are told. Stored per user; one never reads another's."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    selectedRepos: list[RepoName] = Field(default_factory=list, max_length=200)  # type: ignore[valid-type]
    pinnedRepos: list[RepoName] = Field(default_factory=list, max_length=50)  # type: ignore[valid-type]
    theme: Literal["system", "light", "dark"] = "system"
    #: seconds between refreshes of the CI page; 0: off (pushed updates still arrive)
    autoRefreshS: Literal[0, 15, 30, 60, 300] = 30
    notifications: NotificationPreferences = Field(default_factory=NotificationPreferences)
