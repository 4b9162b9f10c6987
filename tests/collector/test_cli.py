"""Configuration from flags and MISSIONCTL_AGENT_* variables, and
`missionctl-agent --once --stdout`."""

import json
import subprocess
import sys

import pytest

from missionctl_agent import cli
from missionctl_agent.metric_names import template_of
from missionctl_agent.samples import validate_sample
from missionctl_agent.webapp_probe import WatchTarget

from .conftest import subprocess_env
from .loopback_server import WebApp


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("MISSIONCTL_AGENT_"):
            monkeypatch.delenv(name)


def run_agent(*args, **env):
    return subprocess.run(
        [sys.executable, "-m", "missionctl_agent", *args], env=subprocess_env(**env), capture_output=True, text=True
    )


def test_environment_variables_configure_the_agent(monkeypatch):
    monkeypatch.setenv("MISSIONCTL_AGENT_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("MISSIONCTL_AGENT_INTERVAL", "2.5")
    monkeypatch.setenv("MISSIONCTL_AGENT_BUFFER_MAX_BYTES", "1000")
    monkeypatch.setenv("MISSIONCTL_AGENT_HOST_NAME", "web-9")
    args = cli.build_parser().parse_args([])
    assert (args.url, args.interval, args.buffer_max_bytes, args.host_name) == ("http://127.0.0.1:8000", 2.5, 1000, "web-9")


def test_flags_win_over_environment_variables(monkeypatch):
    monkeypatch.setenv("MISSIONCTL_AGENT_INTERVAL", "2.5")
    assert cli.build_parser().parse_args(["--interval", "7"]).interval == 7.0


def test_defaults_are_ten_seconds_and_fifty_megabytes():
    args = cli.build_parser().parse_args([])
    assert args.interval == 10.0 and args.buffer_max_bytes == 50_000_000


@pytest.mark.parametrize("value", ["0", "-1", "abc"])
def test_a_bad_interval_is_a_usage_error(monkeypatch, value):
    monkeypatch.setenv("MISSIONCTL_AGENT_INTERVAL", value)
    with pytest.raises(SystemExit) as stopped:
        cli.build_parser().parse_args([])
    assert stopped.value.code == 2


def test_watches_pair_with_app_metrics_by_name():
    targets = cli.watch_targets(
        ["shop=https://shop.example.com/health", "http://127.0.0.1:9000/"],
        ["shop=https://api.shop.example.com/metrics", "http://127.0.0.1:9000/metrics.json"],
    )
    assert targets == [
        WatchTarget("shop", "https://shop.example.com/health", "https://api.shop.example.com/metrics"),
        WatchTarget("127.0.0.1:9000", "http://127.0.0.1:9000/", "http://127.0.0.1:9000/metrics.json"),
    ]


def test_an_equals_sign_in_a_url_query_is_not_a_name():
    assert cli.split_named_url("http://a.example.com/h?x=1") == ("a.example.com:80", "http://a.example.com/h?x=1")


@pytest.mark.parametrize(
    "watch, metrics",
    [
        (["http://a.example.com/"], ["http://b.example.com/metrics"]),  # no watch of that name
        (["x=http://a.example.com/", "x=http://b.example.com/"], []),  # name used twice
        (["ftp://a.example.com/"], []),
    ],
)
def test_inconsistent_watch_options_are_refused(watch, metrics):
    with pytest.raises(ValueError):
        cli.watch_targets(watch, metrics)


def test_no_sink_is_a_usage_error():
    done = run_agent("--once")
    assert done.returncode == 2 and "no sink" in done.stderr


def test_the_http_sink_refuses_to_start_without_an_api_key():
    done = run_agent("--once", "--url", "http://127.0.0.1:9")
    assert done.returncode == 2 and "MISSIONCTL_AGENT_API_KEY" in done.stderr


def test_once_stdout_prints_one_valid_vm_sample_with_rates():
    done = run_agent("--once", "--stdout", "--host-name", "web-1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    sample = json.loads(lines[0])
    validate_sample(sample)
    assert sample["host"] == "web-1" and sample["kind"] == "vm"
    assert "cpu.percent" in sample["values"] and "net.rx_bytes_per_s" in sample["values"]
    assert all(template_of(name, "vm") for name in sample["values"])


def test_once_stdout_also_prints_a_sample_per_watched_app():
    with WebApp() as app:
        done = run_agent(
            "--once", "--stdout", "--interval", "0.1",
            "--watch", f"shop={app.url}/health", "--app-metrics-url", f"shop={app.url}/metrics.json",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    samples = [json.loads(line) for line in done.stdout.splitlines()]
    assert [s["kind"] for s in samples] == ["vm", "webapp"]
    assert samples[1]["host"] == "shop"
    assert samples[1]["values"]["http.status"] == 200.0
    assert samples[1]["values"]["app.active_users"] == 12.0
