"""What clients send to the alerting routes, validated by pydantic: rules, channels, silences,
acknowledgements, mute windows. Field names are the API's (README, "Alerts and notifications").

A rule body is parsed by its ``kind`` (and, for thresholds, its ``source``) into one model, so
a refusal names the field as the client wrote it (``value``, not ``threshold-metric.value``).
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, ConfigDict, Field, PlainValidator, StrictBool, StrictInt, StrictStr,
                      ValidationError, field_validator, model_validator)

from ..errors import InvalidInput, pydantic_details
from ..field_types import EpochMs
from ..severity import Severity
from .durations import format_duration, parse_duration_ms

Text = Annotated[StrictStr, Field(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]+$")]
Comment = Annotated[StrictStr, Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]+$")]


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value \
            or value in (float("inf"), float("-inf")) or abs(value) > 1e15:
        raise ValueError("must be a finite number")
    return value


Number = Annotated[Union[int, float], PlainValidator(_number)]
LabelName = Annotated[StrictStr, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
LabelValue = Annotated[StrictStr, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
HostName = Annotated[StrictStr, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
#: a metric name as docs/metrics.md spells them, or a pattern with * (disk.*.used_percent)
MetricPattern = Annotated[StrictStr, Field(min_length=1, max_length=128,
                                           pattern=r"^[a-z*][a-z0-9_*]*(\.[a-z0-9_*]+)+$")]
ChannelId = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]

Op = Literal[">", ">=", "<", "<="]
KPIS = ("revenue", "orders", "aov", "conversion", "sessions", "dau")
Kpi = Literal["revenue", "orders", "aov", "conversion", "sessions", "dau"]
Compare = Literal["previous_period", "yesterday", "same_hour_last_week"]
HostKind = Literal["vm", "webapp"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: labels the product sets itself; a rule's own labels may not take these names
RESERVED_LABELS = {"alertname", "severity", "rule", "ruleId"}

MAX_FOR_MS = 24 * 3_600_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _duration(value: str, low_ms: int, high_ms: int, span: str) -> str:
    ms = parse_duration_ms(value)
    if not low_ms <= ms <= high_ms:
        raise ValueError(f"must be from {span}")
    return format_duration(ms)


_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


class MuteWindow(_Strict):
    """Weekdays and a wall-clock range in the team's time zone (``TEAM_TIMEZONE``). A range
    whose end is before its start runs past midnight into the next day; ``weekdays`` name the
    day it starts on."""

    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1, max_length=7)
    start: StrictStr
    end: StrictStr

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("must be a 24-hour time HH:MM, e.g. 22:00 (24:00 ends at midnight)")
        return value

    @model_validator(mode="after")
    def _range(self) -> "MuteWindow":
        if self.start == self.end or self.start == "24:00":
            raise ValueError("start and end must differ (00:00-24:00 mutes the whole day), "
                             "and a window cannot start at 24:00")
        return self

    @property
    def start_minute(self) -> int:
        hours, minutes = self.start.split(":")
        return int(hours) * 60 + int(minutes)

    @property
    def end_minute(self) -> int:
        hours, minutes = self.end.split(":")
        return int(hours) * 60 + int(minutes)


class _Rule(_Strict):
    name: Text
    severity: Severity
    labels: dict[LabelName, LabelValue] = Field(default_factory=dict, max_length=20)
    runbookUrl: Annotated[StrictStr, Field(max_length=2048, pattern=r"^https?://[^\s]+$")] | None = None
    for_: StrictStr = Field("0s", alias="for")
    recover: Number | None = None
    #: channel ids to notify; absent: every channel
    channels: list[ChannelId] | None = Field(None, max_length=20)
    muteWindows: list[MuteWindow] = Field(default_factory=list, max_length=10)
    repeatInterval: StrictStr | None = None
    enabled: StrictBool = True
    #: its firing alerts open (or join) an incident; absent: only CRITICAL rules do
    openIncident: StrictBool | None = None

    @field_validator("for_")
    @classmethod
    def _for(cls, value: str) -> str:
        return _duration(value, 0, MAX_FOR_MS, "0s to 24h")

    @field_validator("repeatInterval")
    @classmethod
    def _repeat(cls, value: str | None) -> str | None:
        return None if value is None else _duration(value, 60_000, 7 * 86_400_000, "1m to 168h")

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        taken = RESERVED_LABELS & set(value)
        if taken:
            raise ValueError(f"{', '.join(sorted(taken))} is set by the product; choose another label name")
        return value

    @property
    def for_ms(self) -> int:
        return parse_duration_ms(self.for_)

    @property
    def opens_incident(self) -> bool:
        return self.openIncident if self.openIncident is not None else self.severity == "CRITICAL"

    @property
    def repeat_ms(self) -> int | None:
        return None if self.repeatInterval is None else parse_duration_ms(self.repeatInterval)

    @property
    def category(self) -> str:
        """Seed 000's category: business for KPI rules, system for the rest."""
        return "business" if getattr(self, "source", None) == "kpi" else "system"

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    def _check_recover(self, op: str, threshold: float, field: str) -> None:
        """Hysteresis: a firing alert resolves only once the value is past ``recover``, which
        must therefore lie on the resolving side of the threshold."""
        if self.recover is None:
            return
        wrong = self.recover > threshold if op in (">", ">=") else self.recover < threshold
        if wrong:
            side = "at most" if op in (">", ">=") else "at least"
            raise InvalidInput("recover is on the wrong side of the threshold", [{
                "field": "recover",
                "message": f"with op {op!r} recover must be {side} {field} ({threshold})"}])


class MetricThreshold(_Rule):
    kind: Literal["threshold"]
    source: Literal["metric"]
    #: one host, or "*": each host its own alert
    host: HostName = "*"
    metric: MetricPattern
    hostKind: HostKind | None = None
    op: Op
    value: Number


class KpiWindowRule(_Rule):
    source: Literal["kpi"] = "kpi"
    kpi: Kpi
    window: StrictStr = "1h"
    #: below this volume (orders for revenue, orders and aov; sessions for conversion and
    #: sessions; users for dau) the rule says nothing: a quiet night does not page
    minVolume: Annotated[StrictInt, Field(ge=0, le=10_000_000)] = 0

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        ms = parse_duration_ms(value)
        if ms == 86_400_000 and value == "1d":
            return "1d"
        if ms < 3_600_000:
            if ms < 60_000 or ms % 60_000:
                raise ValueError("a window under an hour is whole minutes, at least 1m")
        elif ms % 3_600_000 or ms > 24 * 3_600_000:
            raise ValueError("a window of an hour or more is whole hours up to 24h, or 1d "
                             "(the last complete day)")
        return format_duration(ms)

    @property
    def window_ms(self) -> int:
        return parse_duration_ms(self.window)

    def _check_window(self, compare: str | None) -> None:
        if self.kpi == "dau" and self.window != "1d":
            raise InvalidInput("daily active users are counted per day", [
                {"field": "window", "message": "use window 1d for kpi dau"}])
        if compare == "same_hour_last_week" and self.window_ms < 3_600_000:
            raise InvalidInput("last week is kept in hourly roll-ups", [
                {"field": "window", "message": "same_hour_last_week needs a window of 1h or more"}])


class KpiThreshold(KpiWindowRule):
    kind: Literal["threshold"]
    op: Op
    value: Number


class KpiChange(KpiWindowRule):
    kind: Literal["change"]
    compare: Compare = "previous_period"
    op: Op
    #: the change against the compared period, in percent (-20 is a 20 % drop)
    percent: Number


class Absence(_Rule):
    kind: Literal["absence"]
    host: HostName = "*"
    hostKind: HostKind | None = None
    #: missed sampling intervals (the host's own interval) that make it silent
    intervals: Annotated[StrictInt, Field(ge=1, le=10_000)]


class InsightRule(_Rule):
    kind: Literal["insight"]
    minSeverity: Severity = "HIGH"
    insightType: Literal["anomaly", "prediction", "pattern"] | None = None
    host: HostName = "*"


class ProbeRule(_Rule):
    kind: Literal["probe"]
    #: a HEALTH_PROBES name, or "*": each probe its own alert
    probe: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^(\*|[A-Za-z0-9_.-]+)$")] = "*"


class CiThreshold(_Rule):
    """A CI health series (the CI console's roll-ups) per repository and workflow, over the
    last ``window`` of whole hours: ``failureRate`` in percent of passed-or-failed runs,
    durations and queue times in seconds, ``flaky`` runs counted."""

    kind: Literal["threshold"]
    source: Literal["ci"]
    repo: Annotated[StrictStr, Field(max_length=201, pattern=r"^(\*|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)$")] = "*"
    workflow: Annotated[StrictStr, Field(min_length=1, max_length=255)] = "*"
    #: "*": runs on every branch; "default": the repository's default branch (main's CI) only
    branch: Literal["*", "default"] = "*"
    measure: Literal["failureRate", "durationMedianS", "durationP90S", "queueMedianS", "queueP90S", "flaky"]
    window: StrictStr = "24h"
    #: fewer completed runs in the window than this: no judgement (a quiet repo does not page)
    minRuns: Annotated[StrictInt, Field(ge=0, le=100_000)] = 1
    op: Op
    value: Number

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        ms = parse_duration_ms(value)
        if ms % 3_600_000 or not 3_600_000 <= ms <= 30 * 86_400_000:
            raise ValueError("a CI window is whole hours, 1h to 720h")
        return format_duration(ms)

    @property
    def window_ms(self) -> int:
        return parse_duration_ms(self.window)


Rule = Union[MetricThreshold, KpiThreshold, KpiChange, Absence, InsightRule, ProbeRule, CiThreshold]


def _rule_model(body: dict) -> type[_Rule]:
    kind = body.get("kind")
    if kind == "threshold":
        source = body.get("source")
        if source not in ("metric", "kpi", "ci"):
            raise InvalidInput("a threshold rule needs a source", [
                {"field": "source", "message": "must be 'metric' (host metrics), 'kpi' (business KPIs) "
                                               "or 'ci' (CI health)"}])
        return {"metric": MetricThreshold, "kpi": KpiThreshold, "ci": CiThreshold}[source]
    models = {"change": KpiChange, "absence": Absence, "insight": InsightRule, "probe": ProbeRule}
    if kind not in models:
        raise InvalidInput("unknown rule kind", [
            {"field": "kind", "message": "must be one of threshold, change, absence, insight, probe"}])
    return models[kind]


def parse_rule(body: Any) -> Rule:
    """A rule from a client's JSON body; ``InvalidInput`` naming each refused field."""
    if not isinstance(body, dict):
        raise InvalidInput("a rule is a JSON object")
    model = _rule_model(body)
    try:
        rule = model.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput("the rule was refused", pydantic_details(exc)) from None
    if isinstance(rule, (MetricThreshold, KpiThreshold, CiThreshold)):
        rule._check_recover(rule.op, rule.value, "value")
    if isinstance(rule, KpiThreshold):
        rule._check_window(None)
    if isinstance(rule, KpiChange):
        rule._check_window(rule.compare)
        rule._check_recover(rule.op, rule.percent, "percent")
    if isinstance(rule, Absence) and rule.recover is not None:
        if not 0 < rule.recover <= rule.intervals:
            raise InvalidInput("recover is missed intervals for an absence rule", [
                {"field": "recover", "message": f"must be above 0 and at most intervals ({rule.intervals})"}])
    if isinstance(rule, (InsightRule, ProbeRule)) and rule.recover is not None:
        raise InvalidInput("this kind has no value to recover past", [
            {"field": "recover", "message": f"not used by {rule.kind} rules; remove it"}])
    return rule  # type: ignore[return-value]


def rule_from_stored(body: dict) -> Rule:
    """A stored rule (validated when it was written)."""
    return _rule_model(body).model_validate(body)  # type: ignore[return-value]


# -- channels -------------------------------------------------------------------------------
HttpUrl = Annotated[StrictStr, Field(max_length=2048, pattern=r"^https?://[^\s]+$")]
Email = Annotated[StrictStr, Field(max_length=254, pattern=r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")]


class _Channel(_Strict):
    name: Text
    muteWindows: list[MuteWindow] = Field(default_factory=list, max_length=10)


class SlackChannel(_Channel):
    type: Literal["slack"]
    #: the incoming-webhook URL is itself the secret: write-only
    url: HttpUrl | None = None


class WebhookChannel(_Channel):
    type: Literal["webhook"]
    url: HttpUrl | None = None
    #: the HMAC-SHA256 key the receiver verifies with: write-only
    secret: Annotated[StrictStr, Field(min_length=1, max_length=512)] | None = None


class EmailChannel(_Channel):
    type: Literal["email"]
    address: Email


Channel = Union[SlackChannel, WebhookChannel, EmailChannel]
CHANNEL_TYPES = {"slack": SlackChannel, "webhook": WebhookChannel, "email": EmailChannel}
#: fields that hold a secret: never returned, never logged; omitted on update, kept
SECRET_FIELDS = {"slack": ("url",), "webhook": ("url", "secret"), "email": ()}


def parse_channel(body: Any, *, creating: bool) -> Channel:
    """A channel from a client's body. On update a secret field left out keeps its value."""
    if not isinstance(body, dict):
        raise InvalidInput("a channel is a JSON object")
    model = CHANNEL_TYPES.get(body.get("type"))  # type: ignore[arg-type]
    if model is None:
        raise InvalidInput("unknown channel type", [
            {"field": "type", "message": "must be one of slack, webhook, email"}])
    try:
        channel = model.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput("the channel was refused", pydantic_details(exc)) from None
    if creating:
        missing = [f for f in SECRET_FIELDS[channel.type] if getattr(channel, f) is None]
        if missing:
            raise InvalidInput("the channel needs where to send", [
                {"field": f, "message": "required"} for f in missing])
    return channel


# -- silences and acknowledgements ------------------------------------------------------------
class Matcher(_Strict):
    """Alertmanager's label matchers: ``=``, ``!=``, ``=~`` (regex, whole value), ``!~``."""

    name: LabelName
    value: Annotated[StrictStr, Field(max_length=200)]
    op: Literal["=", "!=", "=~", "!~"] = "="

    @model_validator(mode="after")
    def _regex(self) -> "Matcher":
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"value is not a regular expression: {exc}") from None
        return self


class NewSilence(_Strict):
    matchers: list[Matcher] = Field(min_length=1, max_length=10)
    startsAt: EpochMs | None = None
    endsAt: EpochMs
    comment: Comment

    @model_validator(mode="after")
    def _span(self) -> "NewSilence":
        if self.startsAt is not None and self.endsAt <= self.startsAt:
            raise ValueError("endsAt must be after startsAt")
        return self


class Acknowledgement(_Strict):
    comment: Comment
    #: the acknowledgement lapses then (repeat notifications resume); absent: until resolved
    expiresAt: EpochMs | None = None


def parse_body(model: type[BaseModel], body: Any, what: str) -> Any:
    if not isinstance(body, dict):
        raise InvalidInput(f"{what} is a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(f"the {what} was refused", pydantic_details(exc)) from None
