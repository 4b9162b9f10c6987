"""A metric sample as collectors send it (docs/metrics.md is the one reference for names)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from ..field_types import EpochMs, matching, printable, storable_number

METRIC_NAME = r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+"
HOST_NAME = r"[A-Za-z0-9][A-Za-z0-9._:\-]*"
HOST_KINDS = ("vm", "webapp")
MAX_VALUES = 400
MAX_BATCH = 500

MetricName = Annotated[matching(METRIC_NAME, "lower-case words joined by dots, e.g. cpu.percent", 128),
                       Field(min_length=3)]
#: a number both stores keep (finite, bounded: see field_types), as a float; one check, so an
#: error names the metric, not a union branch ("values.cpu.percent", never "...percent.float")
Value = Annotated[float, PlainValidator(lambda value: float(storable_number(value)))]
HostName = matching(HOST_NAME, "letters, digits and . _ : - (starting with a letter or digit)", 128)


class MetricSample(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: HostName
    kind: Literal[HOST_KINDS]  # type: ignore[valid-type]  (the tuple's values, one source)
    timestamp: EpochMs
    values: Annotated[dict[MetricName, Value], Field(min_length=1, max_length=MAX_VALUES)]
    meta: Annotated[dict[printable(64), printable(256, min_length=0)], Field(max_length=20)] | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        """A sample is stored once per (host, kind, timestamp), however often it arrives."""
        return self.host, self.kind, self.timestamp
