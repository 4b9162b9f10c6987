"""Field types that more than one feature's models use (pydantic). Features never import each
other's models; what they share lives here.

- ``EpochMs``: a time as epoch milliseconds, or ISO-8601 with an offset, stored as epoch ms.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator

# 2001-09-09 .. 2286-11-20 in ms: anything outside is almost surely seconds or microseconds.
MIN_EPOCH_MS, MAX_EPOCH_MS = 1_000_000_000_000, 9_999_999_999_999


def _epoch_ms(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("timestamp must be epoch milliseconds or an ISO-8601 string")
    if isinstance(value, int):
        if value < MIN_EPOCH_MS:
            raise ValueError("timestamp must be epoch milliseconds (this looks like seconds)")
        if value > MAX_EPOCH_MS:
            raise ValueError("timestamp must be epoch milliseconds (this is too large)")
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("timestamp is not a valid ISO-8601 date-time") from None
        if parsed.tzinfo is None:
            raise ValueError("ISO-8601 timestamp needs an offset, e.g. 2026-11-23T10:00:00Z")
        return int(parsed.timestamp() * 1000)
    raise ValueError("timestamp must be epoch milliseconds or an ISO-8601 string")


EpochMs = Annotated[int, BeforeValidator(_epoch_ms)]
