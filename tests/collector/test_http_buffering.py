"""Shipping to the HTTP API through the disk buffer, against a loopback server
that fails on command: buffered while down, bounded keeping the newest,
drained in order when back, refusals dropped, one log line per episode,
the API key never logged."""

import logging

import pytest

from missionctl_agent.disk_buffer import DiskBuffer
from missionctl_agent.samples import make_sample, to_json
from missionctl_agent.shipper import Shipper
from missionctl_agent.sinks.http_sink import HttpSink

from .loopback_server import MetricsServer

API_KEY = "mc_test_key_5f2b9c1e7d4a"


def sample(n):
    return make_sample("web-1", "vm", 1_700_000_000_000 + n, {"cpu.percent": float(n % 100)})


def sent_numbers(server):
    return [s["timestamp"] - 1_700_000_000_000 for s in server.accepted]


@pytest.fixture
def server():
    with MetricsServer() as running:
        yield running


@pytest.fixture
def make_shipper(server, tmp_path):
    made = []

    def make(max_bytes=50_000_000, timeout_s=5.0):
        buffer = DiskBuffer(str(tmp_path / "buffer.sqlite3"), max_bytes=max_bytes)
        shipper = Shipper(buffer, HttpSink(server.url, API_KEY, timeout_s=timeout_s))
        made.append(shipper)
        return shipper

    yield make
    for shipper in made:
        shipper.close()


def messages(caplog, text):
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_samples_are_posted_as_a_json_array_with_the_api_key_header(server, make_shipper):
    shipper = make_shipper()
    assert shipper.ship([sample(1), sample(2)]) is True
    assert sent_numbers(server) == [1, 2]
    assert server.api_keys == {API_KEY}
    assert len(shipper.buffer) == 0


@pytest.mark.parametrize("failure", [503, 500, 502, 408, 429, "close"])
def test_unreachable_sink_keeps_every_sample_on_disk(server, make_shipper, failure):
    server.mode = failure
    shipper = make_shipper()
    for n in range(3):
        assert shipper.ship([sample(n)]) is False
    assert server.accepted == []
    assert server.attempts == 3
    assert [s["timestamp"] for _, s in shipper.buffer.oldest(10)] == [sample(n)["timestamp"] for n in range(3)]


def test_timeout_counts_as_unreachable(server, make_shipper):
    server.mode = "hang"
    shipper = make_shipper(timeout_s=0.2)
    assert shipper.ship([sample(1)]) is False
    assert len(shipper.buffer) == 1


def test_buffered_samples_are_drained_oldest_first_when_the_sink_returns(server, make_shipper):
    server.mode = 503
    shipper = make_shipper()
    for n in range(5):
        shipper.ship([sample(n)])
    server.mode = "ok"
    assert shipper.ship([sample(5)]) is True
    assert sent_numbers(server) == [0, 1, 2, 3, 4, 5]
    assert len(shipper.buffer) == 0


def test_buffered_samples_survive_an_agent_restart_and_are_sent_first(server, make_shipper):
    server.mode = 503
    first_run = make_shipper()
    first_run.ship([sample(0), sample(1)])
    first_run.close()
    server.mode = "ok"
    second_run = make_shipper()
    second_run.ship([sample(2)])
    assert sent_numbers(server) == [0, 1, 2]


def test_full_buffer_keeps_the_newest_samples_while_the_sink_is_down(server, make_shipper, caplog):
    caplog.set_level(logging.INFO)
    server.mode = 503
    shipper = make_shipper(max_bytes=len(to_json(sample(10))) * 3)
    for n in range(10, 20):
        shipper.ship([sample(n)])
    assert len(shipper.buffer) == 3
    server.mode = "ok"
    shipper.drain()
    assert sent_numbers(server) == [17, 18, 19]
    assert len(messages(caplog, "disk buffer full")) == 1
    assert messages(caplog, "sink back") == ["sink back, drained 3 samples (7 oldest were dropped while the disk buffer was full)"]


def test_backlog_is_posted_in_batches_of_at_most_500(server, make_shipper):
    server.mode = 503
    shipper = make_shipper()
    shipper.ship([sample(n) for n in range(1_201)])
    server.mode = "ok"
    assert shipper.drain() is True
    assert server.batches == [500, 500, 201]
    assert sent_numbers(server) == list(range(1_201))


def test_drain_stops_at_its_deadline_and_resumes_later(server, make_shipper):
    server.mode = 503
    shipper = make_shipper()
    shipper.ship([sample(n) for n in range(3)])
    server.mode = "ok"
    assert shipper.drain(deadline=0.0) is False  # monotonic time is already past 0
    assert server.accepted == []
    assert shipper.drain() is True
    assert sent_numbers(server) == [0, 1, 2]


def test_one_warning_per_failure_episode_and_one_line_when_back(server, make_shipper, caplog):
    caplog.set_level(logging.INFO)
    shipper = make_shipper()
    for outage in range(2):
        server.mode = 503 if outage == 0 else "close"
        for n in range(4):
            shipper.ship([sample(10 * outage + n)])
        server.mode = "ok"
        shipper.ship([sample(10 * outage + 9)])
    unreachable = messages(caplog, "sink unreachable")
    assert len(unreachable) == 2
    assert unreachable[0] == f"sink unreachable, buffering: HTTP 503 from {server.url}/api/metrics"
    assert unreachable[1].startswith("sink unreachable, buffering: ConnectionError")
    assert messages(caplog, "sink back") == ["sink back, drained 5 samples", "sink back, drained 5 samples"]
    assert sent_numbers(server) == [0, 1, 2, 3, 9, 10, 11, 12, 13, 19]


def test_refused_samples_in_a_207_are_dropped_and_never_retried(server, make_shipper, caplog):
    server.mode = "refuse"
    server.refuse_indices = {1}
    shipper = make_shipper()
    assert shipper.ship([sample(0), sample(1), sample(2)]) is True
    assert sent_numbers(server) == [0, 2]
    assert len(shipper.buffer) == 0
    shipper.drain()
    assert server.attempts == 1
    refusals = messages(caplog, "refused")
    assert refusals == ['sink refused 1 samples, dropping them (not retried): ["values: not allowed"]']


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_a_4xx_refuses_the_batch_for_good_instead_of_retrying_forever(server, make_shipper, caplog, status):
    server.mode = status
    shipper = make_shipper()
    for n in range(3):
        shipper.ship([sample(n)])
    assert len(shipper.buffer) == 0
    assert server.attempts == 3  # each batch once, none retried
    assert len(messages(caplog, "sink refused")) == 1  # logged once for the whole run of refusals
    assert not messages(caplog, "sink unreachable")


def test_refusal_episode_ends_when_samples_are_accepted_again(server, make_shipper, caplog):
    caplog.set_level(logging.INFO)
    server.mode = 401
    shipper = make_shipper()
    shipper.ship([sample(0)])
    shipper.ship([sample(1)])
    server.mode = "ok"
    shipper.ship([sample(2)])
    assert messages(caplog, "accepting samples again") == ["sink accepting samples again (2 refused and dropped before)"]


def test_the_api_key_never_appears_in_any_log_line(server, make_shipper, caplog):
    caplog.set_level(logging.DEBUG)
    shipper = make_shipper(timeout_s=0.2)
    for mode in [503, "close", 401, "refuse", "hang", 429, "ok"]:
        server.mode = mode
        server.refuse_indices = {0}
        shipper.ship([sample(1)])
    assert caplog.records  # the failures above were logged
    assert API_KEY not in caplog.text
    assert all(API_KEY not in repr(r.args) for r in caplog.records)


def test_a_key_echoed_back_by_the_server_is_redacted(server, make_shipper, caplog):
    server.mode = 403

    class EchoingSink(HttpSink):
        def _interpret(self, response, count):
            response._content = f'{{"error": "bad key {API_KEY}"}}'.encode()
            return super()._interpret(response, count)

    buffer = DiskBuffer(":memory:")
    Shipper(buffer, EchoingSink(server.url, API_KEY)).ship([sample(1)])
    assert messages(caplog, "sink refused")
    assert API_KEY not in caplog.text


def test_the_http_sink_needs_an_api_key(server):
    with pytest.raises(ValueError):
        HttpSink(server.url, "")


def test_the_sink_repr_does_not_show_the_key(server):
    assert API_KEY not in repr(HttpSink(server.url, API_KEY))
