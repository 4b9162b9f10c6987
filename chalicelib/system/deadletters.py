"""The dead-letter store: records that can never succeed (bad JSON, wrong schema), kept with
the reason for 14 days so an operator can see what a sender got wrong. Never retried."""
from __future__ import annotations

import time
import uuid
from typing import Any

from ..storage import Store

KEEP_MS = 14 * 86_400_000
MAX_RAW_CHARS = 4_000


def set_aside(store: Store, source: str, reason: str, raw: str, ref: str | None = None) -> None:
    now = int(time.time() * 1000)
    store.put("deadletters", {
        "pk": f"dlq#{source}", "sk": f"{now:013d}#{uuid.uuid4().hex[:12]}", "source": source,
        "reason": reason[:1000], "raw": raw[:MAX_RAW_CHARS], "ref": ref, "at": now,
        "ttl": (now + KEEP_MS) // 1000})


def recent(store: Store, source: str, limit: int = 50) -> list[dict[str, Any]]:
    return store.query("deadletters", f"dlq#{source}", limit=limit).items
