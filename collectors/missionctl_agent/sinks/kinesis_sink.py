"""Kinesis sink: put_records into a stream, partition key = sample host.

One record per sample; Data is the sample's compact JSON (UTF-8), so a
consumer decodes each record on its own. Limits from the Kinesis API: at most
500 records and 5 MiB per put_records call (partition keys included), 1 MiB
per record, partition keys of 1 to 256 characters.

put_records can succeed as a call and still fail some records (each failed
entry carries an ErrorCode, typically ProvisionedThroughputExceededException
or InternalFailure). We retry ONLY those records, a bounded number of times
with exponential backoff and jitter; what still fails is reported
"unreachable" and stays in the agent's disk buffer. Records that arrived are
never sent twice by this sink. A record that was retried may land after newer
ones of the same batch; every sample carries its timestamp.

boto3 is imported lazily so the agent installs and runs without it unless
this sink is used (extra `kinesis`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from missionctl_agent.samples import to_json
from missionctl_agent.sinks import SendResult

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1024 * 1024
MAX_PARTITION_KEY_CHARS = 256


def record_for(sample: dict[str, Any]) -> dict[str, Any]:
    """The put_records entry for one sample."""
    return {"Data": to_json(sample).encode("utf-8"), "PartitionKey": sample["host"][:MAX_PARTITION_KEY_CHARS]}


def record_size(record: dict[str, Any]) -> int:
    """Bytes a record counts for against the per-call and per-record limits."""
    return len(record["Data"]) + len(record["PartitionKey"].encode("utf-8"))


def batches(indices: list[int], sizes: list[int]) -> Iterator[list[int]]:
    """Split `indices` (in order) into calls of <= 500 records and <= 5 MiB.
    `sizes[k]` is the size of record `indices[k]`; each must be <= 1 MiB."""
    batch: list[int] = []
    batch_bytes = 0
    for index, size in zip(indices, sizes):
        if batch and (len(batch) == MAX_RECORDS_PER_CALL or batch_bytes + size > MAX_BYTES_PER_CALL):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(index)
        batch_bytes += size
    if batch:
        yield batch


class KinesisSink:
    name = "kinesis"
    max_batch_records = MAX_RECORDS_PER_CALL
    max_batch_bytes = MAX_BYTES_PER_CALL

    def __init__(
        self,
        stream_name: str,
        client: Any = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        max_retries: int = 3,
        backoff_base_s: float = 0.2,
        backoff_cap_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if client is None:
            import boto3  # lazy: only this sink needs boto3

            client = boto3.client("kinesis", region_name=region_name, endpoint_url=endpoint_url)
        self.stream_name = stream_name
        self._client = client
        self._max_retries = max_retries
        self._backoff_base_s = backoff_base_s
        self._backoff_cap_s = backoff_cap_s
        self._sleep = sleep

    def send(self, samples: list[dict[str, Any]]) -> SendResult:
        result = SendResult()
        records = [record_for(s) for s in samples]
        sendable: list[int] = []
        for index, record in enumerate(records):
            if record_size(record) > MAX_BYTES_PER_RECORD:
                result.refused[index] = f"record of {record_size(record)} bytes exceeds Kinesis' 1 MiB limit"
            else:
                sendable.append(index)
        for batch in batches(sendable, [record_size(records[i]) for i in sendable]):
            failure = self._put_with_retries(batch, records, result)
            if failure:
                result.unreachable = failure
                break  # the stream is not taking records: keep the rest buffered
        return result

    def close(self) -> None:
        pass

    def _put_with_retries(self, pending: list[int], records: list[dict[str, Any]], result: SendResult) -> str | None:
        """Put `pending` records, retrying only the failed ones. Appends the
        ones that arrived to result.delivered; returns a reason if some never did."""
        for attempt in range(self._max_retries + 1):
            if attempt:
                delay = min(self._backoff_cap_s, self._backoff_base_s * 2 ** (attempt - 1))
                self._sleep(delay * random.uniform(0.5, 1.0))  # jitter: don't retry in lockstep
            try:
                response = self._client.put_records(
                    StreamName=self.stream_name, Records=[records[i] for i in pending]
                )
            except Exception as exc:  # noqa: BLE001 - botocore raises many kinds; all mean "not now"
                return f"{type(exc).__name__}: {exc}"[:300]
            failed: list[int] = []
            codes: set[str] = set()
            for index, entry in zip(pending, response.get("Records", [])):
                if entry.get("ErrorCode"):
                    failed.append(index)
                    codes.add(entry["ErrorCode"])
                else:
                    result.delivered.append(index)
            if len(response.get("Records", [])) < len(pending):  # malformed answer: unknown = not delivered
                failed.extend(pending[len(response.get("Records", [])) :])
            if not failed:
                return None
            pending = failed
        return f"{len(pending)} records still failing after {self._max_retries} retries: {', '.join(sorted(codes))}"
