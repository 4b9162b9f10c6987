"""The local worker: an honest emulation of the AWS event sources `chalice local` lacks.

It invokes the very handler functions the app registers (``app.handler_map``) with payloads
of the shape AWS sends: EventBridge "Scheduled Event"s for ``@app.schedule``, DynamoDB
Streams records (from the store's change log) for ``@app.on_dynamodb_record``, and SNS
notifications for ``@app.on_sns_message`` (messages published to the local topic emulation,
``chalicelib.local.sns``, which also writes the topic's email to the outbox), and events put on
the local EventBridge bus (``chalicelib.local.event_bus``) for each ``@app.on_cw_event`` whose
pattern matches. Stream
deliveries honour ``batchItemFailures`` as Lambda does with ReportBatchItemFailures: the batch
is retried from the first failed record, never skipped.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from ..storage import Store
from ..storage.tables import TABLES

logger = logging.getLogger("mission_control.worker")

ACCOUNT, REGION = "000000000000", "local"

#: delivered change-log entries are kept this long before they are deleted: a short margin
#: for whoever looks at the log by hand; DynamoDB Streams keep 24 h, but locally nothing reads
#: an entry again once every consumer's checkpoint is past it
DELIVERED_CHANGES_KEPT_S = 60
#: how often delivered entries are deleted (a few indexed deletes), and how often expired items
#: are purged and the file's free pages given back to the file system
TRIM_EVERY_S = 10
PURGE_EVERY_S = 600


@dataclass
class ScheduledJob:
    name: str
    expression: str  # EventBridge syntax: rate(5 minutes) or cron(1 * * * ? *)
    handler: Callable[[dict, Any], Any]
    next_due: float = 0.0  # epoch seconds

    def schedule_next(self, after: float) -> None:
        self.next_due = next_run(self.expression, after)


def next_run(expression: str, after: float) -> float:
    """The next time (epoch s) an EventBridge schedule expression fires after ``after``."""
    if expression.startswith("rate(") and expression.endswith(")"):
        value, unit = expression[5:-1].split()
        seconds = {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
        return after + int(value) * seconds
    if expression.startswith("cron(") and expression.endswith(")"):
        from croniter import croniter  # dev-only dependency: only the local worker needs it
        minute, hour, dom, month, dow, _year = expression[5:-1].split()
        # EventBridge numbers weekdays 1-7 from Sunday and uses "?" for "any".
        dow = "*" if dow == "?" else ",".join(
            str(int(d) - 1) if d.isdigit() else d for d in dow.split(","))
        dom = "*" if dom == "?" else dom
        start = datetime.fromtimestamp(after, timezone.utc)
        return croniter(f"{minute} {hour} {dom} {month} {dow}", start).get_next(float)
    raise ValueError(f"unsupported schedule expression {expression!r}")


class LambdaContext:
    """The parts of Lambda's context object handlers use."""

    def __init__(self, function_name: str, timeout_s: int = 60):
        self.function_name = function_name
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def scheduled_event(rule: str, when: float) -> dict:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": ACCOUNT,
            "time": datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION, "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
            "detail": {}}


def _dynamo_json(value: Any) -> dict:
    from boto3.dynamodb.types import TypeSerializer  # the AWS library's own wire format
    return TypeSerializer().serialize(_decimals(value))


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def stream_record(change, stream_arn: str) -> dict:
    """A change-log entry as the DynamoDB Streams record Lambda delivers."""
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": int(time.time()),
        "Keys": {k: {"S": v} for k, v in change.keys.items()},
        "SequenceNumber": change.sequence, "SizeBytes": 0, "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if change.new_image is not None:
        body["NewImage"] = _dynamo_json(change.new_image)["M"]
    if change.old_image is not None:
        body["OldImage"] = _dynamo_json(change.old_image)["M"]
    return {"eventID": uuid.uuid4().hex, "eventName": change.event, "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": REGION, "dynamodb": body,
            "eventSourceARN": stream_arn}


def local_stream_arn(physical_table: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{physical_table}/stream/local"


class LocalWorker:
    def __init__(self, app: Any, store: Store, table_prefix: str, clock: Callable[[], float] = time.time):
        from chalice.app import CloudWatchEventConfig, DynamoDBEventConfig, ScheduledEventConfig, SNSEventConfig
        self.app, self.store, self.prefix, self.clock = app, store, table_prefix, clock
        self.jobs: list[ScheduledJob] = []
        self.streams: list[tuple[str, str, Callable, int]] = []  # name, table, handler, batch
        self.topics: list[tuple[str, str, Callable]] = []  # function name, topic, handler
        self.rules: list[tuple[str, dict, Callable]] = []  # function name, event pattern, handler
        for source in app.event_sources:
            if isinstance(source, ScheduledEventConfig):
                expr = source.schedule_expression
                expr = expr if isinstance(expr, str) else expr.to_string()
                self.jobs.append(ScheduledJob(source.name, expr, app.handler_map[source.name]))
            elif isinstance(source, DynamoDBEventConfig):
                table = source.stream_arn.split(":table/", 1)[1].split("/", 1)[0]
                self.streams.append((source.name, table.removeprefix(table_prefix),
                                     app.handler_map[source.name], source.batch_size))
            elif isinstance(source, CloudWatchEventConfig):
                self.rules.append((source.name, source.event_pattern, app.handler_map[source.name]))
            elif isinstance(source, SNSEventConfig):
                self.topics.append((source.name, source.topic.rsplit(":", 1)[-1],
                                    app.handler_map[source.name]))
        self.last_purge = 0.0
        self.last_trim = 0.0

    # -- schedules --------------------------------------------------------------------------
    def start_schedules(self) -> None:
        """Every job runs once at start, catching up on the time no worker ran, then on its
        schedule."""
        now = self.clock()
        for job in self.jobs:
            job.next_due = now

    def run_due_jobs(self) -> list[str]:
        now, ran = self.clock(), []
        for job in self.jobs:
            if job.next_due and job.next_due <= now:
                job.schedule_next(now)
                try:
                    job.handler(scheduled_event(job.name, now), LambdaContext(job.name))
                    ran.append(job.name)
                except Exception:  # noqa: BLE001 - a failing job must not stop the others
                    logger.exception("scheduled job %s failed; next run at %s", job.name,
                                     datetime.fromtimestamp(job.next_due, timezone.utc).isoformat())
        return ran

    # -- change streams ---------------------------------------------------------------------
    def _checkpoint(self, name: str) -> str | None:
        item = self.store.get("system", "stream-checkpoint", name)
        return item["after"] if item else None

    def deliver_changes(self) -> int:
        """Hand new change-log entries to each stream handler; returns records delivered."""
        delivered = 0
        for name, table, handler, batch_size in self.streams:
            after = self._checkpoint(name)
            batch = self.store.changes(table, after=after, limit=batch_size)
            if not batch.changes:
                continue
            arn = local_stream_arn(self.prefix + table)
            records = [stream_record(c, arn) for c in batch.changes]
            try:
                result = handler({"Records": records}, LambdaContext(name))
            except Exception:  # noqa: BLE001 - as Lambda: the whole batch is retried
                logger.exception("stream handler %s failed; the batch will be retried", name)
                continue
            failures = (result or {}).get("batchItemFailures") or []
            failed = {f.get("itemIdentifier") for f in failures}
            cursor = batch.cursor
            for i, change in enumerate(batch.changes):
                if change.sequence in failed:
                    # Resume at the first failure: everything before it is done.
                    cursor = batch.changes[i - 1].sequence if i else after
                    break
                delivered += 1
            if cursor != after:
                self.store.put("system", {"pk": "stream-checkpoint", "sk": name, "after": cursor},
                               if_absent=False)
        return delivered

    # -- SNS topics ---------------------------------------------------------------------------
    def deliver_notifications(self) -> int:
        """What was published to each local topic, to its email subscribers and to its SNS
        handler (one message per invocation, as Lambda gets them); returns messages done."""
        from .sns import LocalTopic
        done = 0
        for name, topic, handler in self.topics:
            done += LocalTopic(self.store, topic).deliver(handler, lambda: LambdaContext(name))
        return done

    # -- the EventBridge bus ------------------------------------------------------------------
    def deliver_events(self) -> int:
        """Events put on the local bus, to every ``on_cw_event`` handler whose pattern matches;
        returns events done."""
        from .event_bus import LocalEventBus
        return LocalEventBus(self.store).deliver(self.rules, LambdaContext)

    # -- housekeeping -----------------------------------------------------------------------
    def trim_delivered_changes(self) -> int:
        """Delete the change-log entries every consumer of their table has received (a table
        nobody consumes: every entry), once older than ``DELIVERED_CHANGES_KEPT_S``; returns
        how many. DynamoDB trims its streams itself."""
        forget = getattr(self.store, "forget_changes", None)
        if forget is None:
            return 0
        trimmed = 0
        for table in sorted(name for name, spec in TABLES.items() if spec.stream):
            checkpoints = [self._checkpoint(name) for name, consumed, _h, _b in self.streams
                           if consumed == table]
            trimmed += forget(table, checkpoints, DELIVERED_CHANGES_KEPT_S)
        return trimmed

    def housekeeping(self) -> None:
        now = self.clock()
        if now - self.last_trim >= TRIM_EVERY_S:
            self.last_trim = now
            self.trim_delivered_changes()
        # DynamoDB expires items and manages its space itself: these are SQLite's.
        purge = getattr(self.store, "purge_expired", None)
        compact = getattr(self.store, "compact", None)
        if purge is not None and now - self.last_purge >= PURGE_EVERY_S:
            self.last_purge = now
            purge()
            if compact is not None:
                compact()

    def run(self, stop: threading.Event, tick_s: float = 1.0) -> None:
        self.start_schedules()
        while not stop.is_set():
            self.run_due_jobs()
            try:
                self.deliver_changes()
                self.deliver_notifications()
                self.deliver_events()
                self.housekeeping()
            except Exception:  # noqa: BLE001 - keep the worker alive through a store hiccup
                logger.exception("worker tick failed; retrying")
            stop.wait(tick_s)
