"""Field types that more than one feature's models use (pydantic). Features never import each
other's models; what they share lives here.

- ``EpochMs``: a time as epoch milliseconds, or ISO-8601 with an offset, stored as epoch ms;
  ``now_ms()``: the clock every feature reads, in the same unit.
- ``printable(max)``: text a person reads (ids, names, pages, keys): no control characters.
- ``StorableNumber`` and ``StorableText``: what both stores keep alike. DynamoDB refuses NaN and
  the infinities, numbers beyond ~1e125 or below ~1e-130 in magnitude, and text that is not
  UTF-8 (an unpaired UTF-16 surrogate such as ``"\\ud800"`` has no UTF-8 form); SQLite would
  keep them, so the API refuses them before either store sees them.

Their messages speak the API's language: a ``ValueError``'s message is what the client reads
(``errors.pydantic_details`` drops pydantic's "Value error, " prefix).
"""
from __future__ import annotations

import math
import re
import time
from datetime import datetime
from typing import Annotated, Union

from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, StrictStr

# 2001-09-09 .. 2286-11-20 in ms: anything outside is almost surely seconds or microseconds.
MIN_EPOCH_MS, MAX_EPOCH_MS = 1_000_000_000_000, 9_999_999_999_999
#: a stored number is 0 or within these magnitudes: well inside DynamoDB's (1e-130 .. 1e126), so
#: the sums a roll-up keeps stay inside them too, and roomy for any real metric (a petabyte is 1e15)
MAX_NUMBER, MIN_NONZERO_NUMBER = 1e18, 1e-100

def now_ms() -> int:
    """The current time, UTC epoch milliseconds."""
    return int(time.time() * 1000)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _epoch_ms(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("timestamp must be epoch milliseconds or an ISO-8601 string")
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("timestamp is not a valid ISO-8601 date-time") from None
        if parsed.tzinfo is None:
            raise ValueError("ISO-8601 timestamp needs an offset, e.g. 2026-11-23T10:00:00Z")
        value = int(parsed.timestamp() * 1000)
        if not MIN_EPOCH_MS <= value <= MAX_EPOCH_MS:
            raise ValueError("timestamp must be between 2001-09-09 and 2286-11-20")
        return value
    if isinstance(value, int):
        if value < MIN_EPOCH_MS:
            raise ValueError("timestamp must be epoch milliseconds (this looks like seconds)")
        if value > MAX_EPOCH_MS:
            raise ValueError("timestamp must be epoch milliseconds (this is too large)")
        return value
    raise ValueError("timestamp must be epoch milliseconds or an ISO-8601 string")


EpochMs = Annotated[int, BeforeValidator(_epoch_ms)]


def storable_text(value: str) -> str:
    if _SURROGATE.search(value):
        raise ValueError("must be Unicode text: it holds an unpaired UTF-16 surrogate (U+D800–U+DFFF)")
    return value


#: either refusal of ``printable_text``: one search finds text that is fine, the common case
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def printable_text(value: str) -> str:
    if not _UNPRINTABLE.search(value):
        return value
    storable_text(value)
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (U+0000–U+001F, U+007F)")
    return value


def printable(max_length: int, min_length: int = 1):
    """Text of ``min_length``..``max_length`` characters with no control character."""
    return Annotated[StrictStr, Field(min_length=min_length, max_length=max_length),
                     AfterValidator(printable_text)]


def matching(pattern: str, what: str, max_length: int):
    """Text of 1..``max_length`` characters matching ``pattern`` (ASCII), else ``what`` is the
    message: "must be <what>"."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value
    return Annotated[StrictStr, Field(min_length=1, max_length=max_length), AfterValidator(check)]


def storable_number(value: object) -> Union[int, float]:
    """An int or float (never a bool) that both stores keep exactly as sent."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number (NaN and Infinity are not JSON, and 1e400 is "
                         "beyond any number a store keeps)")
    if abs(value) > MAX_NUMBER:
        raise ValueError("must be at most 1e18 in magnitude")
    if value and abs(value) < MIN_NONZERO_NUMBER:
        raise ValueError("must be 0 or at least 1e-100 in magnitude")
    return value


StorableNumber = Annotated[Union[int, float], PlainValidator(storable_number)]

