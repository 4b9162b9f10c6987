"""Samples this machine with psutil into one "vm" sample.

Units are in the metric names and in docs/metrics.md: percents are 0..100,
sizes are bytes, rates are per second, frequency is MHz, uptime is seconds.

Rates go through CounterRates and CPU percents through CpuBusyPercent
(rates.py), so the first sample after start and a stale baseline give "no
value" the same way for both. We compute CPU percent from cpu_times()
ourselves instead of calling psutil.cpu_percent(), whose baseline is a module
global shared with anything else in the process.

Each group of readings (cpu, memory, disks, ...) is taken independently: one
that fails on this platform (e.g. no cpu_freq in a container) leaves its
metrics out and is reported once in the log, the rest of the sample stands.
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import time
from collections.abc import Callable
from typing import Any

import psutil

from missionctl_agent.metric_names import fit_name, mount_segment
from missionctl_agent.rates import CounterRates, CpuBusyPercent
from missionctl_agent.samples import make_sample, now_ms

log = logging.getLogger(__name__)

# A baseline older than this many intervals is stale: no rate from it.
STALE_AFTER_INTERVALS = 3

# Read-only image filesystems are always "100 % used"; reporting them would
# only trip disk-full alerts.
IGNORED_FSTYPES = frozenset({"squashfs", "iso9660", "udf"})

_DISK_COUNTERS = {
    "read_bytes": "disk.read_bytes_per_s",
    "write_bytes": "disk.write_bytes_per_s",
    "read_count": "disk.read_ops_per_s",
    "write_count": "disk.write_ops_per_s",
}
_NET_COUNTERS = {
    "bytes_recv": "net.rx_bytes_per_s",
    "bytes_sent": "net.tx_bytes_per_s",
    "packets_recv": "net.rx_packets_per_s",
    "packets_sent": "net.tx_packets_per_s",
    "errin": "net.rx_errors_per_s",
    "errout": "net.tx_errors_per_s",
    "dropin": "net.rx_drops_per_s",
    "dropout": "net.tx_drops_per_s",
}


def is_loopback(name: str, stats: Any) -> bool:
    """Loopback traffic never leaves the machine, so it is not network load."""
    flags = getattr(stats, "flags", "") or ""
    return "loopback" in flags.split(",") or name == "lo" or (name.startswith("lo") and name[2:].isdigit())


class Sampler:
    """Takes "vm" samples of this machine.

    `monotonic` (seconds) times the rates, `wall_ms` stamps the sample; both
    are injectable so tests can simulate restarts and stale gaps.
    """

    def __init__(
        self,
        host: str,
        interval_s: float,
        monotonic: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = now_ms,
    ) -> None:
        self.host = host
        self._monotonic = monotonic
        self._wall_ms = wall_ms
        self._rates = CounterRates(max_age_s=STALE_AFTER_INTERVALS * interval_s)
        self._cpu = CpuBusyPercent(max_age_s=STALE_AFTER_INTERVALS * interval_s)
        self._meta = {"hostname": socket.gethostname(), "platform": platform.platform()}
        self._warned: set[str] = set()

    def sample(self) -> dict[str, Any]:
        """One vm sample of the machine as it is now."""
        timestamp = self._wall_ms()
        values: dict[str, float] = {}
        counters: dict[str, float] = {}
        cpu_times: dict[str, dict[str, float]] = {}
        try:
            cpu_times = self._read_cpu_times()
        except Exception as exc:  # noqa: BLE001
            self._warn_once("cpu", exc)
        for group, read in (
            ("cpu_freq", self._read_cpu_freq),
            ("load", self._read_load),
            ("memory", self._read_memory),
            ("disk_usage", self._read_disk_usage),
            ("disk_io", self._read_disk_io),
            ("network", self._read_network),
            ("uptime", self._read_uptime),
        ):
            try:
                read(values, counters)
            except Exception as exc:  # noqa: BLE001 - one group failing must not lose the sample
                self._warn_once(group, exc)
        now = self._monotonic()
        values.update(self._rates.update(now, counters))  # counters are keyed by their rate's metric name
        for scope, percent in self._cpu.update(now, cpu_times).items():
            values["cpu.percent" if scope == "total" else f"cpu.core.{scope}.percent"] = percent
        return make_sample(self.host, "vm", timestamp, values, meta=self._meta)

    def _warn_once(self, group: str, exc: Exception) -> None:
        if group not in self._warned:
            self._warned.add(group)
            log.warning("cannot read %s on this machine, leaving it out: %s", group, exc)

    # -- readings: gauges go to `values`, cumulative counters to `counters` --

    @staticmethod
    def _read_cpu_times() -> dict[str, dict[str, float]]:
        """{"total": fields, "0": fields, ...}; fields are cpu_times() seconds."""
        readings = {"total": psutil.cpu_times()._asdict()}
        for index, core in enumerate(psutil.cpu_times(percpu=True)):
            readings[str(index)] = core._asdict()
        return readings

    def _read_cpu_freq(self, values: dict[str, float], counters: dict[str, float]) -> None:
        freq = psutil.cpu_freq()
        if freq is not None and freq.current > 0:
            values["cpu.freq_mhz"] = freq.current

    def _read_load(self, values: dict[str, float], counters: dict[str, float]) -> None:
        one, five, fifteen = psutil.getloadavg()
        values["load.1m"], values["load.5m"], values["load.15m"] = one, five, fifteen

    def _read_memory(self, values: dict[str, float], counters: dict[str, float]) -> None:
        mem = psutil.virtual_memory()
        values["mem.total_bytes"] = mem.total
        values["mem.available_bytes"] = mem.available
        # total - available, so that used_bytes and used_percent agree
        # (psutil's own "used" excludes caches differently per platform).
        values["mem.used_bytes"] = max(mem.total - mem.available, 0)
        values["mem.used_percent"] = mem.percent
        swap = psutil.swap_memory()
        values["swap.total_bytes"] = swap.total
        values["swap.used_bytes"] = swap.used
        values["swap.used_percent"] = swap.percent

    def _read_disk_usage(self, values: dict[str, float], counters: dict[str, float]) -> None:
        seen: dict[str, str] = {}
        for part in sorted(psutil.disk_partitions(all=False), key=lambda p: p.mountpoint):
            # Containers bind-mount single files (/etc/hosts); they are not disks.
            if part.fstype in IGNORED_FSTYPES or not os.path.isdir(part.mountpoint):
                continue
            segment = mount_segment(part.mountpoint)
            if not segment or segment in seen:
                continue  # first mount (in path order) keeps a colliding name
            try:
                usage = psutil.disk_usage(part.mountpoint)
            except OSError:
                continue  # unmounted meanwhile, or not readable by this user
            seen[segment] = part.mountpoint
            values[fit_name("disk.", segment, ".used_percent")] = usage.percent

    def _read_disk_io(self, values: dict[str, float], counters: dict[str, float]) -> None:
        io = psutil.disk_io_counters(perdisk=False)  # whole disks, not partitions
        if io is None:
            return
        for field, name in _DISK_COUNTERS.items():
            counters[name] = getattr(io, field)

    def _read_network(self, values: dict[str, float], counters: dict[str, float]) -> None:
        stats = psutil.net_if_stats()
        totals = dict.fromkeys(_NET_COUNTERS.values(), 0.0)
        for nic, io in psutil.net_io_counters(pernic=True).items():
            if is_loopback(nic, stats.get(nic)):
                continue
            for field, name in _NET_COUNTERS.items():
                totals[name] += getattr(io, field)
        # A NIC disappearing makes a total go down: rates.py sees a reset and
        # skips one sample rather than reporting a negative rate.
        counters.update(totals)

    def _read_uptime(self, values: dict[str, float], counters: dict[str, float]) -> None:
        values["system.uptime_s"] = max(time.time() - psutil.boot_time(), 0.0)
