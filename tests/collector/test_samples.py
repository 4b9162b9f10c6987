"""The sample shape: exactly host, kind, timestamp (epoch ms int), values
(finite floats under valid names) and optional string meta on vm samples."""

import json

import pytest

from missionctl_agent.samples import make_sample, to_json, validate_sample


def test_make_sample_has_exactly_the_documented_shape():
    sample = make_sample("web-1", "vm", 1_700_000_000_000, {"cpu.percent": 12}, meta={"hostname": "web-1"})
    assert sample == {
        "host": "web-1",
        "kind": "vm",
        "timestamp": 1_700_000_000_000,
        "values": {"cpu.percent": 12.0},
        "meta": {"hostname": "web-1"},
    }
    assert isinstance(sample["values"]["cpu.percent"], float)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), True, "12", None])
def test_values_that_are_not_finite_numbers_are_left_out(bad):
    sample = make_sample("h", "vm", 1, {"cpu.percent": bad, "load.1m": 0.5})
    assert sample["values"] == {"load.1m": 0.5}


def test_invalid_metric_name_is_a_bug_and_raises():
    with pytest.raises(ValueError):
        make_sample("h", "vm", 1, {"CPU": 1.0})


@pytest.mark.parametrize(
    "change",
    [
        {"host": ""},
        {"kind": "container"},
        {"timestamp": 1.5},
        {"timestamp": True},
        {"values": {"cpu.percent": 1}},
        {"values": {"cpu.percent": float("nan")}},
        {"values": {"Cpu.percent": 1.0}},
        {"extra": 1},
        {"meta": {"hostname": 3}},
    ],
)
def test_validate_rejects_samples_off_the_contract(change):
    sample = {"host": "h", "kind": "vm", "timestamp": 1, "values": {"cpu.percent": 1.0}}
    sample.update(change)
    with pytest.raises(ValueError):
        validate_sample(sample)


def test_meta_is_not_allowed_on_webapp_samples():
    with pytest.raises(ValueError):
        validate_sample({"host": "h", "kind": "webapp", "timestamp": 1, "values": {}, "meta": {"a": "b"}})


def test_json_round_trips_and_is_compact():
    sample = make_sample("h", "webapp", 5, {"http.status": 200})
    text = to_json(sample)
    assert " " not in text
    assert json.loads(text) == sample
