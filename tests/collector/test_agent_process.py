"""The agent as a real process against the loopback API: SIGTERM/SIGINT
flush, samples persisted across restarts and drained in order, one log line
per failure episode, the API key never in the logs."""

import signal
import sqlite3
import subprocess
import sys

import pytest

from .conftest import subprocess_env
from .loopback_server import MetricsServer

API_KEY = "mc_process_key_0c4e7a9b31"


@pytest.fixture
def server():
    with MetricsServer() as running:
        yield running


def start_agent(server, buffer_path, interval, *extra):
    return subprocess.Popen(
        [
            sys.executable, "-m", "missionctl_agent",
            "--url", server.url, "--host-name", "web-1",
            "--interval", str(interval), "--buffer-path", str(buffer_path),
            "--log-level", "DEBUG", *extra,
        ],
        env=subprocess_env(MISSIONCTL_AGENT_API_KEY=API_KEY),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def stop(agent, signum=signal.SIGTERM):
    agent.send_signal(signum)
    out, err = agent.communicate(timeout=60)  # hang guard only
    return agent.returncode, err


def buffered_timestamps(buffer_path):
    with sqlite3.connect(str(buffer_path)) as db:
        return [json_ts for (json_ts,) in db.execute("SELECT json_extract(payload, '$.timestamp') FROM samples ORDER BY id")]


def lines_with(text, log, level=None):
    return [line for line in log.splitlines() if text in line and (level is None or f" {level} " in line)]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_flushes_buffered_samples_to_a_sink_that_came_back(server, tmp_path, signum):
    server.mode = 503
    buffer_path = tmp_path / "buffer.sqlite3"
    agent = start_agent(server, buffer_path, 3600)  # one tick at start, the next in an hour
    try:
        assert server.wait_for(lambda s: s.attempts >= 1)
    finally:
        server.mode = "ok"
        code, log = stop(agent, signum)
    assert code == 0, log
    assert len(server.accepted) == 1  # the sample of the first tick, sent by the flush
    assert server.accepted[0]["host"] == "web-1" and server.accepted[0]["kind"] == "vm"
    assert buffered_timestamps(buffer_path) == []
    assert lines_with(f"received {signal.Signals(signum).name}", log) or lines_with("stopped on", log)


def test_samples_survive_a_stop_while_the_sink_is_down_and_drain_in_order_after_restart(server, tmp_path):
    server.mode = 503
    buffer_path = tmp_path / "buffer.sqlite3"
    agent = start_agent(server, buffer_path, 0.1)
    try:
        assert server.wait_for(lambda s: s.attempts >= 5)
    finally:
        code, log = stop(agent)
    assert code == 0, log
    persisted = buffered_timestamps(buffer_path)
    assert len(persisted) >= 5 and persisted == sorted(persisted)
    assert server.accepted == []
    assert len(lines_with("sink unreachable, buffering: HTTP 503", log, "WARNING")) == 1  # one line for the whole outage
    assert lines_with(f"stopping with {len(persisted)} samples in the disk buffer", log)
    assert API_KEY not in log

    server.mode = "ok"
    agent = start_agent(server, buffer_path, 3600)
    try:
        assert server.wait_for(lambda s: len(s.accepted) >= len(persisted) + 1)
    finally:
        code, log = stop(agent)
    assert code == 0, log
    sent = [s["timestamp"] for s in server.accepted]
    assert sent[: len(persisted)] == persisted  # the backlog first, oldest first
    assert sent[len(persisted)] > persisted[-1]  # then the new sample
    assert buffered_timestamps(buffer_path) == []
    assert lines_with(f"{len(persisted)} samples left buffered by a previous run", log)
    assert API_KEY not in log


def test_a_running_agent_logs_one_line_when_the_sink_goes_down_and_one_when_it_is_back(server, tmp_path):
    buffer_path = tmp_path / "buffer.sqlite3"
    agent = start_agent(server, buffer_path, 0.1)
    try:
        assert server.wait_for(lambda s: len(s.accepted) >= 2)
        server.mode = "close"
        attempts = server.attempts
        assert server.wait_for(lambda s: s.attempts >= attempts + 5)
        server.mode = "ok"
        accepted = len(server.accepted)
        assert server.wait_for(lambda s: len(s.accepted) >= accepted + 6)
    finally:
        code, log = stop(agent)
    assert code == 0, log
    assert len(lines_with("sink unreachable, buffering:", log, "WARNING")) == 1
    assert len(lines_with("sink back, drained", log)) == 1
    assert len(lines_with("still failing: sink unreachable", log, "DEBUG")) >= 4  # the rest only at DEBUG
    sent = [s["timestamp"] for s in server.accepted]
    assert sent == sorted(sent)  # nothing lost out of order across the outage
    assert API_KEY not in log
