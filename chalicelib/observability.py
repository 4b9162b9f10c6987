"""Structured logs: on Lambda (or with ``LOG_FORMAT=json``) every ``mission_control.*`` logger
writes one JSON object per record through Powertools for AWS Lambda, so CloudWatch Logs
Insights can query fields. Locally, plain lines stay readable in a terminal.

Never log secrets, tokens, API keys or personal data: log identifiers and reasons.
"""
from __future__ import annotations

import functools
import os

ROOT_LOGGER = "mission_control"


@functools.cache
def configure_logging() -> bool:
    """Route ``mission_control.*`` loggers to Powertools' JSON formatter; True if it did.
    Powertools is imported only here, so the local path does not pay for it."""
    if not (os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or os.environ.get("LOG_FORMAT") == "json"):
        return False
    from aws_lambda_powertools import Logger
    # Powertools' logger named after the service is the stdlib logger "mission_control":
    # the children propagate to its JSON handler.
    Logger(service=ROOT_LOGGER, level=os.environ.get("LOG_LEVEL", "INFO"))
    return True


#: CloudWatch namespace of the business metrics (the stack's revenue-drop alarm reads it)
METRICS_NAMESPACE = "MissionControl"


def publish_business_metric(name: str, value: float, unit: str) -> None:
    """One business metric, through Powertools Metrics: on Lambda an Embedded Metric Format log
    line that CloudWatch turns into a metric (no PutMetricData call, no IAM permission). Off
    Lambda nothing is published: the value is in the stats table and /api/kpis."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return
    from aws_lambda_powertools import Metrics
    metrics = Metrics(namespace=METRICS_NAMESPACE, service=os.environ.get("POWERTOOLS_SERVICE_NAME", ROOT_LOGGER))
    metrics.add_metric(name=name, unit=unit, value=value)
    metrics.flush_metrics()
