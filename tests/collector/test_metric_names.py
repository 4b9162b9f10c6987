"""The metric name contract: docs/metrics.md and metric_names.py agree, and
every name obeys the naming rule."""

import re

import pytest

from missionctl_agent.metric_names import (
    MAX_METRIC_NAME_LENGTH,
    METRICS_BY_KIND,
    fit_name,
    is_valid_metric_name,
    mount_segment,
    name_segment,
    template_of,
)

from .conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "metrics.md"
SECTIONS = {"vm": "## VM metrics", "webapp": "## Web app metrics"}
PLACEHOLDER_EXAMPLES = {"<n>": "0", "<mount>": "var_lib", "<source>": "organic"}


def documented_metrics(kind):
    """{name: (unit, meaning)} from the metric table in the kind's section."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split(SECTIONS[kind], 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\|\s*`([^`]+)`\s*\|(.*)\|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = (match.group(2).strip(), match.group(3).strip())
    return rows


@pytest.mark.parametrize("kind", ["vm", "webapp"])
def test_docs_and_code_list_the_same_metrics(kind):
    assert sorted(documented_metrics(kind)) == sorted(METRICS_BY_KIND[kind])


@pytest.mark.parametrize("kind", ["vm", "webapp"])
def test_every_documented_metric_has_a_unit_and_a_meaning(kind):
    for name, (unit, meaning) in documented_metrics(kind).items():
        assert unit and meaning, name


def example(template):
    for placeholder, value in PLACEHOLDER_EXAMPLES.items():
        template = template.replace(placeholder, value)
    return template


@pytest.mark.parametrize("kind", ["vm", "webapp"])
def test_every_listed_metric_is_a_valid_name_and_matches_its_own_template(kind):
    for template in METRICS_BY_KIND[kind]:
        name = example(template)
        assert is_valid_metric_name(name), name
        assert template_of(name, kind) == template


def test_a_name_of_one_kind_is_not_a_metric_of_the_other_kind():
    assert template_of("cpu.percent", "webapp") is None
    assert template_of("http.status", "vm") is None


@pytest.mark.parametrize(
    "name",
    ["CPU.percent", "cpu", "cpu..percent", "1cpu.percent", "cpu.percent.", "cpu-x.percent", "cpu.per cent"],
)
def test_invalid_names_are_rejected(name):
    assert not is_valid_metric_name(name)


def test_names_longer_than_128_characters_are_rejected():
    assert is_valid_metric_name("a." + "b" * (MAX_METRIC_NAME_LENGTH - 2))
    assert not is_valid_metric_name("a." + "b" * (MAX_METRIC_NAME_LENGTH - 1))


@pytest.mark.parametrize(
    "mountpoint, segment",
    [("/", "root"), ("/var/lib", "var_lib"), ("/mnt/Data-1", "mnt_data_1"), ("C:\\", "c"), ("/boot/efi/", "boot_efi")],
)
def test_mount_points_become_name_segments(mountpoint, segment):
    assert mount_segment(mountpoint) == segment


def test_traffic_source_names_become_segments():
    assert name_segment("Google Ads") == "google_ads"
    assert name_segment("  ") == ""


def test_over_long_names_are_shortened_to_128_characters_and_stay_distinct():
    first = fit_name("disk.", "x" * 200 + "a", ".used_percent")
    second = fit_name("disk.", "x" * 200 + "b", ".used_percent")
    assert len(first) == MAX_METRIC_NAME_LENGTH and is_valid_metric_name(first)
    assert first != second
    assert first.endswith(".used_percent")
    assert template_of(first, "vm") == "disk.<mount>.used_percent"


def test_short_names_are_left_alone():
    assert fit_name("disk.", "root", ".used_percent") == "disk.root.used_percent"
