"""The agent loop: every interval, sample the machine and the watched web
apps, hand the samples to the Shipper; on stop, flush.

Ticks are scheduled on a fixed grid (start + k * interval, monotonic
clock). When a tick overruns (slow sink, slow web app), the missed slots are
skipped instead of sampled in a burst; the rates stay right because they use
the real elapsed time, and a gap of more than 3 intervals yields no rate
rather than an average over the gap (see rates.py).

Draining a backlog is bounded by the next tick, so a long backlog never
delays sampling by more than one interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from missionctl_agent.failure_episode import FailureEpisode
from missionctl_agent.sampler import Sampler
from missionctl_agent.shipper import Shipper
from missionctl_agent.webapp_probe import WebAppProbe

log = logging.getLogger("missionctl_agent")

MAX_PROBE_THREADS = 8


class Agent:
    def __init__(
        self,
        sampler: Sampler | None,
        probes: Sequence[WebAppProbe],
        shipper: Shipper,
        interval_s: float,
        flush_timeout_s: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] | None = time.time,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval must be positive")
        self.sampler = sampler
        self.probes = list(probes)
        self.shipper = shipper
        self.interval_s = interval_s
        self.flush_timeout_s = flush_timeout_s
        self._monotonic = monotonic
        self._wall = wall
        # Web apps are checked in parallel so that one slow app (up to its
        # timeout) does not delay the others or the machine sample.
        self._pool = ThreadPoolExecutor(max_workers=min(MAX_PROBE_THREADS, len(self.probes)) or 1,
                                        thread_name_prefix="probe")
        self._sample_failures = 0
        self._tick_failing = FailureEpisode(log)

    def collect(self) -> list[dict[str, Any]]:
        """One round of samples: the vm sample first, then one per web app."""
        futures = [self._pool.submit(probe.check) for probe in self.probes]
        samples: list[dict[str, Any]] = []
        if self.sampler is not None:
            try:
                samples.append(self.sampler.sample())
            except Exception:  # noqa: BLE001 - a sampling bug must not stop the agent
                self._sample_failures += 1
                if self._sample_failures == 1:
                    log.exception("sampling this machine failed; will keep trying")
        for probe, future in zip(self.probes, futures):
            try:
                samples.append(future.result())
            except Exception:  # noqa: BLE001
                log.exception("checking %s failed", probe.target.name)
        return samples

    def warm_up(self, seconds: float) -> None:
        """Take a discarded baseline and wait, so the next machine sample has
        rates and CPU percents (used by --once)."""
        if self.sampler is not None:
            self.sampler.sample()
            time.sleep(seconds)

    def run_once(self) -> int:
        """Collect one round, ship it, flush; returns samples left buffered."""
        self.shipper.ship(self.collect(), deadline=self._monotonic() + self.flush_timeout_s)
        return self.stop()

    def run(self, stop: threading.Event) -> int:
        """Tick until `stop` is set, then flush; returns samples left buffered."""
        next_tick = self._monotonic() + self._slot_offset() - self.interval_s
        while not stop.is_set():
            next_tick += self.interval_s
            try:
                self.shipper.ship(self.collect(), deadline=next_tick)
                self._tick_failing.recovered("buffering works again")
            except Exception as exc:  # noqa: BLE001 - e.g. disk full; keep sampling and retrying
                self._tick_failing.failed("cannot buffer samples, they are lost until this clears: %s: %s",
                                          type(exc).__name__, exc)
            now = self._monotonic()
            if now >= next_tick:  # overran: skip to the next slot still ahead
                missed = int((now - next_tick) // self.interval_s) + 1
                next_tick += missed * self.interval_s
            stop.wait(next_tick - self._monotonic())
        return self.stop()

    def _slot_offset(self) -> float:
        """Seconds until the next wall-clock slot (a multiple of the interval) plus one second.

        The server files raw samples into interval-wide slots of wall-clock time; ticking a
        second into each slot keeps clock jitter from putting two samples in one slot and
        none in the next, which charts would show as false gaps."""
        if self._wall is None:
            return self.interval_s
        return (self.interval_s - self._wall() % self.interval_s + 1.0) % self.interval_s or self.interval_s

    def stop(self) -> int:
        """Flush what can be sent within flush_timeout_s; the rest stays in the
        disk buffer for the next start. Returns samples left buffered."""
        self._pool.shutdown(wait=True)
        left = self.shipper.flush(self.flush_timeout_s)
        self.shipper.close()
        return left
