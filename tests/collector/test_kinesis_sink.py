"""The Kinesis sink against moto: batches of <= 500 records and <= 5 MiB,
partition key = host, and only records that failed are retried, with
bounded backoff."""

import json
import subprocess
import sys

import pytest

from missionctl_agent.disk_buffer import DiskBuffer
from missionctl_agent.samples import make_sample
from missionctl_agent.shipper import Shipper
from missionctl_agent.sinks.kinesis_sink import (
    MAX_BYTES_PER_CALL,
    MAX_RECORDS_PER_CALL,
    KinesisSink,
    batches,
    record_for,
    record_size,
)

from .conftest import subprocess_env

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

STREAM = "missionctl-metrics"
REGION = "us-east-1"


def sample(n, host="web-1"):
    return make_sample(host, "vm", 1_700_000_000_000 + n, {"cpu.percent": float(n % 100)})


def wide_sample(n):
    """A webapp sample of roughly 16 KB (many traffic sources)."""
    values = {f"app.traffic.source_{i:04d}_{'x' * 20}": float(i) for i in range(400)}
    return make_sample("shop", "webapp", 1_700_000_000_000 + n, values)


@pytest.fixture
def kinesis(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        client = boto3.client("kinesis", region_name=REGION)
        client.create_stream(StreamName=STREAM, ShardCount=2)
        yield client


def stream_contents(client):
    """Every record in the stream as (partition key, decoded sample)."""
    found = []
    for shard in client.list_shards(StreamName=STREAM)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=10_000)
            found += [(r["PartitionKey"], json.loads(r["Data"])) for r in page["Records"]]
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return found


class RecordingClient:
    """Passes put_records through to the real (moto) client, remembering
    every call; `fail` maps call number -> positions in that call to fail
    with an ErrorCode instead of putting them."""

    def __init__(self, client, fail=None, error_code="ProvisionedThroughputExceededException"):
        self._client = client
        self._fail = fail or {}
        self._error_code = error_code
        self.calls = []

    def put_records(self, StreamName, Records):
        call = len(self.calls)
        self.calls.append(list(Records))
        failing = self._fail(call, Records) if callable(self._fail) else self._fail.get(call, set())
        passing = [r for i, r in enumerate(Records) if i not in failing]
        real = iter(self._client.put_records(StreamName=StreamName, Records=passing)["Records"] if passing else [])
        results = [
            {"ErrorCode": self._error_code, "ErrorMessage": "Rate exceeded for shard"} if i in failing else next(real)
            for i in range(len(Records))
        ]
        return {"FailedRecordCount": len(failing), "Records": results}


def test_each_sample_becomes_one_record_keyed_by_its_host(kinesis):
    samples = [sample(1, "web-1"), sample(2, "db-1"), sample(3, "web-1")]
    result = KinesisSink(STREAM, client=kinesis).send(samples)
    assert sorted(result.delivered) == [0, 1, 2] and result.unreachable is None
    contents = stream_contents(kinesis)
    assert sorted((key, s["timestamp"]) for key, s in contents) == sorted(
        (s["host"], s["timestamp"]) for s in samples
    )
    assert all(s == next(x for x in samples if x["timestamp"] == s["timestamp"]) for _, s in contents)


def test_more_than_500_samples_are_put_in_calls_of_at_most_500(kinesis):
    recorder = RecordingClient(kinesis)
    result = KinesisSink(STREAM, client=recorder).send([sample(n) for n in range(1_201)])
    assert [len(call) for call in recorder.calls] == [500, 500, 201]
    assert len(result.delivered) == 1_201
    assert len(stream_contents(kinesis)) == 1_201


def test_calls_stay_within_5_mib_including_partition_keys(kinesis):
    recorder = RecordingClient(kinesis)
    samples = [wide_sample(n) for n in range(500)]
    assert sum(record_size(record_for(s)) for s in samples) > MAX_BYTES_PER_CALL
    result = KinesisSink(STREAM, client=recorder).send(samples)
    assert len(recorder.calls) >= 2
    for call in recorder.calls:
        assert len(call) <= MAX_RECORDS_PER_CALL
        assert sum(record_size(r) for r in call) <= MAX_BYTES_PER_CALL
    assert len(result.delivered) == 500


def test_partial_failure_retries_only_the_failed_records(kinesis):
    recorder = RecordingClient(kinesis, fail={0: {1, 3}})
    delays = []
    samples = [sample(n) for n in range(5)]
    result = KinesisSink(STREAM, client=recorder, sleep=delays.append).send(samples)
    assert len(recorder.calls) == 2
    retried = [json.loads(r["Data"])["timestamp"] for r in recorder.calls[1]]
    assert retried == [samples[1]["timestamp"], samples[3]["timestamp"]]
    assert sorted(result.delivered) == [0, 1, 2, 3, 4] and result.unreachable is None
    in_stream = sorted(s["timestamp"] for _, s in stream_contents(kinesis))
    assert in_stream == sorted(s["timestamp"] for s in samples)  # each exactly once
    assert len(delays) == 1 and 0 < delays[0] <= 0.2


def test_records_that_keep_failing_are_retried_a_bounded_number_of_times_with_capped_backoff(kinesis):
    recorder = RecordingClient(kinesis, fail=lambda call, records: {0})  # the first record always fails
    delays = []
    sink = KinesisSink(STREAM, client=recorder, max_retries=3, backoff_base_s=0.2, backoff_cap_s=0.5, sleep=delays.append)
    result = sink.send([sample(0), sample(1)])
    assert len(recorder.calls) == 4  # first try + 3 retries
    assert all(len(call) == 1 for call in recorder.calls[1:])  # only the failed record again
    assert sorted(result.delivered) == [1]
    assert "ProvisionedThroughputExceededException" in result.unreachable
    assert len(delays) == 3 and all(0 < d <= 0.5 for d in delays)
    assert delays[2] > delays[0] / 2  # grows (jitter may shave up to half)


def test_records_still_failing_stay_in_the_disk_buffer_and_are_sent_later(kinesis, tmp_path, caplog):
    flaky = {"on": True}
    recorder = RecordingClient(kinesis, fail=lambda call, records: {0} if flaky["on"] else set())
    shipper = Shipper(DiskBuffer(str(tmp_path / "b.sqlite3")), KinesisSink(STREAM, client=recorder, sleep=lambda s: None))
    assert shipper.ship([sample(0), sample(1), sample(2)]) is False
    assert [s["timestamp"] for _, s in shipper.buffer.oldest(10)] == [sample(0)["timestamp"]]
    assert len([r for r in caplog.records if "sink unreachable" in r.getMessage()]) == 1
    flaky["on"] = False
    assert shipper.drain() is True
    assert sorted(s["timestamp"] for _, s in stream_contents(kinesis)) == [sample(n)["timestamp"] for n in range(3)]


def test_a_failing_call_means_unreachable_and_nothing_is_lost(kinesis, tmp_path):
    sink = KinesisSink("no-such-stream", client=kinesis, sleep=lambda s: None)
    result = sink.send([sample(0)])
    assert result.delivered == [] and "ResourceNotFoundException" in result.unreachable
    shipper = Shipper(DiskBuffer(str(tmp_path / "b.sqlite3")), sink)
    shipper.ship([sample(1)])
    assert len(shipper.buffer) == 1


def test_a_record_over_1_mib_is_refused_not_retried(kinesis):
    values = {f"app.traffic.s{i:06d}_{'y' * 60}": 1.0 for i in range(14_000)}
    huge = make_sample("shop", "webapp", 1, values)
    result = KinesisSink(STREAM, client=kinesis).send([huge, sample(1)])
    assert list(result.refused) == [0] and result.delivered == [1]


def test_batches_respect_both_limits_and_keep_order():
    sizes = [2 * 1024 * 1024] * 3 + [10] * 600
    split = list(batches(list(range(len(sizes))), sizes))
    assert [index for batch in split for index in batch] == list(range(len(sizes)))
    for batch in split:
        assert len(batch) <= 500 and sum(sizes[i] for i in batch) <= MAX_BYTES_PER_CALL
    assert split[0] == [0, 1]


def test_the_agent_does_not_import_boto3_unless_the_kinesis_sink_is_used():
    code = (
        "import sys\n"
        "from missionctl_agent import cli, agent, shipper, sampler, webapp_probe\n"
        "from missionctl_agent.sinks import http_sink, stdout_sink, kinesis_sink\n"
        "cli.main(['--once', '--stdout', '--interval', '0.05'])\n"
        "print('boto3' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False"
