"""What clients send to the ingest routes, validated by pydantic.

Field names are the contract shared by clients, tests and the SPA (README "Sending data").
Timestamps arrive as epoch milliseconds or ISO-8601 with an offset and leave as epoch ms.
"""
from __future__ import annotations

import json
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictInt, model_validator

from ..field_types import EpochMs, matching, printable, storable_number, storable_text

#: an event as the client sent it, as compact UTF-8 JSON, is at most this many bytes
MAX_EVENT_BYTES = 8192
#: a custom event's property value (a string) is at most this many characters
MAX_PROPERTY_CHARS = 1024
MAX_PROPERTIES = 50

Id = printable(128)
Text = printable(2048)
Currency = matching(r"[A-Z]{3}", "a three-letter ISO 4217 code such as USD", 3)


def _property_value(value: object) -> str | int | float | bool | None:
    """A flat JSON value: text, a number both stores keep, a boolean or null."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if len(value) > MAX_PROPERTY_CHARS:
            raise ValueError(f"a property value holds at most {MAX_PROPERTY_CHARS} characters "
                             f"(this one {len(value):,})")
        return storable_text(value)
    if isinstance(value, (int, float)):
        return storable_number(value)
    raise ValueError("a property value is a string, a number, true, false or null (properties are flat)")


def _json_bytes_at_most(value: object) -> int:
    """An upper bound of ``value``'s size as compact UTF-8 JSON: a character takes at most 6
    bytes (an escape), a number or a literal at most 64."""
    if isinstance(value, str):
        return 6 * len(value) + 2
    if isinstance(value, dict):
        total = 2
        for k, v in value.items():  # a loop, not a recursion per value: this runs per event
            total += 6 * len(k) + 4 + (6 * len(v) + 2 if isinstance(v, str)
                                       else _json_bytes_at_most(v))
        return total
    return 64


PropertyValue = Annotated[Union[str, int, float, bool, None], PlainValidator(_property_value)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _within_size(self):
        """The same bound on both stores (a DynamoDB item holds at most 400 KB)."""
        if _json_bytes_at_most(self.__dict__) <= MAX_EVENT_BYTES:
            return self  # small for sure: spare the dump (half of a batch's validation time)
        size = len(json.dumps(self.model_dump(exclude_none=True, exclude={"kind"}), ensure_ascii=False,
                              separators=(",", ":")).encode())
        if size > MAX_EVENT_BYTES:
            raise ValueError(f"an event is at most {MAX_EVENT_BYTES:,} bytes as JSON (this one {size:,})")
        return self

    @property
    def key(self) -> str:
        """The idempotency key: one stored event per key, however often it is delivered."""
        raise NotImplementedError


class Purchase(_Event):
    kind: Literal["purchase"] = "purchase"
    orderId: Id
    productId: Id
    productName: printable(200)
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
    name: printable(128)
    userId: Id
    sessionId: Id | None = None
    feature: matching(r"[A-Za-z0-9][A-Za-z0-9_.-]*",
                      "letters, digits and . _ - (starting with a letter or digit)", 64) | None = None
    properties: Annotated[dict[printable(64), PropertyValue], Field(max_length=MAX_PROPERTIES)] | None = None
    timestamp: EpochMs

    @property
    def key(self) -> str:
        return f"event#{self.eventId}"


BusinessEvent = Union[Purchase, PageView, CustomEvent]
EVENT_MODELS: dict[str, type[_Event]] = {
    "purchase": Purchase, "pageview": PageView, "event": CustomEvent,
}
MAX_BATCH = 500
