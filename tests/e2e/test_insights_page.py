"""The Insights page in a real browser against the product started as `make run` starts it:
metric samples with an injected spike sent over the API, the local worker delivering the
metrics table's change log to the stream handler, and the insight shown, charted and judged."""
from __future__ import annotations

import random
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.test_hosts import post_samples, sample

pytestmark = pytest.mark.e2e
STEP = 10_000


def spiky_cpu(host: str, now: int, n: int = 200, spike_at: int = 150) -> list[dict]:
    rng = random.Random(host)
    start = now - n * STEP
    return [sample(host, "vm", start + i * STEP,
                   {"cpu.percent": 80.0 if i == spike_at else round(30 + rng.gauss(0, 1), 2)})
            for i in range(n)]


def test_an_injected_spike_is_shown_charted_and_dismissed_by_an_operator(product, signed_in_page):
    post_samples(product, spiky_cpu("web-1", int(time.time() * 1000)))
    page = signed_in_page("operator", "/#/insights")
    insight = page.get_by_test_id("insight").filter(has_text="cpu.percent on web-1 rose to 80")
    expect(insight).to_be_visible(timeout=30_000)  # the worker delivers the change log each second
    expect(insight.get_by_test_id("insight-chart")).to_be_visible()
    expect(insight.get_by_test_id("insight-window")).to_have_count(1)  # the anomalous window, shaded
    insight.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_test_id("insight-notice")).to_contain_text("now alarms at score 0.85")
    expect(insight).to_contain_text("dismissed")
    insight.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("insight-notice")).to_contain_text("now alarms at score 0.7")


def test_viewers_see_the_feed_filtered_but_cannot_judge(product, signed_in_page):
    post_samples(product, spiky_cpu("db-1", int(time.time() * 1000)))
    page = signed_in_page("viewer", "/#/insights?type=prediction")
    expect(page.get_by_text("No insights match")).to_be_visible(timeout=30_000)
    page.get_by_test_id("filter-type").select_option("anomaly")
    insight = page.get_by_test_id("insight").filter(has_text="db-1")
    expect(insight).to_be_visible(timeout=30_000)
    expect(insight.get_by_role("button", name="Dismiss")).to_have_count(0)


def test_an_open_high_insight_is_on_the_overview(product, signed_in_page):
    now = int(time.time() * 1000)
    samples = spiky_cpu("batch-1", now, n=200, spike_at=-1)
    for s in samples[150:]:  # the collector stuck: the same value from then on
        s["values"] = {"cpu.percent": 31.5}
    post_samples(product, samples)
    page = signed_in_page("viewer", "/")
    panel = page.get_by_test_id("open-insights")
    expect(panel).to_contain_text("cpu.percent on batch-1 is stuck at 31.5", timeout=30_000)
    expect(panel).to_contain_text("HIGH")


def test_the_hosts_chart_shades_the_insights_window(product, signed_in_page):
    post_samples(product, spiky_cpu("web-7", int(time.time() * 1000)))
    page = signed_in_page("viewer", "/#/hosts?host=web-7&kind=vm&range=1h")
    shaded = page.locator("figure[data-markers]")
    expect(shaded).to_have_count(1, timeout=30_000)  # the CPU chart only
    expect(shaded.locator("figcaption")).to_contain_text("1 insight window shaded")
