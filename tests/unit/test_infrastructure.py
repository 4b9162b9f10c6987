"""The CloudFormation merge template stays in step with the declared tables."""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infrastructure"))

import build_template  # noqa: E402

from chalicelib.storage.tables import TABLES  # noqa: E402


def test_the_committed_merge_template_is_the_generated_one():
    committed = json.loads((ROOT / "infrastructure" / "merge-template.json").read_text())
    assert committed == build_template.template(), "run: .venv/bin/python infrastructure/build_template.py"


def test_every_table_has_ttl_pitr_and_its_stream():
    resources = build_template.template()["Resources"]
    for name, spec in TABLES.items():
        props = resources[build_template.logical_id(name)]["Properties"]
        assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        assert ("StreamSpecification" in props) == spec.stream


def test_every_stream_consumer_reports_partial_batch_failures():
    from chalice.app import DynamoDBEventConfig, KinesisEventConfig

    from app import app
    streamed = {source.name for source in app.event_sources
                if isinstance(source, (KinesisEventConfig, DynamoDBEventConfig))}
    covered = {function[0].lower() + function[1:] for function, *_ in build_template.STREAM_CONSUMERS}
    assert streamed == covered  # a new stream handler must be listed, or AWS ignores its failures
    for function, source, _stream, _depends in build_template.STREAM_CONSUMERS:
        events = build_template.template()["Resources"][function]["Properties"]["Events"]
        assert events[source]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_insights_handler_reads_this_stacks_metrics_stream():
    events = build_template.template()["Resources"]["ScoreMetrics"]["Properties"]["Events"]
    assert events["ScoreMetricsDynamodbEventSource"]["Properties"]["Stream"] == {
        "Fn::GetAtt": ["TableMetrics", "StreamArn"]}
