"""Web app checks against a loopback web app: response time, status, error
rate over a sliding window, and the app's own counters."""

import logging
import socket

import pytest

from missionctl_agent.metric_names import template_of
from missionctl_agent.samples import validate_sample
from missionctl_agent.webapp_probe import (
    MAX_TRAFFIC_SOURCES,
    ErrorRateWindow,
    WatchTarget,
    WebAppProbe,
    default_name,
    parse_app_metrics,
    without_credentials,
)

from .loopback_server import WebApp


@pytest.fixture
def app():
    with WebApp() as running:
        yield running


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/health"  # nothing listens there any more


def probe_for(app, metrics=True, **kwargs):
    target = WatchTarget("shop", f"{app.url}/health", f"{app.url}/metrics.json" if metrics else None)
    return WebAppProbe(target, timeout_s=5, **kwargs)


def test_healthy_app_reports_status_response_time_and_no_errors(app):
    sample = probe_for(app, metrics=False).check()
    validate_sample(sample)
    assert sample["kind"] == "webapp" and sample["host"] == "shop" and "meta" not in sample
    values = sample["values"]
    assert values["http.status"] == 200.0
    assert values["http.response_time_ms"] > 0
    assert values["http.error_rate"] == 0.0
    assert set(values) == {"http.status", "http.response_time_ms", "http.error_rate"}


def test_app_metrics_document_becomes_app_metrics(app):
    app.metrics = {"activeUsers": 12, "requestsPerSecond": 3.2, "trafficSources": {"direct": 10, "Organic Search": 5}}
    values = probe_for(app).check()["values"]
    assert values["app.active_users"] == 12.0
    assert values["app.requests_per_s"] == 3.2
    assert values["app.traffic.direct"] == 10.0
    assert values["app.traffic.organic_search"] == 5.0
    for name in values:
        assert template_of(name, "webapp"), name


def test_unreachable_app_reports_status_0_no_response_time_and_a_failed_check():
    probe = WebAppProbe(WatchTarget("gone", closed_port_url()), timeout_s=2)
    values = probe.check()["values"]
    assert values["http.status"] == 0.0
    assert "http.response_time_ms" not in values
    assert values["http.error_rate"] == 100.0


def test_a_status_of_400_or_more_is_a_failed_check(app):
    probe = probe_for(app, metrics=False)
    probe.check()
    app.status = 503
    values = probe.check()["values"]
    assert values["http.status"] == 503.0
    assert values["http.error_rate"] == 50.0


def test_error_rate_is_the_failed_share_of_checks_in_the_last_five_minutes():
    clock = [0.0]
    window = ErrorRateWindow(window_s=300, monotonic=lambda: clock[0])
    assert window.record(False) == 100.0
    clock[0] = 100
    assert window.record(True) == 50.0
    clock[0] = 200
    assert window.record(True) == pytest.approx(100 / 3)
    clock[0] = 300.5  # the failure at t=0 has left the window
    assert window.record(True) == 0.0


def test_unavailable_app_metrics_leave_the_http_metrics_and_are_logged_once(app, caplog):
    caplog.set_level(logging.INFO)
    app.metrics = 500
    probe = probe_for(app)
    for _ in range(3):
        values = probe.check()["values"]
        assert values["http.status"] == 200.0
        assert not [name for name in values if name.startswith("app.")]
    app.metrics = {"activeUsers": 1}
    assert probe.check()["values"]["app.active_users"] == 1.0
    lines = [r.getMessage() for r in caplog.records if "app metrics" in r.getMessage()]
    assert len(lines) == 2
    assert "unavailable" in lines[0] and "HTTP 500" in lines[0]
    assert lines[1] == "app metrics of shop available again"


def test_a_down_app_is_logged_once_until_it_answers_again(app, caplog):
    caplog.set_level(logging.INFO)
    probe = probe_for(app, metrics=False)
    app.status = 500
    for _ in range(3):
        probe.check()
    app.status = 200
    probe.check()
    lines = [r.getMessage() for r in caplog.records if "shop" in r.getMessage()]
    assert lines == [f"shop ({app.url}/health) check failed: HTTP 500", f"shop ({app.url}/health) answers again"]


def test_app_metrics_accept_snake_case_too():
    assert parse_app_metrics({"active_users": 3, "requests_per_second": 1.5, "traffic_sources": {"ads": 2}}) == {
        "app.active_users": 3.0,
        "app.requests_per_s": 1.5,
        "app.traffic.ads": 2.0,
    }


@pytest.mark.parametrize("bad", [True, -1, "12", None, float("nan"), float("inf"), [1]])
def test_app_metric_values_that_are_not_non_negative_numbers_are_ignored(bad):
    doc = {"activeUsers": bad, "requestsPerSecond": 2, "trafficSources": {"direct": bad, "ads": 1}}
    assert parse_app_metrics(doc) == {"app.requests_per_s": 2.0, "app.traffic.ads": 1.0}


@pytest.mark.parametrize("doc", [[], "x", 3, None, {"trafficSources": [1, 2]}])
def test_app_metrics_documents_of_the_wrong_shape_give_nothing(doc):
    assert parse_app_metrics(doc) == {}


def test_traffic_sources_are_capped_and_unnamable_ones_skipped():
    sources = {"!!!": 1, **{f"s{i}": i for i in range(MAX_TRAFFIC_SOURCES + 10)}}
    values = parse_app_metrics({"trafficSources": sources})
    assert len(values) == MAX_TRAFFIC_SOURCES
    assert "app.traffic.s0" in values and f"app.traffic.s{MAX_TRAFFIC_SOURCES}" not in values


@pytest.mark.parametrize(
    "url, name",
    [
        ("http://127.0.0.1:8000/health", "127.0.0.1:8000"),
        ("https://shop.example.com/", "shop.example.com:443"),
        ("http://shop.example.com", "shop.example.com:80"),
        ("http://user:pw@[::1]:9000/x", "[::1]:9000"),
    ],
)
def test_a_watch_without_a_name_is_named_after_its_host_and_port(url, name):
    assert default_name(url) == name


@pytest.mark.parametrize("url", ["ftp://example.com/", "example.com", "http:///path"])
def test_only_http_urls_can_be_watched(url):
    with pytest.raises(ValueError):
        default_name(url)


def test_credentials_in_a_url_are_not_shown_in_logs():
    assert without_credentials("https://bob:s3cret@shop.example.com/health") == "https://shop.example.com/health"
    assert without_credentials("https://shop.example.com/a?b=c") == "https://shop.example.com/a?b=c"
