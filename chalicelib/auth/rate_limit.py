"""Per-key ingest rate limit: a fixed-window counter. Pure arithmetic; the counter itself is one
atomic increment in the store per request (see ``repository.AccessRepository.count_request``).

One item per key per window, never sharded: at most 100 requests a second per key are allowed
(config refuses more), under the design's ~100 writes/s per item. Each item expires (TTL) a
minute after its window closes. A fixed window admits up to twice the limit across a window
boundary; for protecting the store from a runaway client that is enough.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: counter items outlive their window by this long (seconds), then expire
COUNTER_GRACE_S = 60


@dataclass(frozen=True)
class RateLimit:
    requests: int
    window_s: int

    def window_start(self, now_s: float) -> int:
        """The epoch second the window holding ``now_s`` starts at."""
        return int(now_s // self.window_s) * self.window_s

    def retry_after_s(self, now_s: float) -> int:
        """Whole seconds until the next window opens (at least 1), for ``Retry-After``."""
        return max(1, math.ceil(self.window_start(now_s) + self.window_s - now_s))

    def counter_ttl(self, now_s: float) -> int:
        """Epoch seconds at which the current window's counter may be deleted."""
        return self.window_start(now_s) + self.window_s + COUNTER_GRACE_S

    def describe(self) -> str:
        return f"{self.requests} requests per {'second' if self.window_s == 1 else f'{self.window_s} s'}"
