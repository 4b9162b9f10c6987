"""The vm sampler against psutil on this machine: values present, in range,
names valid and documented; no rates on the first sample or after a stale gap."""

import socket
import time

import psutil
import pytest

from missionctl_agent.metric_names import is_valid_metric_name, template_of
from missionctl_agent.sampler import STALE_AFTER_INTERVALS, Sampler
from missionctl_agent.samples import validate_sample

RATE_METRICS = {
    "disk.read_bytes_per_s", "disk.write_bytes_per_s", "disk.read_ops_per_s", "disk.write_ops_per_s",
    "net.rx_bytes_per_s", "net.tx_bytes_per_s", "net.rx_packets_per_s", "net.tx_packets_per_s",
    "net.rx_errors_per_s", "net.tx_errors_per_s", "net.rx_drops_per_s", "net.tx_drops_per_s",
}  # fmt: skip
GAUGES = {
    "load.1m", "load.5m", "load.15m", "mem.used_percent", "mem.used_bytes", "mem.available_bytes",
    "mem.total_bytes", "swap.used_percent", "swap.used_bytes", "swap.total_bytes", "system.uptime_s",
}  # fmt: skip


class SteppedClock:
    """Monotonic clock the test moves; real time still passes for psutil."""

    def __init__(self):
        self.now = 1_000.0

    def __call__(self):
        return self.now


def is_cpu_percent(name):
    return name == "cpu.percent" or template_of(name, "vm") == "cpu.core.<n>.percent"


@pytest.fixture
def two_samples():
    clock = SteppedClock()
    sampler = Sampler("test-host", interval_s=10, monotonic=clock)
    first = sampler.sample()
    time.sleep(0.2)  # let the CPU time counters tick
    clock.now += 10
    return first, sampler.sample()


def test_first_sample_after_start_has_no_rates_and_no_cpu_percent(two_samples):
    first, _ = two_samples
    assert not RATE_METRICS & set(first["values"])
    assert not [name for name in first["values"] if is_cpu_percent(name)]
    assert GAUGES <= set(first["values"])


def test_sample_is_valid_and_every_name_is_documented(two_samples):
    for sample in two_samples:
        validate_sample(sample)
        assert sample["kind"] == "vm" and sample["host"] == "test-host"
        for name in sample["values"]:
            assert is_valid_metric_name(name), name
            assert template_of(name, "vm") is not None, f"{name} is not in docs/metrics.md"


def test_second_sample_has_every_rate_and_cpu_percent_per_core(two_samples):
    _, second = two_samples
    values = second["values"]
    assert RATE_METRICS <= set(values)
    assert GAUGES <= set(values)
    assert "cpu.percent" in values
    cores = psutil.cpu_count(logical=True)
    assert {f"cpu.core.{n}.percent" for n in range(cores)} <= set(values)


def test_percents_are_between_0_and_100(two_samples):
    _, second = two_samples
    percents = {k: v for k, v in second["values"].items() if "percent" in k}
    assert "mem.used_percent" in percents and "disk.root.used_percent" in percents
    for name, value in percents.items():
        assert 0.0 <= value <= 100.0, name


def test_rates_sizes_and_loads_are_non_negative(two_samples):
    _, second = two_samples
    for name, value in second["values"].items():
        assert value >= 0.0, name


def test_memory_values_agree_with_psutil(two_samples):
    _, second = two_samples
    values = second["values"]
    assert values["mem.total_bytes"] == psutil.virtual_memory().total
    assert values["mem.used_bytes"] <= values["mem.total_bytes"]
    assert values["mem.used_bytes"] + values["mem.available_bytes"] == pytest.approx(values["mem.total_bytes"])
    assert values["swap.used_bytes"] <= values["swap.total_bytes"]


def test_uptime_matches_boot_time(two_samples):
    _, second = two_samples
    assert second["values"]["system.uptime_s"] == pytest.approx(time.time() - psutil.boot_time(), abs=5)


def test_timestamp_is_epoch_milliseconds_of_now(two_samples):
    _, second = two_samples
    assert abs(second["timestamp"] - time.time() * 1000) < 60_000


def test_meta_carries_hostname_and_platform_as_strings(two_samples):
    _, second = two_samples
    assert second["meta"]["hostname"] == socket.gethostname()
    assert isinstance(second["meta"]["platform"], str) and second["meta"]["platform"]


def test_no_rates_from_a_baseline_older_than_three_intervals():
    clock = SteppedClock()
    sampler = Sampler("h", interval_s=10, monotonic=clock)
    sampler.sample()
    time.sleep(0.05)
    clock.now += STALE_AFTER_INTERVALS * 10 + 1
    stale = sampler.sample()
    assert not RATE_METRICS & set(stale["values"])
    assert "cpu.percent" not in stale["values"]
    time.sleep(0.2)
    clock.now += 10
    assert RATE_METRICS <= set(sampler.sample()["values"])
