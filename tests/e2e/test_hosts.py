"""The Hosts console in a real browser against the real product: the host list with status words
and sparklines, a host's charts over every range at phone width, refreshes that reuse the charts
and the API's 304s, the empty state, and the collector agent run for real on this machine."""
from __future__ import annotations

import math
import os
import re
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

#: the collector, installed next to the Python running the tests (.venv/bin/missionctl-agent)
AGENT = Path(sys.executable).parent / "missionctl-agent"
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


# ---------------------------------------------------------------- data

def vm_values(i: int) -> dict:
    return {
        "cpu.percent": 20 + 10 * math.sin(i / 5), "load.1m": 0.5, "load.5m": 0.4, "load.15m": 0.3,
        "mem.used_percent": 48.1, "swap.used_percent": 0.0, "disk.root.used_percent": 71.3,
        "disk.read_bytes_per_s": 1500.0, "disk.write_bytes_per_s": 20480.0,
        "net.rx_bytes_per_s": 20480.0, "net.tx_bytes_per_s": 4096.0, "system.uptime_s": 93784.0 + i * 10,
    }


def webapp_values(i: int) -> dict:
    return {"http.response_time_ms": 80.0 + i % 7, "http.status": 200, "http.error_rate": 0.0,
            "app.requests_per_s": 3.2, "app.active_users": 12}


def sample(host: str, kind: str, ts: int, values: dict) -> dict:
    s = {"host": host, "kind": kind, "timestamp": ts, "values": values}
    if kind == "vm":
        s["meta"] = {"platform": "Linux-6.8.0-x86_64-with-glibc2.39", "hostname": host}
    return s


_METRICS_KEYS: dict[int, str] = {}


def metrics_key(product) -> str | None:
    """An ``ingest:metrics`` API key for this product, made as an admin makes one
    (``missionctl apikey create``); None where the fixture has no way to make keys."""
    if not hasattr(product, "missionctl"):
        return None
    if id(product) not in _METRICS_KEYS:
        _METRICS_KEYS[id(product)] = product.missionctl(
            "apikey", "create", "--scope", "ingest:metrics", "--name", "e2e hosts")
    return _METRICS_KEYS[id(product)]


def post_samples(product, samples: list[dict]) -> None:
    """POST /api/metrics as a collector does (its API key), in batches of 500 (the API's limit)."""
    key = metrics_key(product)
    for i in range(0, len(samples), 500):
        batch = samples[i:i + 500]
        if key is None:
            status, body = product.request("POST", "/api/metrics", batch)
        else:
            status, body = product.request("POST", "/api/metrics", batch, headers={"x-api-key": key})
        assert status == 200 and body["accepted"] == len(batch), (status, body)


def seed(product, now: int) -> None:
    """web-1 (vm) and shop (webapp) every 10 s for the last 10 minutes, with a 1-minute gap;
    web-1 also hourly over 30 days; old-box stopped two hours ago."""
    samples = []
    for i in range(60):
        ts = now - (60 - i) * 10 * SECOND + 2 * SECOND
        if 20 <= i < 26:
            continue  # a gap the charts must show as a gap
        samples.append(sample("web-1", "vm", ts, vm_values(i)))
        samples.append(sample("shop", "webapp", ts, webapp_values(i)))
    for h in range(1, 30 * 24, 6):
        samples.append(sample("web-1", "vm", now - h * HOUR, vm_values(h)))
    for i in range(6):
        samples.append(sample("old-box", "vm", now - 2 * HOUR - (6 - i) * 10 * SECOND, vm_values(i)))
    post_samples(product, samples)


# ---------------------------------------------------------------- page helpers

def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def card(page, host: str):
    return page.locator(f'[data-testid="host-card"][data-host="{host}"]')


def chart_sizes(page) -> list[dict]:
    """Every uPlot canvas on the page with its drawn size."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="host-charts"] .uplot canvas')]
        .map(c => ({w: c.width, h: c.height, cw: c.clientWidth, ch: c.clientHeight}))""")


def tag_canvases(page) -> None:
    page.evaluate("""() => document.querySelectorAll('[data-testid="host-charts"] .uplot canvas')
        .forEach((c, i) => { c.dataset.mark = String(i); })""")


def tagged_canvases(page) -> int:
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="host-charts"] .uplot canvas')]
        .filter(c => c.dataset.mark !== undefined).length""")


def metrics_requests(page) -> list[dict]:
    found = []

    def on_response(res):
        if "/api/metrics?" in res.url and res.request.method == "GET":
            q = {k: v[0] for k, v in parse_qs(urlsplit(res.url).query).items()}
            found.append({"status": res.status, **q})
    page.on("response", on_response)
    return found


# ---------------------------------------------------------------- tests

def test_host_list_shows_status_words_sparklines_and_web_apps(product, signed_in_page):
    now = int(time.time() * 1000)
    seed(product, now)
    page = signed_in_page("viewer", "/#/hosts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hosts")

    web1 = card(page, "web-1")
    expect(web1.get_by_test_id("host-status")).to_have_text("Online")  # a word, not only a colour
    expect(card(page, "old-box").get_by_test_id("host-status")).to_have_text("Offline")
    expect(web1).to_contain_text("71.3%")  # disk / from the latest values

    # The sparkline: a canvas with a size, drawn from the last 15 minutes, described in words.
    spark = web1.get_by_test_id("sparkline")
    expect(spark).to_have_attribute("aria-label", re.compile(r"^CPU over the last 15 minutes: latest \d"))
    box = spark.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 10, box
    assert page.evaluate("(c) => c.width > 0 && c.height > 0", spark.element_handle())

    # Web apps: response time, request rate and error rate.
    shop = page.get_by_test_id("webapps").locator('[data-host="shop"]')
    expect(shop).to_contain_text("Response time")
    expect(shop).to_contain_text("3.2 req/s")
    expect(shop).to_contain_text("0%")
    expect(shop.get_by_test_id("sparkline")).to_have_attribute("aria-label", re.compile(r"^Response time over"))

    # Keyboard: the card's link opens the host, and focus lands on its heading.
    web1.get_by_role("link", name="web-1").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("web-1")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    assert page.title() == "web-1 · Hosts · Mission Control"


def test_host_view_ranges_at_phone_width_and_charts_updated_in_place(product, signed_in_page, metrics):
    now = int(time.time() * 1000)
    seed(product, now)
    page = signed_in_page("viewer", "/#/hosts?host=web-1&kind=vm&range=15m",
                          viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    calls = metrics_requests(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("web-1")
    expect(page.get_by_test_id("host-status")).to_have_text("Online")
    expect(page.get_by_role("radio", name="the last 15 minutes")).to_be_checked()

    charts = page.get_by_test_id("host-charts")
    for title in ("CPU", "Memory", "Disk space", "Disk I/O", "Network", "Load average"):
        expect(charts.get_by_role("heading", name=title, exact=True)).to_be_visible()
    # Screen readers get each chart in words, with the numbers the API sent.
    expect(charts.locator("figcaption").first).to_contain_text("CPU over the last 15 minutes: CPU busy latest")
    expect(charts.locator("figcaption").nth(4)).to_contain_text("Received latest 20.5 kB/s")

    sizes = chart_sizes(page)
    assert len(sizes) >= 6 and all(s["w"] > 0 and s["h"] > 0 and s["cw"] > 100 for s in sizes), sizes
    page.wait_for_timeout(300)
    assert no_horizontal_scroll(page), page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")

    # 30 days: the same charts (same canvases), fed hourly points; then back to 15 minutes.
    tag_canvases(page)
    marked = tagged_canvases(page)
    t0 = time.monotonic()
    page.get_by_role("radio", name="the last 30 days").check()
    expect(page).to_have_url(re.compile(r"range=30d"))
    expect(page.get_by_test_id("as-of")).to_contain_text("1 h points")
    expect(charts.locator("figcaption").first).to_contain_text("over the last 30 days: CPU busy latest")
    metrics["hosts: 15 min → 30 days on screen (ms)"] = (time.monotonic() - t0) * 1000
    assert tagged_canvases(page) == marked, "a range switch must not rebuild the charts"
    thirty = [c for c in calls if c.get("step") == str(HOUR)]
    assert thirty and int(thirty[0]["to"]) + 1 - int(thirty[0]["from"]) == 30 * DAY, thirty[:1]
    assert all(s["w"] > 0 and s["h"] > 0 for s in chart_sizes(page))
    assert no_horizontal_scroll(page)

    page.get_by_role("radio", name="the last 15 minutes").check()
    expect(charts.locator("figcaption").first).to_contain_text("over the last 15 minutes: CPU busy latest")
    assert tagged_canvases(page) == marked
    assert no_horizontal_scroll(page)

    # Live: a new sample shows up within a refresh, on the same canvases.
    post_samples(product, [sample("web-1", "vm", int(time.time() * 1000), {**vm_values(0), "cpu.percent": 97.5})])
    expect(page.get_by_test_id("latest-values")).to_contain_text("97.5%", timeout=15_000)
    expect(charts.locator("figcaption").first).to_contain_text("latest 97.5%", timeout=15_000)
    assert tagged_canvases(page) == marked, "a refresh must update the charts in place"


def test_idle_refreshes_are_conditional_and_cheap_with_30_days(product, signed_in_page, metrics):
    now = int(time.time() * 1000)
    seed(product, now)
    page = signed_in_page("viewer", "/#/")  # the Overview reads no metrics
    calls = metrics_requests(page)
    page.goto(product.base_url + "/#/hosts?host=web-1&kind=vm&range=30d")  # the same document
    expect(page.get_by_test_id("host-charts").locator("figcaption").first).to_contain_text("latest")
    page.evaluate("""() => {
        window.__longTasks = [];
        new PerformanceObserver((l) => l.getEntries().forEach(e => window.__longTasks.push(e.duration)))
            .observe({type: 'longtask', buffered: false});
    }""")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(c["status"] == 304 for c in calls):
        page.wait_for_timeout(500)
    # After the first read, refreshes ask for the tail only (an hour or two of roll-ups), and an
    # unchanged tail is a 304.
    full = [c for c in calls if int(c["to"]) + 1 - int(c["from"]) == 30 * DAY]
    tails = [c for c in calls if int(c["to"]) + 1 - int(c["from"]) <= 2 * HOUR]
    assert full and tails, calls
    assert any(c["status"] == 304 for c in tails), calls
    long_tasks = page.evaluate("window.__longTasks")
    metrics["hosts: longest task while refreshing 30 days (ms)"] = max(long_tasks, default=0)
    metrics["hosts: long tasks while refreshing 30 days"] = len(long_tasks)


def test_no_hosts_yet_says_how_to_start_the_agent(product, signed_in_page):
    page = signed_in_page("viewer", "/#/hosts")
    empty = page.get_by_test_id("hosts-empty")
    expect(empty).to_contain_text("No hosts yet")
    command = empty.locator("pre").inner_text()
    assert "MISSIONCTL_AGENT_API_KEY" in command, command
    assert f".venv/bin/missionctl-agent --url {product.base_url}" in command, command

    # The first sample ends the empty state without a reload.
    post_samples(product, [sample("first-box", "vm", int(time.time() * 1000), vm_values(0))])
    expect(empty).to_have_count(0, timeout=15_000)
    expect(card(page, "first-box")).to_be_visible()


def test_unknown_host_says_so(product, signed_in_page):
    seed(product, int(time.time() * 1000))
    page = signed_in_page("viewer", "/#/hosts?host=nowhere&kind=vm")
    expect(page.get_by_test_id("host-unknown")).to_contain_text("No machine named nowhere has sent a sample")
    # The page is live (the host list answered), not "Loading…" forever.
    expect(page.get_by_test_id("as-of")).to_contain_text("Live · as of")
    expect(page.get_by_test_id("as-of")).not_to_contain_text("Loading")


def x_tick_labels(page) -> list[list[str]]:
    """Each host chart's time-axis labels, left to right."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="host-charts"] .time-chart__canvas')]
        .map(c => (c.dataset.xTicks || '').split(' ').filter(Boolean))""")


def test_a_new_host_with_minutes_of_data_fills_the_charts_with_the_same_ticks_side_by_side(product, signed_in_page):
    now = int(time.time() * 1000)
    post_samples(product, [sample("fresh-1", "vm", now - (18 - i) * 10 * SECOND, vm_values(i)) for i in range(18)])
    page = signed_in_page("viewer", "/#/hosts?host=fresh-1&kind=vm&range=1h")
    charts = page.get_by_test_id("host-charts")
    expect(charts.locator("figcaption").first).to_contain_text("CPU busy latest")
    page.wait_for_timeout(300)
    labels = x_tick_labels(page)
    assert len(labels) == 6 and all(row == labels[0] for row in labels), labels  # one tick set
    # The 3 minutes fill the span (5 of the hour's minutes), not a sliver at its right edge:
    # the first tick is within minutes of now, never an hour before.
    first = datetime.strptime(labels[0][0], "%H:%M").time()
    start = datetime.fromtimestamp((now - 6 * 60_000) / 1000, timezone.utc).time()
    assert first >= start.replace(second=0, microsecond=0) or start.hour == 23, (labels[0], start)
    # Plot areas line up too: every chart's plot starts at the same x.
    lefts = page.evaluate("""() => [...document.querySelectorAll('[data-testid="host-charts"] .uplot .u-over')]
        .map(o => Math.round(o.getBoundingClientRect().left - o.closest('.panel').getBoundingClientRect().left))""")
    assert len(set(lefts)) == 1, lefts


@pytest.mark.skipif(not AGENT.exists(), reason="missionctl-agent is not installed in .venv "
                    "(.venv/bin/pip install -e collectors)")
def test_the_agent_on_this_machine_shows_on_the_hosts_page(product, signed_in_page, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_AGENT_")}
    env["MISSIONCTL_AGENT_API_KEY"] = metrics_key(product) or "e2e-unchecked-key"
    cmd = [str(AGENT), "--url", product.base_url, "--once", "--buffer-path", str(tmp_path / "buffer.sqlite3"),
           "--watch", f"mission-control={product.base_url}/api/health", "--log-level", "DEBUG"]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr  # 0: nothing left in the buffer
    me = socket.gethostname()
    # A refused batch is dropped for good (and still exits 0): check the API has the samples.
    arrived = {(h["host"], h["kind"]) for h in product.get("/api/hosts")["hosts"]}
    assert {(me, "vm"), ("mission-control", "webapp")} <= arrived, (
        f"the agent's samples did not arrive (hosts: {sorted(arrived)}); its log:\n{run.stderr[-3000:]}")

    page = signed_in_page("viewer", "/#/hosts")
    mine = card(page, me)
    expect(mine.get_by_test_id("host-status")).to_have_text("Online")
    expect(mine.get_by_role("link", name=me)).to_be_visible()
    expect(mine.get_by_test_id("sparkline")).to_have_attribute("aria-label", re.compile(r"latest \d"))
    app = page.get_by_test_id("webapps").locator('[data-host="mission-control"]')
    expect(app).to_contain_text("200")

    mine.get_by_role("link", name=me).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(me)
    expect(page.get_by_test_id("host-charts").locator("figcaption").first).to_contain_text("CPU busy latest")

