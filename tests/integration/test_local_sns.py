"""The local worker's SNS emulation calls the app's own ``@app.on_sns_message`` handler with the
event SNS gives Lambda, retries a failing invocation as Lambda does, and emails subscribers."""
import email
import json

from chalice import Chalice

from chalicelib.local.sns import LocalTopic
from chalicelib.local.worker import LocalWorker
from chalicelib.system.deadletters import recent


def make_app(fail=False):
    app = Chalice(app_name="sns-test")
    calls = []

    @app.on_sns_message(topic="alerts-test", name="onAlerts")
    def on_alerts(event):
        calls.append(event.to_dict())
        if fail:
            raise RuntimeError("the handler is broken")

    return app, calls


def test_a_published_message_reaches_the_handler_as_sns_delivers_it(sqlite_store):
    app, calls = make_app()
    topic = LocalTopic(sqlite_store, "alerts-test")
    message_id = topic.publish("[FIRING:1] x", {"type": "t", "n": 1}, "for people", ["c1"])
    assert LocalWorker(app, sqlite_store, "test-").deliver_notifications() == 1
    [event] = calls
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns"
    sns = record["Sns"]
    assert sns["MessageId"] == message_id and sns["Subject"] == "[FIRING:1] x"
    assert json.loads(sns["Message"]) == {"type": "t", "n": 1}  # the "default" variant
    assert sns["TopicArn"] == "arn:aws:sns:local:000000000000:alerts-test"
    assert sns["MessageAttributes"] == {"channels": {"Type": "String.Array", "Value": '["c1"]'}}
    assert sns["Timestamp"].endswith("Z") and sns["Type"] == "Notification"
    assert LocalWorker(app, sqlite_store, "test-").deliver_notifications() == 0  # delivered once


def test_a_failing_handler_is_invoked_three_times_then_the_message_is_set_aside(sqlite_store):
    app, calls = make_app(fail=True)
    topic = LocalTopic(sqlite_store, "alerts-test")
    topic.publish("s", {"n": 1}, "text", [])
    worker = LocalWorker(app, sqlite_store, "test-")
    assert [worker.deliver_notifications() for _ in range(4)] == [0, 0, 1, 0]
    assert len(calls) == 3
    [dead] = recent(sqlite_store, "sns-alerts-test")
    assert json.loads(dead["raw"]) == {"n": 1} and "3 times" in dead["reason"]


def test_email_subscribers_get_the_email_variant_once_filtered_by_channel(sqlite_store, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path))
    app, _calls = make_app(fail=True)  # email does not depend on the Lambda subscriber
    topic = LocalTopic(sqlite_store, "alerts-test")
    topic.subscribe_email("oncall@example.com", "c1")
    other = topic.subscribe_email("boss@example.com", "c2")
    topic.publish("[FIRING:1] Load high", {"n": 1}, "load.1m on web-1 is 6.5", ["c1"])
    worker = LocalWorker(app, sqlite_store, "test-")
    for _ in range(3):
        worker.deliver_notifications()
    [path] = list(tmp_path.glob("*.eml"))
    mail = email.message_from_bytes(path.read_bytes())
    assert (mail["To"], mail["Subject"]) == ("oncall@example.com", "[FIRING:1] Load high")
    assert mail.get_payload(decode=True).decode().startswith("load.1m on web-1 is 6.5")
    topic.unsubscribe(other)
    assert [s["endpoint"] for s in sqlite_store.query("system", "sns-subscriptions#alerts-test").items] == [
        "oncall@example.com"]
