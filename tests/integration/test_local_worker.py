"""The local worker invokes the app's own handlers with AWS-shaped events."""
from datetime import datetime, timezone

from chalice import Chalice, Cron, Rate

from chalicelib.local.worker import LocalWorker, local_stream_arn, next_run


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def make_app(fail_on=(), calls=None):
    app = Chalice(app_name="worker-test")
    calls = calls if calls is not None else []

    @app.schedule(Rate(5, unit=Rate.MINUTES), name="every5")
    def every5(event):
        calls.append(("every5", event.detail_type, event.source))

    @app.schedule(Cron(1, "*", "*", "*", "?", "*"), name="hourly")
    def hourly(event):
        calls.append(("hourly", event.detail_type, event.source))

    @app.on_dynamodb_record(stream_arn=local_stream_arn("test-events"), name="onEvents", batch_size=10)
    def on_events(event):
        failures = []
        for record in event:
            pk = record.keys["pk"]["S"]
            calls.append(("record", record.event_name, pk, record.new_image))
            if pk in fail_on:
                failures.append({"itemIdentifier": record.sequence_number})
        return {"batchItemFailures": failures}

    return app, calls


def test_schedule_expressions_fire_when_eventbridge_would():
    assert next_run("rate(5 minutes)", 1000.0) == 1300.0
    assert next_run("rate(1 hour)", 0.0) == 3600.0
    assert next_run("cron(1 * * * ? *)", at("2026-11-23T10:30:00")) == at("2026-11-23T11:01:00")
    # EventBridge counts weekdays from Sunday = 1: 2 is Monday.
    assert next_run("cron(0 9 ? * 2 *)", at("2026-11-23T10:00:00")) == at("2026-11-30T09:00:00")


def test_every_job_runs_at_start_then_on_its_schedule(sqlite_store):
    clock = {"now": at("2026-11-23T10:30:00")}
    app, calls = make_app()
    worker = LocalWorker(app, sqlite_store, "test-", clock=lambda: clock["now"])
    worker.start_schedules()
    assert sorted(worker.run_due_jobs()) == ["every5", "hourly"]
    assert ("every5", "Scheduled Event", "aws.events") in calls
    clock["now"] += 299
    assert worker.run_due_jobs() == []
    clock["now"] += 1
    assert worker.run_due_jobs() == ["every5"]
    clock["now"] = at("2026-11-23T11:01:00")
    assert worker.run_due_jobs() == ["every5", "hourly"]


def test_a_failing_job_does_not_stop_the_others(sqlite_store):
    app, calls = make_app()

    @app.schedule(Rate(1, unit=Rate.MINUTES), name="broken")
    def broken(event):
        raise RuntimeError("boom")

    worker = LocalWorker(app, sqlite_store, "test-", clock=lambda: 1000.0)
    worker.start_schedules()
    assert sorted(worker.run_due_jobs()) == ["every5", "hourly"]


def test_changes_reach_the_stream_handler_as_dynamodb_records(sqlite_store):
    app, calls = make_app()
    worker = LocalWorker(app, sqlite_store, "test-")
    sqlite_store.put("events", {"pk": "a", "sk": "e", "amount": 5, "ratio": 0.5})
    sqlite_store.put("events", {"pk": "a", "sk": "e", "amount": 6}, if_absent=False)
    assert worker.deliver_changes() == 2
    assert [c[:3] for c in calls] == [("record", "INSERT", "a"), ("record", "MODIFY", "a")]
    assert calls[0][3] == {"pk": {"S": "a"}, "sk": {"S": "e"}, "amount": {"N": "5"}, "ratio": {"N": "0.5"}}
    assert worker.deliver_changes() == 0  # checkpointed: nothing delivered twice


def test_a_reported_failure_is_retried_from_that_record_on(sqlite_store):
    app, calls = make_app(fail_on={"b"})
    worker = LocalWorker(app, sqlite_store, "test-")
    for pk in ("a", "b", "c"):
        sqlite_store.put("events", {"pk": pk, "sk": "e"})
    assert worker.deliver_changes() == 1  # a done; b failed, so b and c come again
    assert [c[2] for c in calls] == ["a", "b", "c"]
    calls.clear()
    worker.deliver_changes()
    assert [c[2] for c in calls] == ["b", "c"]


def test_a_crashing_stream_handler_gets_the_whole_batch_again(sqlite_store):
    app = Chalice(app_name="crash")
    seen = []

    @app.on_dynamodb_record(stream_arn=local_stream_arn("test-events"), name="crashes")
    def crashes(event):
        seen.append([r.keys["pk"]["S"] for r in event])
        if len(seen) == 1:
            raise RuntimeError("first delivery fails")

    worker = LocalWorker(app, sqlite_store, "test-")
    sqlite_store.put("events", {"pk": "x", "sk": "e"})
    worker.deliver_changes()
    worker.deliver_changes()
    assert seen == [["x"], ["x"]]


# -- the change log does not outlive its delivery ------------------------------------------------

def test_what_every_consumer_received_is_trimmed_after_the_margin(sqlite_store, monkeypatch):
    from chalicelib.local import worker as worker_module
    app, calls = make_app(fail_on={"b"})
    worker = LocalWorker(app, sqlite_store, "test-")
    for pk in ("a", "b", "c"):
        sqlite_store.put("events", {"pk": pk, "sk": "e"})
    sqlite_store.put("metrics", {"pk": "m", "sk": "1"})  # a streamed table nobody consumes
    worker.deliver_changes()  # a delivered; b failed, so b and c will come again
    assert worker.trim_delivered_changes() == 0  # within the margin, everything stays

    monkeypatch.setattr(worker_module, "DELIVERED_CHANGES_KEPT_S", 0)
    assert worker.trim_delivered_changes() == 2  # a, and the unconsumed metrics change
    assert [c.keys["pk"] for c in sqlite_store.changes("events").changes] == ["b", "c"]
    assert sqlite_store.changes("metrics").changes == []
    calls.clear()
    worker.deliver_changes()  # the trim took nothing the consumer still needs
    assert [c[2] for c in calls] == ["b", "c"]


def test_a_consumer_that_has_received_nothing_yet_keeps_the_whole_log(sqlite_store, monkeypatch):
    from chalicelib.local import worker as worker_module
    monkeypatch.setattr(worker_module, "DELIVERED_CHANGES_KEPT_S", 0)
    app, _calls = make_app()
    worker = LocalWorker(app, sqlite_store, "test-")
    sqlite_store.put("events", {"pk": "a", "sk": "e"})
    assert worker.trim_delivered_changes() == 0
    assert len(sqlite_store.changes("events").changes) == 1
