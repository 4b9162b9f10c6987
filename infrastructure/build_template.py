"""Writes infrastructure/merge-template.json: what `chalice package --merge-template` adds to
the prod stage's CloudFormation (the DynamoDB tables declared in chalicelib/storage/tables.py,
the metrics Kinesis stream, partial batch responses for the stream consumers, the metrics
table's own stream for the insights handler, and the alerts SNS topic that evaluateAlerts
publishes to and notifyChannels subscribes to).

    .venv/bin/python infrastructure/build_template.py        (rewrites the file)
    AWS_DEFAULT_REGION=... chalice package --stage prod --merge-template infrastructure/merge-template.json out/

Chalice cannot switch ReportBatchItemFailures on, so the template does.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.storage.tables import TABLES  # noqa: E402

PREFIX = "mission-control-prod-"
#: Stream handlers: (function, its event source, what the source reads, what it depends on).
#: The DynamoDB stream is this stack's own table's: its ARN is only known once it exists.
STREAM_CONSUMERS = [
    ("ConsumeMetrics", "ConsumeMetricsKinesisEventSource", None, "MetricsStream"),
    ("ScoreMetrics", "ScoreMetricsDynamodbEventSource",
     {"Fn::GetAtt": ["TableMetrics", "StreamArn"]}, "TableMetrics"),
]
#: the topic's name is ALERTS_TOPIC's default (chalicelib/alerts/settings.py)
ALERTS_TOPIC = "mission-control-alerts"
#: the functions subscribed to it (Chalice names the topic by ARN; the stack creates it)
TOPIC_SUBSCRIBERS = ("NotifyChannels",)


def logical_id(name: str) -> str:
    return "Table" + "".join(part.capitalize() for part in name.split("_"))


def table(name: str, stream: bool) -> dict:
    props = {
        "TableName": PREFIX + name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"}
                                 for a in ("pk", "sk", "gsi1pk", "gsi1sk")],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": "gsi1",
            "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                          {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
        "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    if stream:
        props["StreamSpecification"] = {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": props}


def live_push_consumers() -> list[tuple]:
    """The live push handler, once per streamed table it reads (chalicelib/live/handlers.py)."""
    from chalicelib.live.handlers import PUSHED_TABLES, push_function_name
    consumers = []
    for name in PUSHED_TABLES:
        function = push_function_name(name)
        function = function[0].upper() + function[1:]
        consumers.append((function, f"{function}DynamodbEventSource",
                          {"Fn::GetAtt": [logical_id(name), "StreamArn"]}, logical_id(name)))
    return consumers


STREAM_CONSUMERS += live_push_consumers()


def template() -> dict:
    resources: dict = {logical_id(name): table(name, spec.stream) for name, spec in TABLES.items()}
    resources["MetricsStream"] = {"Type": "AWS::Kinesis::Stream", "Properties": {
        "Name": "mission-control-metrics", "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
        "RetentionPeriodHours": 24, "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}}}
    for function, source, stream, depends_on in STREAM_CONSUMERS:
        # DependsOn: the event source names the stream, which this same stack creates.
        properties: dict = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
        if stream is not None:
            properties["Stream"] = stream
        resources[function] = {"DependsOn": [depends_on], "Properties": {"Events": {source: {
            "Properties": properties}}}}
    resources["AlertsTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {
        "TopicName": ALERTS_TOPIC, "DisplayName": "Mission Control alerts",
        "KmsMasterKeyId": "alias/aws/sns"}}
    for function in TOPIC_SUBSCRIBERS:
        resources[function] = {"DependsOn": ["AlertsTopic"]}
    return {"Resources": resources}


if __name__ == "__main__":
    out = ROOT / "infrastructure" / "merge-template.json"
    out.write_text(json.dumps(template(), indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
