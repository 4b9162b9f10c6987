"""Rule, channel, silence bodies: accepted as written, refused naming the field."""
import pytest

from chalicelib.alerts.durations import format_duration, parse_duration_ms
from chalicelib.alerts.models import parse_channel, parse_rule
from chalicelib.alerts.rules import Observed, reading_of
from chalicelib.errors import InvalidInput

CPU_HOT = {"name": "CPU hot", "kind": "threshold", "source": "metric", "host": "*", "metric": "cpu.percent",
           "op": ">", "value": 90, "for": "5m", "recover": 80, "severity": "HIGH"}
REVENUE_DROP = {"name": "Revenue drop", "kind": "change", "source": "kpi", "kpi": "revenue", "window": "1h",
                "compare": "same_hour_last_week", "op": "<", "percent": -20, "minVolume": 10, "severity": "HIGH"}
HOST_SILENT = {"name": "Host silent", "kind": "absence", "host": "*", "intervals": 3, "severity": "CRITICAL"}


@pytest.mark.parametrize("body", [CPU_HOT, REVENUE_DROP, HOST_SILENT])
def test_the_issue_s_bodies_are_accepted_exactly_as_written(body):
    rule = parse_rule(body)
    assert {k: v for k, v in rule.as_json().items() if k in body} == body


def refused(body) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_rule(body)
    return [d["field"] for d in caught.value.details]


@pytest.mark.parametrize("change, field", [
    ({"for": "25h"}, "for"), ({"for": "5 minutes"}, "for"), ({"severity": "URGENT"}, "severity"),
    ({"value": "90"}, "value"), ({"value": True}, "value"), ({"op": "=="}, "op"),
    ({"recover": 95}, "recover"), ({"metric": "CPU Percent"}, "metric"), ({"source": "sql"}, "source"),
    ({"kind": "magic"}, "kind"), ({"name": ""}, "name"), ({"labels": {"severity": "x"}}, "labels"),
    ({"runbookUrl": "javascript:alert(1)"}, "runbookUrl"), ({"surprise": 1}, "surprise"),
    ({"muteWindows": [{"start": "25:00", "end": "06:00"}]}, "muteWindows.0.start"),
    ({"channels": ["bad id!"]}, "channels.0"), ({"repeatInterval": "10s"}, "repeatInterval"),
])
def test_a_bad_threshold_rule_is_refused_naming_the_field(change, field):
    assert field in refused({**CPU_HOT, **change})


@pytest.mark.parametrize("change, field", [
    ({"kpi": "profit"}, "kpi"), ({"compare": "last_year"}, "compare"), ({"window": "90s"}, "window"),
    ({"window": "5m"}, "window"),  # last week is only kept in hourly roll-ups
    ({"window": "25h"}, "window"), ({"recover": -30}, "recover"), ({"minVolume": -1}, "minVolume"),
    ({"kpi": "dau"}, "window"),  # DAU is a daily count
])
def test_a_bad_change_rule_is_refused_naming_the_field(change, field):
    assert field in refused({**REVENUE_DROP, **change})


def test_other_kinds_validate_their_own_fields():
    assert "intervals" in refused({**HOST_SILENT, "intervals": 0})
    assert "recover" in refused({**HOST_SILENT, "recover": 4})
    assert "recover" in refused({"name": "Down", "kind": "probe", "severity": "HIGH", "recover": 1})
    assert "minSeverity" in refused({"name": "I", "kind": "insight", "severity": "HIGH", "minSeverity": "SEVERE"})
    assert parse_rule({"name": "I", "kind": "insight", "severity": "HIGH", "minSeverity": "CRITICAL"}).category == "system"
    assert parse_rule(REVENUE_DROP).category == "business"


def test_windows_and_durations_are_normalised():
    assert parse_rule({**REVENUE_DROP, "window": "60m"}).window == "1h"
    assert parse_rule({**REVENUE_DROP, "window": "1d", "compare": "yesterday"}).window == "1d"
    assert parse_rule({**CPU_HOT, "for": "1h30m"}).for_ms == 90 * 60_000
    assert parse_rule({**CPU_HOT, "for": "1d"}).for_ == "24h"
    assert [parse_duration_ms(t) for t in ("0s", "90s", "1h30m", "1d")] == [0, 90_000, 5_400_000, 86_400_000]
    assert format_duration(86_400_000) == "24h" and format_duration(0) == "0s"
    with pytest.raises(ValueError):
        parse_duration_ms("30m1h")


def test_readings_apply_the_threshold_and_recover_on_the_rule_s_side():
    cpu = parse_rule(CPU_HOT)
    assert reading_of(cpu, Observed({}, 95)).breaching
    r = reading_of(cpu, Observed({}, 85))
    assert not r.breaching and r.holding
    assert not reading_of(cpu, Observed({}, 80)).holding
    drop = parse_rule({**REVENUE_DROP, "recover": -10})
    assert reading_of(drop, Observed({}, -25)).breaching and reading_of(drop, Observed({}, -15)).holding
    silent = parse_rule(HOST_SILENT)
    assert reading_of(silent, Observed({}, 3)).breaching and not reading_of(silent, Observed({}, 2)).breaching
    assert reading_of(cpu, Observed({}, None)) is None


@pytest.mark.parametrize("body", [
    {"name": "ops", "type": "slack", "url": "https://hooks.slack.com/services/T0/B0/x"},
    {"name": "hooks", "type": "webhook", "url": "https://example.com/hook", "secret": "s3cret"},
    {"name": "oncall", "type": "email", "address": "oncall@example.com"},
])
def test_the_issue_s_channel_bodies_are_accepted_exactly_as_written(body):
    channel = parse_channel(body, creating=True)
    assert channel.model_dump(exclude_none=True, exclude={"muteWindows"}) == body


@pytest.mark.parametrize("body, field", [
    ({"name": "ops", "type": "slack"}, "url"),
    ({"name": "hooks", "type": "webhook", "url": "https://example.com/hook"}, "secret"),
    ({"name": "oncall", "type": "email", "address": "not an address"}, "address"),
    ({"name": "x", "type": "pager"}, "type"),
    ({"name": "ops", "type": "slack", "url": "ftp://example.com"}, "url"),
])
def test_a_bad_channel_is_refused_naming_the_field(body, field):
    with pytest.raises(InvalidInput) as caught:
        parse_channel(body, creating=True)
    assert field in [d["field"] for d in caught.value.details]


def test_on_update_a_channel_s_secrets_may_be_left_out():
    kept = parse_channel({"name": "hooks", "type": "webhook"}, creating=False)
    assert kept.url is None and kept.secret is None
