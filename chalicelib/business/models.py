"""What clients send to the ingest routes, validated by pydantic.

Field names are the contract shared by clients, tests and the SPA (README "Sending data").
Timestamps arrive as epoch milliseconds or ISO-8601 with an offset and leave as epoch ms.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from ..field_types import EpochMs

Id = Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
Text = Annotated[StrictStr, Field(min_length=1, max_length=2048, pattern=r"^[^\x00-\x1f\x7f]+$")]
Currency = Annotated[StrictStr, Field(pattern=r"^[A-Z]{3}$")]
Flat = Union[StrictStr, StrictInt, StrictFloat, StrictBool, None]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def key(self) -> str:
        """The idempotency key: one stored event per key, however often it is delivered."""
        raise NotImplementedError


class Purchase(_Event):
    kind: Literal["purchase"] = "purchase"
    orderId: Id
    productId: Id
    productName: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    amount: Annotated[StrictInt, Field(ge=0, le=10**12, description="minor units: 1999 is 19.99")]
    currency: Currency
    userId: Id
    sessionId: Id | None = None
    timestamp: EpochMs

    @property
    def key(self) -> str:
        return f"purchase#{self.orderId}"


class PageView(_Event):
    kind: Literal["pageview"] = "pageview"
    eventId: Id
    sessionId: Id
    userId: Id | None = None
    page: Text
    referrer: Text | None = None
    timestamp: EpochMs

    @property
    def key(self) -> str:
        return f"pageview#{self.eventId}"


class CustomEvent(_Event):
    kind: Literal["event"] = "event"
    eventId: Id
    name: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    userId: Id
    sessionId: Id | None = None
    feature: Annotated[StrictStr, Field(min_length=1, max_length=64,
                                        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] | None = None
    properties: Annotated[dict[Annotated[str, Field(max_length=64)], Flat],
                          Field(max_length=50)] | None = None
    timestamp: EpochMs

    @property
    def key(self) -> str:
        return f"event#{self.eventId}"


BusinessEvent = Union[Purchase, PageView, CustomEvent]
EVENT_MODELS: dict[str, type[_Event]] = {
    "purchase": Purchase, "pageview": PageView, "event": CustomEvent,
}
MAX_BATCH = 500
