"""A metric sample as collectors send it (docs/metrics.md is the one reference for names)."""
from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from ..field_types import EpochMs

METRIC_NAME = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
MAX_VALUES = 400
MAX_BATCH = 500


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return float(value)


MetricName = Annotated[str, Field(min_length=3, max_length=128, pattern=METRIC_NAME)]
Value = Annotated[StrictFloat | StrictInt, AfterValidator(_finite)]
HostName = Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")]


class MetricSample(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: HostName
    kind: Literal["vm", "webapp"]
    timestamp: EpochMs
    values: Annotated[dict[MetricName, Value], Field(min_length=1, max_length=MAX_VALUES)]
    meta: Annotated[dict[Annotated[str, Field(max_length=64)],
                         Annotated[StrictStr, Field(max_length=256)]], Field(max_length=20)] | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        """A sample is stored once per (host, kind, timestamp), however often it arrives."""
        return self.host, self.kind, self.timestamp
