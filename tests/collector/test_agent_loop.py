"""The tick loop: keeps going through failures, one round = vm sample then
one sample per watched app, stops and flushes when asked."""

import io
import json
import logging
import sqlite3
import threading

from missionctl_agent.agent import Agent
from missionctl_agent.disk_buffer import DiskBuffer
from missionctl_agent.samples import make_sample
from missionctl_agent.shipper import Shipper
from missionctl_agent.sinks.stdout_sink import StdoutSink
from missionctl_agent.webapp_probe import WatchTarget


class CountingSampler:
    """Stands in for the psutil sampler; sets `stop` after `rounds` samples."""

    def __init__(self, stop, rounds):
        self.stop, self.rounds, self.taken = stop, rounds, 0

    def sample(self):
        self.taken += 1
        if self.taken >= self.rounds:
            self.stop.set()
        return make_sample("web-1", "vm", self.taken, {"cpu.percent": 1.0})


class BrokenProbe:
    target = WatchTarget("shop", "http://127.0.0.1:9/")

    def check(self):
        raise RuntimeError("probe bug")


class FlakyBufferShipper(Shipper):
    """Buffering fails (as on a full disk) for the first `failures` ticks."""

    def __init__(self, *args, failures, **kwargs):
        super().__init__(*args, **kwargs)
        self.failures = failures

    def ship(self, samples, deadline=None):
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return super().ship(samples, deadline)


def printed(out):
    return [json.loads(line)["timestamp"] for line in out.getvalue().splitlines()]


def test_a_tick_that_cannot_buffer_is_logged_once_and_the_agent_keeps_sampling(caplog):
    caplog.set_level(logging.INFO)
    stop, out = threading.Event(), io.StringIO()
    shipper = FlakyBufferShipper(DiskBuffer(":memory:"), StdoutSink(out), failures=3)
    agent = Agent(CountingSampler(stop, rounds=5), [], shipper, interval_s=0.01)
    assert agent.run(stop) == 0
    assert printed(out) == [4, 5]
    lines = [r.getMessage() for r in caplog.records if "buffer" in r.getMessage()]
    assert lines == ["cannot buffer samples, they are lost until this clears: OperationalError: database or disk is full",
                     "buffering works again"]


def test_a_failing_web_app_check_does_not_lose_the_machine_sample(caplog):
    stop, out = threading.Event(), io.StringIO()
    agent = Agent(CountingSampler(stop, rounds=1), [BrokenProbe()], Shipper(DiskBuffer(":memory:"), StdoutSink(out)),
                  interval_s=0.01)
    assert agent.run(stop) == 0
    assert printed(out) == [1]
    assert any("checking shop failed" in r.getMessage() for r in caplog.records)


def test_stop_flushes_and_reports_what_stays_buffered(tmp_path):
    class DownSink(StdoutSink):
        def send(self, samples):
            from missionctl_agent.sinks import SendResult

            return SendResult(unreachable="down")

    stop = threading.Event()
    path = str(tmp_path / "b.sqlite3")
    agent = Agent(CountingSampler(stop, rounds=3), [], Shipper(DiskBuffer(path), DownSink()), interval_s=0.01,
                  flush_timeout_s=1)
    assert agent.run(stop) == 3
    assert len(DiskBuffer(path)) == 3


def test_ticks_land_one_second_into_each_wall_clock_slot(tmp_path):
    """So the server's 10 s slots get one sample each despite clock jitter."""
    shipper = Shipper(DiskBuffer(":memory:"), StdoutSink(io.StringIO()))
    for wall, expected in ((1003.5, 7.5), (1001.0, 10.0), (1000.2, 0.8), (1009.9, 1.1)):
        agent = Agent(None, [], shipper, interval_s=10, wall=lambda w=wall: w)
        assert round(agent._slot_offset(), 6) == expected
