"""Structured logs on Lambda: one JSON object per record, from every feature's logger."""
import json
import logging
import subprocess
import sys


def test_feature_logs_are_json_lines_on_lambda():
    code = (
        "import logging, sys\n"
        "from chalicelib.observability import configure_logging\n"
        "assert configure_logging()\n"
        "logging.getLogger('mission_control.metrics').warning('store failed part-way: %s', 'throttled')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"AWS_LAMBDA_FUNCTION_NAME": "consumeMetrics", "PATH": "/usr/bin:/bin",
                              "PYTHONPATH": "."})
    record = json.loads((out.stdout + out.stderr).strip().splitlines()[-1])
    assert record["level"] == "WARNING" and record["service"] == "mission_control"
    assert record["message"] == "store failed part-way: throttled"


def test_plain_logs_locally(monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    from chalicelib.observability import configure_logging
    configure_logging.cache_clear()
    assert configure_logging() is False
    assert not any(type(h).__module__.startswith("aws_lambda_powertools")
                   for h in logging.getLogger("mission_control").handlers)
