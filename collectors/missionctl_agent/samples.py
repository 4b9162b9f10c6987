"""The sample: the one record shape the agent emits.

A sample is exactly::

    {"host": "web-1", "kind": "vm" | "webapp", "timestamp": <epoch ms int>,
     "values": {"cpu.percent": 12.5, ...},
     "meta": {"platform": "...", "hostname": "..."}}   # optional, vm only

Invariants (checked by :func:`validate_sample`): `host` is a non-empty
string, `timestamp` is an int of epoch milliseconds, every key of `values`
is a valid metric name (see metric_names) and every value a finite float.
`meta` only holds strings, so that `values` can stay purely numeric.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from missionctl_agent.metric_names import is_valid_metric_name

log = logging.getLogger(__name__)

KINDS = ("vm", "webapp")


def now_ms() -> int:
    """Wall-clock time as epoch milliseconds (the sample timestamp unit)."""
    return int(time.time() * 1000)


def make_sample(
    host: str,
    kind: str,
    timestamp_ms: int,
    values: Mapping[str, float],
    meta: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build a valid sample. Values that are not finite numbers are left out
    (a gap is better than a NaN the server would refuse); an invalid metric
    name is a bug in the agent and raises ValueError."""
    clean: dict[str, float] = {}
    for name, value in values.items():
        if not is_valid_metric_name(name):
            raise ValueError(f"invalid metric name: {name!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            log.debug("dropping non-numeric value for %s", name)
            continue
        number = float(value)
        if math.isfinite(number):
            clean[name] = number
    sample: dict[str, Any] = {"host": host, "kind": kind, "timestamp": int(timestamp_ms), "values": clean}
    if meta:
        sample["meta"] = dict(meta)
    validate_sample(sample)
    return sample


def validate_sample(sample: Mapping[str, Any]) -> None:
    """Raise ValueError unless `sample` has exactly the documented shape."""
    allowed = {"host", "kind", "timestamp", "values", "meta"}
    extra = set(sample) - allowed
    if extra:
        raise ValueError(f"unexpected sample fields: {sorted(extra)}")
    host = sample.get("host")
    if not isinstance(host, str) or not host:
        raise ValueError("host must be a non-empty string")
    if sample.get("kind") not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    timestamp = sample.get("timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be a non-negative int of epoch milliseconds")
    values = sample.get("values")
    if not isinstance(values, Mapping):
        raise ValueError("values must be an object")
    for name, value in values.items():
        if not isinstance(name, str) or not is_valid_metric_name(name):
            raise ValueError(f"invalid metric name: {name!r}")
        if not isinstance(value, float) or not math.isfinite(value):
            raise ValueError(f"value of {name} must be a finite float")
    if "meta" in sample:
        meta = sample["meta"]
        if sample["kind"] != "vm":
            raise ValueError("meta is only allowed on vm samples")
        if not isinstance(meta, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
        ):
            raise ValueError("meta must be an object of strings")


def to_json(sample: Mapping[str, Any]) -> str:
    """Compact JSON; allow_nan=False so a non-finite value can never leak out."""
    return json.dumps(sample, separators=(",", ":"), allow_nan=False)
