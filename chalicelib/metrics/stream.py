"""The Kinesis consumer's logic: decode, validate, set aside what can never succeed, store
the rest, and name only the records not yet written as ``batchItemFailures``.

Not Powertools' BatchProcessor: it handles records one at a time, while samples are written
in transactions of many records (with roll-ups aggregated across them and duplicates found
across the batch); failure is known per transaction, which this maps back to records."""
from __future__ import annotations

import logging
from typing import Callable, Sequence

from pydantic import ValidationError

from .. import bounded_json
from ..errors import InvalidInput, pydantic_details
from .ingest import SampleWriteFailed, check_sample_time, record_samples
from .models import MetricSample
from .repository import MetricsRepository

logger = logging.getLogger("mission_control.metrics")


def consume_records(records: Sequence[tuple[str, bytes]], repo: MetricsRepository,
                    set_aside: Callable[[str, str, str], None], now_ms: int) -> dict:
    """``records`` are (sequence number, data). Returns the Lambda partial-batch response."""
    samples: list[tuple[str, MetricSample]] = []
    for seq, data in records:
        try:
            body = bounded_json.parse(data)
            items = body if isinstance(body, list) else [body]
            for item in items:
                if not isinstance(item, dict):
                    raise InvalidInput("not a JSON object")
                sample = MetricSample.model_validate(item)
                check_sample_time(sample, now_ms, repo.retention_ms)
                samples.append((seq, sample))
        except (ValueError, UnicodeDecodeError) as exc:  # ValidationError is a ValueError
            reason = (f"not a valid sample: {pydantic_details(exc)}" if isinstance(exc, ValidationError)
                      else f"not valid JSON: {exc}")
            set_aside(reason, data.decode("utf-8", "replace"), seq)
        except bounded_json.JsonRefused as refused:
            set_aside(f"the record {refused.reason}", data.decode("utf-8", "replace"), seq)
        except InvalidInput as exc:
            set_aside(f"refused: {exc.message} {exc.details}", data.decode("utf-8", "replace"), seq)
    if not samples:
        return {"batchItemFailures": []}
    try:
        record_samples(repo, [s for _seq, s in samples])
    except SampleWriteFailed as failed:
        logger.warning("metrics store failed part-way; Kinesis will retry the rest: %s", failed)
        retry = sorted({seq for seq, s in samples if s.key not in failed.written}, key=int)
        return {"batchItemFailures": [{"itemIdentifier": seq} for seq in retry]}
    return {"batchItemFailures": []}
