"""The insights feed and operators' verdicts: what the routes call, one function each."""
from __future__ import annotations

from typing import Any, Mapping, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import Conflict, InvalidInput, NotFound, pydantic_details
from ..storage import InvalidCursor, TransactionCancelled, VersionConflict
from .detector import Detector
from .models import FeedbackRequest, InsightQuery
from .repository import InsightsRepository, drop_keys
from .tracking import threshold_for

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any, what: str) -> M:
    """``data`` as ``model``, or a 400 naming each refused field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"the {what} was refused", pydantic_details(exc)) from None


def list_insights(repo: InsightsRepository, params: Mapping[str, str]) -> dict[str, Any]:
    query = parse(InsightQuery, dict(params), "query")
    try:
        items, cursor = repo.page(**query.model_dump())
    except InvalidCursor:
        raise InvalidInput("the cursor does not belong to this query",
                           [{"field": "cursor", "message": "use the cursor of the previous page as given"}]) from None
    return {"insights": drop_keys(items), "cursor": cursor}


def give_feedback(repo: InsightsRepository, insight_id: str, body: Any) -> dict[str, Any]:
    """Record a verdict. A dismissal of an anomaly makes its series less sensitive (its
    threshold moves halfway to 1); confirming it, or dismissing and then confirming, takes
    that back. The answer shows the series' threshold, so the effect is visible."""
    verdict = parse(FeedbackRequest, body, "feedback").verdict
    for _attempt in range(3):
        insight = repo.get(insight_id)
        if insight is None:
            raise NotFound(f"no insight {insight_id!r}")
        previous = insight.get("feedback")
        delta = 0
        if insight["type"] == "anomaly":
            delta = (verdict == "dismiss") - (previous == "dismiss")
        try:
            updated = repo.record_feedback(insight, verdict, delta)
        except (VersionConflict, TransactionCancelled):
            continue  # the stream or another operator wrote it meanwhile: read again
        out: dict[str, Any] = {"insight": drop_keys([updated])[0]}
        if insight.get("host"):
            dismissals = repo.dismissals(insight["host"], insight["kind"], insight["metric"])
            out["series"] = {"host": insight["host"], "metric": insight["metric"], "dismissals": dismissals,
                             "threshold": round(threshold_for(Detector().threshold, dismissals), 4)}
        return out
    raise Conflict("the insight kept changing; try again")
