"""Moves samples from the agent to the sink through the disk buffer.

Write-ahead: every sample is appended to the DiskBuffer first and the buffer
is then drained oldest-first into the sink. So ordering is the same whether
the sink was up or down, a crash between sampling and sending loses nothing,
and "buffer while down, drain when back" needs no separate code path.

Per batch the sink says what was delivered, what was refused for good (both
are removed from the buffer) and whether it is unreachable (the rest stays).

Logging is per episode (see failure_episode.py):
- "sink unreachable, buffering: <reason>" once when sending starts failing,
- "sink back, drained N samples" once when the backlog is empty again,
- "disk buffer full ..., dropping the oldest samples" once per outage,
- "sink refused N samples ..." once per run of refusals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from missionctl_agent.disk_buffer import DiskBuffer
from missionctl_agent.failure_episode import FailureEpisode
from missionctl_agent.sinks import Sink

log = logging.getLogger("missionctl_agent")


class Shipper:
    def __init__(
        self, buffer: DiskBuffer, sink: Sink, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.buffer = buffer
        self.sink = sink
        self._monotonic = monotonic
        self._unreachable = FailureEpisode(log)
        self._buffer_full = FailureEpisode(log)
        self._refusing = FailureEpisode(log)
        self._drained_since_outage = 0
        self._dropped_since_outage = 0
        self._refused_in_run = 0
        if len(buffer):
            log.info("%d samples left buffered by a previous run; sending them first", len(buffer))

    def ship(self, samples: Iterable[dict[str, Any]], deadline: float | None = None) -> bool:
        """Buffer `samples`, then drain; see drain() for `deadline` and the result."""
        dropped = self.buffer.append(samples)
        if dropped:
            self._dropped_since_outage += dropped
            self._buffer_full.failed(
                "disk buffer full (%d bytes at %s), dropping the oldest samples",
                self.buffer.max_bytes,
                self.buffer.path,
            )
        return self.drain(deadline)

    def drain(self, deadline: float | None = None) -> bool:
        """Send buffered samples oldest first until the buffer is empty (True),
        the sink is unreachable (False), or monotonic time passes `deadline`
        (False; the rest goes on the next call)."""
        while True:
            if deadline is not None and self._monotonic() >= deadline:
                return False
            rows = self.buffer.oldest(self.sink.max_batch_records, self.sink.max_batch_bytes)
            if not rows:
                self._end_outage()
                return True
            result = self.sink.send([sample for _, sample in rows])
            settled = result.settled
            self.buffer.remove(rows[i][0] for i in settled)
            if self._unreachable.active:
                self._drained_since_outage += len(result.delivered)
            self._note_refusals(len(result.delivered), result.refused)
            if result.unreachable or len(settled) < len(rows):
                reason = result.unreachable or f"{len(rows) - len(settled)} samples not confirmed by the sink"
                self._unreachable.failed("sink unreachable, buffering: %s", reason)
                return False

    def flush(self, timeout_s: float) -> int:
        """Last drain before stopping; returns how many samples stay buffered."""
        self.drain(self._monotonic() + timeout_s)
        left = len(self.buffer)
        if left:
            log.info("stopping with %d samples in the disk buffer %s; they will be sent after the next start",
                     left, self.buffer.path)
        return left

    def close(self) -> None:
        self.sink.close()
        self.buffer.close()

    def _end_outage(self) -> None:
        """The backlog is empty: any outage (and buffer-full episode) is over."""
        dropped = self._dropped_since_outage
        self._unreachable.recovered(
            "sink back, drained %d samples%s",
            self._drained_since_outage,
            f" ({dropped} oldest were dropped while the disk buffer was full)" if dropped else "",
        )
        self._buffer_full.recovered()
        self._drained_since_outage = self._dropped_since_outage = 0

    def _note_refusals(self, delivered: int, refused: dict[int, str]) -> None:
        if refused:
            self._refused_in_run += len(refused)
            first_reason = next(iter(refused.values()))
            self._refusing.failed(
                "sink refused %d samples, dropping them (not retried): %s", len(refused), first_reason
            )
        elif delivered:
            self._refusing.recovered("sink accepting samples again (%d refused and dropped before)",
                                     self._refused_in_run)
            self._refused_in_run = 0
