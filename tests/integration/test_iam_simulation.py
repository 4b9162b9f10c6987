"""Policy simulation: the API handler's generated IAM policy, evaluated against every DynamoDB
call the API handler really makes on DynamoDB Local while it serves the main flows (ingest,
KPIs, metrics, insights, alerts, API keys). A call its policy would deny fails the test, naming
the action and table; so does a table it is granted but never touches."""
import fnmatch
import json
import re
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infrastructure"))

import build_template  # noqa: E402

from tests.conftest import admin_with_every_key_on  # noqa: E402
from tests.shared_data import AWS_EVENTS  # noqa: E402

JSON = {"content-type": "application/json"}
REGION, ACCOUNT = "us-east-1", "123456789012"
TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                    "ConditionCheck": "ConditionCheckItem"}


def resolve(value, prefix: str):
    """A policy resource as it would be on AWS, for a stack whose tables are named ``prefix*``."""
    from chalicelib.storage.tables import TABLES
    tables = {build_template.logical_id(t): f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{prefix}{t}" for t in TABLES}
    if "Fn::GetAtt" in value:
        logical, attribute = value["Fn::GetAtt"]
        return tables[logical] + ("/stream/*" if attribute == "StreamArn" else "")
    if "Ref" in value:
        return f"arn:aws:other:{REGION}:{ACCOUNT}:{value['Ref']}"
    text = value["Fn::Sub"]
    text = re.sub(r"\$\{(Table\w+)\.Arn\}", lambda m: tables[m.group(1)], text)
    return (text.replace("${AWS::Partition}", "aws").replace("${AWS::Region}", REGION)
            .replace("${AWS::AccountId}", ACCOUNT).replace("${AWS::StackName}", "mc"))


def allowed(policy: dict, action: str, resource: str, prefix: str) -> bool:
    """IAM's evaluation for Allow-only policies: some statement names the action and resource."""
    for statement in policy["Statement"]:
        if statement["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action, a) for a in statement["Action"]) \
                and any(fnmatch.fnmatchcase(resource, resolve(r, prefix)) for r in statement["Resource"]):
            return True
    return False


class CallLog:
    """Every DynamoDB call a boto3 client makes, as (IAM action, resource ARN) pairs."""

    def __init__(self):
        self.calls: set[tuple[str, str]] = set()

    def __call__(self, model, params, **_):
        def arn(table, index=None):
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}" + (f"/index/{index}" if index else "")
        name = model.name
        if name in ("BatchGetItem", "BatchWriteItem"):
            self.calls.update((f"dynamodb:{name}", arn(t)) for t in params["RequestItems"])
        elif name in ("TransactWriteItems", "TransactGetItems"):
            for item in params["TransactItems"]:
                [(kind, body)] = item.items()
                self.calls.add((f"dynamodb:{TRANSACT_ACTIONS.get(kind, 'GetItem')}", arn(body["TableName"])))
        else:
            self.calls.add((f"dynamodb:{name}", arn(params.get("TableName", "?"), params.get("IndexName"))))


@pytest.fixture
def recorded_api(dynamo_store, access_gate, issuer, monkeypatch):
    from chalicelib.ci.secrets import forget_cached
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "simulation-secret")
    monkeypatch.setenv("CI_DEPLOY_WORKFLOWS", "test")
    forget_cached()
    log = CallLog()
    dynamo_store.client.meta.events.register("before-parameter-build.dynamodb.*", log)
    for api in admin_with_every_key_on(dynamo_store, access_gate, issuer):
        yield api, log, dynamo_store
    forget_cached()


LOAD_RULE = {"name": "Load high", "kind": "threshold", "source": "metric", "host": "*", "metric": "load.1m",
             "op": ">", "value": 4, "recover": 2, "severity": "CRITICAL", "for": "0s"}


def serve_the_main_flows(api) -> None:
    now = int(time.time() * 1000)
    purchases = [{"orderId": f"s-{i}", "productId": "pro", "productName": "Pro", "amount": 1250, "currency": "USD",
                  "userId": f"u-{i}", "sessionId": f"s-{i}", "timestamp": now - i * 1000} for i in range(5)]
    samples = [{"host": "db-1", "kind": "vm", "timestamp": now - i * 10_000, "values": {"cpu.percent": 5.0}}
               for i in range(3)]
    calls = [("POST", "/api/ingest/purchase", purchases), ("POST", "/api/metrics", samples),
             ("GET", "/api/kpis?period=24h", None), ("GET", "/api/users", None), ("GET", "/api/products", None),
             ("GET", "/api/revenue", None), ("GET", "/api/hosts", None), ("GET", "/api/insights", None),
             ("GET", "/api/system-health", None), ("GET", "/api/alerts", None), ("GET", "/api/alert-rules", None),
             ("POST", "/api/alert-rules", LOAD_RULE),
             ("GET", "/api/channels", None), ("GET", "/api/keys", None)]
    for method, path, body in calls:
        reply = api.http.request(method, path, headers=JSON, body=json.dumps(body) if body is not None else b"")
        assert reply.status_code in (200, 201), (path, reply.body)
    # incidents, the timeline and the CI console (a signed GitHub delivery, a user's settings)
    from ci_helpers import deliver, payload
    assert deliver(api, "workflow_run", payload("workflow_run", "completed"), secret="simulation-secret").status_code == 200
    reply = api.http.post("/api/incidents", headers=JSON, body=json.dumps(
        {"title": "Checkout down", "severity": "HIGH", "service": "checkout"}))
    assert reply.status_code == 201, reply.body
    incident = json.loads(reply.body)["id"]
    for path in (f"/api/incidents/{incident}", f"/api/incidents/{incident}/impact", f"/api/incidents/{incident}/before",
                 "/api/incidents?status=open", "/api/incidents/stats", "/api/timeline", "/api/repos",
                 "/api/repos/octo-org/octo-repo", "/api/ci/health", "/api/settings"):
        reply = api.http.get(path)
        assert reply.status_code == 200, (path, reply.body)
    reply = api.http.put("/api/settings", headers=JSON, body=json.dumps({"pinnedRepos": ["octo-org/octo-repo"]}))
    assert reply.status_code == 200, reply.body


def test_the_api_handlers_policy_allows_every_call_it_makes_and_nothing_it_never_touches(recorded_api):
    api, log, store = recorded_api
    serve_the_main_flows(api)
    policy = build_template.template()["Resources"]["ApiHandlerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    prefix = store.table_prefix
    assert log.calls, "no DynamoDB call was recorded"
    denied = sorted(call for call in log.calls if not allowed(policy, *call, prefix))
    assert not denied, f"the API handler's policy denies calls it makes: {denied}"
    # and the policy is no wider than the code: each granted table is one the handler touched
    touched = {arn.split("/")[1] for _action, arn in log.calls}
    granted = {resolve(r, prefix).split("/")[1] for s in policy["Statement"] if s["Sid"].endswith("Tables")
               for r in s["Resource"]}
    assert granted <= touched, granted - touched


def test_the_simulation_denies_what_the_policy_does_not_grant(dynamo_store):
    """The evaluator is not a rubber stamp: a scan, another table, another action are denied."""
    policy = build_template.template()["Resources"]["ProbeHealthRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    prefix = "mc-"
    system = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/mc-system"
    assert allowed(policy, "dynamodb:Query", system, prefix)
    assert not allowed(policy, "dynamodb:Scan", system, prefix)
    assert not allowed(policy, "dynamodb:Query", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/mc-auth", prefix)
    assert not allowed(policy, "dynamodb:DeleteTable", system, prefix)


@pytest.mark.parametrize("function", ["aggregateStats", "dailyRollup", "probeHealth", "evaluateAlerts",
                                      "scoreBusiness", "ciBackfill", "closeExpiredConnections"])
def test_each_scheduled_functions_policy_allows_every_call_it_makes(recorded_api, function):
    from tests.integration.alerting_helpers import minute_now, scheduled
    api, log, store = recorded_api
    serve_the_main_flows(api)  # data for the job to read
    log.calls.clear()
    api.lambda_.invoke(function, scheduled(minute_now(), function))
    policy = build_template.template()["Resources"][build_template.role_id(function)]["Properties"]["Policies"][0]
    assert log.calls, f"{function} made no DynamoDB call"
    denied = sorted(call for call in log.calls if not allowed(policy["PolicyDocument"], *call, store.table_prefix))
    assert not denied, f"{function}'s policy denies calls it makes: {denied}"


def test_the_stream_consumers_policies_allow_every_call_they_make(recorded_api):
    """consumeMetrics gets Kinesis's event (AWS's sample record carrying our samples);
    scoreMetrics gets the metrics table's own changes as DynamoDB Streams records."""
    import base64

    from app import app
    from chalicelib.config import settings
    from chalicelib.local.worker import LambdaContext, local_stream_arn, stream_record
    api, log, store = recorded_api
    now = int(time.time() * 1000)
    template = json.loads((AWS_EVENTS / "aws-lambda-go__kinesis-event.json").read_text())
    record = template["Records"][0]
    record["kinesis"]["data"] = base64.b64encode(json.dumps(
        [{"host": "db-2", "kind": "vm", "timestamp": now - i * 10_000, "values": {"cpu.percent": 7.0}}
         for i in range(3)]).encode()).decode()
    resources = build_template.template()["Resources"]

    def check(function: str) -> None:
        policy = resources[build_template.role_id(function)]["Properties"]["Policies"][0]["PolicyDocument"]
        assert log.calls, f"{function} made no DynamoDB call"
        denied = sorted(call for call in log.calls if not allowed(policy, *call, store.table_prefix))
        assert not denied, f"{function}'s policy denies calls it makes: {denied}"

    log.calls.clear()
    assert api.lambda_.invoke("consumeMetrics", {"Records": [record]}).payload["batchItemFailures"] == []
    check("consumeMetrics")
    changes = store.changes("metrics").changes
    assert changes
    arn = local_stream_arn(settings().table_prefix + "metrics")
    log.calls.clear()
    app.handler_map["scoreMetrics"]({"Records": [stream_record(c, arn) for c in changes]},
                                    LambdaContext("scoreMetrics"))
    check("scoreMetrics")


def test_the_sns_subscribers_policy_allows_every_call_it_makes(recorded_api):
    """notifyChannels gets the very message evaluation published (SNS's event shape), with a
    webhook channel on a loopback receiver."""
    from alerting_helpers import fire_load_alert, post
    from loopback_receiver import LoopbackReceiver

    from chalicelib.local.sns import LocalTopic
    api, log, store = recorded_api
    hook = LoopbackReceiver.start()
    try:
        status, _ = post(api, "/api/channels", {"name": "hooks", "type": "webhook", "url": hook.url("/hook"),
                                                "secret": "s3cret"})
        assert status == 201
        fire_load_alert(api, LOAD_RULE)
        [message] = LocalTopic(store, "mission-control-alerts").pending()
        event = LocalTopic(store, "mission-control-alerts").event(message)
        log.calls.clear()
        assert api.lambda_.invoke("notifyChannels", event).payload["delivered"] == 1
    finally:
        hook.stop()
    policy = build_template.template()["Resources"]["NotifyChannelsRole"]["Properties"]["Policies"][0]
    assert log.calls
    denied = sorted(c for c in log.calls if not allowed(policy["PolicyDocument"], *c, store.table_prefix))
    assert not denied, f"notifyChannels' policy denies calls it makes: {denied}"


def policy_of(function: str) -> dict:
    resources = build_template.template()["Resources"]
    return resources[build_template.role_id(function)]["Properties"]["Policies"][0]["PolicyDocument"]


def assert_allowed(function: str, log: CallLog, store, made_calls: bool = True) -> None:
    assert log.calls or not made_calls, f"{function} made no DynamoDB call"
    denied = sorted(c for c in log.calls if not allowed(policy_of(function), *c, store.table_prefix))
    assert not denied, f"{function}'s policy denies calls it makes: {denied}"


def test_the_alarm_handlers_policy_allows_every_call_it_makes(recorded_api):
    """alarmToIncident gets AWS's documented alarm state change, as EventBridge delivers it."""
    api, log, store = recorded_api
    event = json.loads((AWS_EVENTS / "awsdocs-cloudwatch-user-guide__eventbridge__"
                                     "state-change-for-a-single-metric-alarm.json").read_text())
    post_channel = api.http.post("/api/channels", headers=JSON, body=json.dumps(
        {"name": "hooks", "type": "webhook", "url": "https://hooks.example.com/x", "secret": "s3cret"}))
    assert post_channel.status_code == 201, post_channel.body
    log.calls.clear()
    api.lambda_.invoke("alarmToIncident", event)
    assert_allowed("alarmToIncident", log, store)
    assert any("incidents" in arn for _action, arn in log.calls)


def test_the_live_functions_policies_allow_every_call_they_make(recorded_api, issuer):
    """The WebSocket handlers with API Gateway's connect payload, and each push function on its
    own table's change records (DynamoDB Streams' shape)."""
    from app import app
    from chalicelib.config import settings
    from chalicelib.live.handlers import PUSHED_TABLES, push_function_name
    from chalicelib.local.worker import LambdaContext, local_stream_arn, stream_record
    api, log, store = recorded_api
    serve_the_main_flows(api)  # changes on every streamed table
    connect = json.loads((ROOT / "tests/fixtures/apigw-websocket/connect.json").read_text())
    connect["queryStringParameters"] = {"token": issuer.token("viewer")}
    connect["multiValueQueryStringParameters"] = {"token": [connect["queryStringParameters"]["token"]]}
    log.calls.clear()
    assert app.handler_map["liveConnect"](connect, LambdaContext("websocket_connect"))["statusCode"] == 200
    assert_allowed("websocket_connect", log, store)
    # Subscribers to every topic, through the local WebSocket API, so each push reads what its
    # notices' ETags need (a topic nobody subscribes to is never read).
    import socket

    from websockets.sync.client import connect as ws_connect

    from chalicelib.live.handlers import PUSH_READS
    from chalicelib.local.websocket import LocalWebSocketApi

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    server = LocalWebSocketApi(app, "127.0.0.1", free_port(), free_port())
    server.start()
    try:
        with ws_connect(f"ws://127.0.0.1:{server.port}/?token={issuer.token('admin')}") as ws:
            ws.send(json.dumps({"action": "subscribe", "topics": [
                "kpis", "hosts", "host:db-1", "alerts", "insights", "incidents", "ci", "notifications"]}))
            assert json.loads(ws.recv(timeout=20))["refused"] == []
            checked = []
            for table in PUSHED_TABLES:
                changes = store.changes(table).changes
                if not changes:
                    continue
                arn = local_stream_arn(settings().table_prefix + table)
                log.calls.clear()
                function = push_function_name(table)
                app.handler_map[function]({"Records": [stream_record(c, arn) for c in changes]},
                                          LambdaContext(function))
                # a change no topic shows (an alert rule) is pushed to no one: no call at all
                pushed = table in ("events", "metrics", "incidents", "ci_runs")
                assert_allowed(function, log, store, made_calls=pushed)
                if pushed:  # and it reads every table it is granted for its topics' ETags
                    touched = {arn.split("/")[1].removeprefix(store.table_prefix) for _a, arn in log.calls}
                    assert {"connections", *PUSH_READS[table]} <= touched, (function, touched)
                checked.append(table)
    finally:
        server.stop()
    assert {"events", "metrics", "incidents", "ci_runs"} <= set(checked), checked
    disconnect = {**connect, "requestContext": {**connect["requestContext"], "eventType": "DISCONNECT",
                                                "routeKey": "$disconnect"}}
    log.calls.clear()
    app.handler_map["liveDisconnect"](disconnect, LambdaContext("websocket_disconnect"))
    assert_allowed("websocket_disconnect", log, store)
