"""Alerting end to end: the product started as `make run` starts it (its worker evaluating rules
every minute and delivering the local topic's SNS events), a rule and a Slack channel created
through the API, metric samples over the threshold from a collector's key, one notification at
a loopback Slack stand-in, the Alerts console and the Overview panel in Chromium (an operator
acknowledges), then one resolved notification once samples go back under ``recover``."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from loopback_receiver import LoopbackReceiver  # noqa: E402

pytestmark = pytest.mark.e2e

RULE = "E2E load"
#: the evaluation runs every minute: up to two of them, plus the worker's tick, per step
WAIT_S = 200


class Collector:
    """Sends a sample every 2 s with the value the test sets, as the agent does every 10 s."""

    def __init__(self, product, key: str):
        self.product, self.key = product, key
        self.value = 6.5
        self.stop = threading.Event()
        self.errors: list = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            sample = {"host": "e2e-web", "kind": "vm", "timestamp": int(time.time() * 1000),
                      "values": {"load.1m": self.value, "cpu.percent": 12.0}}
            status, body = self.product.request("POST", "/api/metrics", [sample],
                                                headers={"x-api-key": self.key})
            if status != 200:
                self.errors.append((status, body))
            self.stop.wait(2)


def ours(receiver) -> list[dict]:
    return [r.json() for r in receiver.requests if RULE in r.json().get("text", "")]


def wait_for_ours(receiver, count: int) -> list[dict]:
    deadline = time.monotonic() + WAIT_S  # keeps a broken run from hanging; nothing is measured
    while time.monotonic() < deadline:
        found = ours(receiver)
        if len(found) >= count:
            return found
        time.sleep(0.5)
    raise AssertionError(f"expected {count} notifications of {RULE!r}, got {ours(receiver)}")


def test_a_rule_fires_once_to_slack_is_acknowledged_in_the_console_and_resolves_once(product, signed_in_page):
    slack = LoopbackReceiver.start()
    key = product.missionctl("apikey", "create", "--scope", "ingest:metrics", "--name", "e2e alerts")
    collector = Collector(product, key)
    try:
        status, channel = product.request("POST", "/api/channels", {
            "name": "ops", "type": "slack", "url": slack.url("/services/T0/B0/e2e")})
        assert status == 201, channel
        status, rule = product.request("POST", "/api/alert-rules", {
            "name": RULE, "kind": "threshold", "source": "metric", "host": "e2e-web", "metric": "load.1m",
            "op": ">", "value": 4, "recover": 2, "for": "0s", "severity": "HIGH",
            "channels": [channel["id"]], "runbookUrl": "https://wiki.example.com/load"})
        assert status == 201, rule
        collector.thread.start()

        [firing] = wait_for_ours(slack, 1)
        assert firing["text"].endswith(f"[FIRING:1] {RULE} (HIGH)")
        assert "load.1m on e2e-web is 6.5 (> 4)" in str(firing["blocks"])

        page = signed_in_page("operator", "/#/alerts")
        row = page.get_by_test_id("alert-row").filter(has_text=RULE)
        expect(row).to_be_visible(timeout=30_000)
        expect(row.get_by_test_id("severity")).to_have_text("▲ HIGH")
        expect(row.get_by_test_id("alert-state")).to_have_text("Firing")
        expect(page.get_by_test_id("firing-count")).to_have_text("1", timeout=30_000)
        row.get_by_role("button", name="Acknowledge").click()
        row.get_by_label("Comment").fill("looking at it")
        row.get_by_test_id("ack-form").get_by_role("button", name="Acknowledge").click()
        expect(row.get_by_test_id("acknowledged")).to_contain_text("Acknowledged by Omar Operator: “looking at it”")

        page.goto(product.base_url + "/#/")
        expect(page.get_by_test_id("alerts-panel")).to_contain_text(RULE)
        page.goto(product.base_url + "/#/alerts?tab=rules")
        expect(page.get_by_test_id("rule").filter(has_text=RULE)).to_contain_text("load.1m > 4 on e2e-web")

        collector.value = 1.0
        notifications = wait_for_ours(slack, 2)
        assert notifications[1]["text"].endswith(f"[RESOLVED:1] {RULE} (HIGH)")
        status, alerts = product.request("GET", "/api/alerts?state=resolved")
        [resolved] = [a for a in alerts["alerts"] if a["name"] == RULE]
        assert resolved["labels"] == {"host": "e2e-web", "metric": "load.1m"} and resolved["endsAt"]
        time.sleep(3)  # a worker tick or two more: nothing else of this rule arrives
        assert len(ours(slack)) == 2
        assert collector.errors == []
    finally:
        collector.stop.set()
        slack.stop()


def test_an_admin_adds_a_slack_channel_sends_a_test_and_edits_rules_in_the_console(product, signed_in_page):
    slack = LoopbackReceiver.start()
    try:
        page = signed_in_page("admin", "/#/alerts?tab=channels")
        form = page.get_by_test_id("channel-form")
        form.get_by_label("Name").fill("ops")
        form.get_by_label("URL").fill(slack.url("/services/T0/B0/console"))
        form.get_by_role("button", name="Add channel").click()
        channel = page.get_by_test_id("channel").filter(has_text="ops")
        expect(channel).to_contain_text(f"http://127.0.0.1:{slack.port}")
        expect(channel).not_to_contain_text("/services/T0/B0/console")  # the URL is write-only
        channel.get_by_role("button", name="Send test").click()
        expect(channel.get_by_test_id("test-outcome")).to_have_text("delivered (HTTP 200)")
        [message] = slack.wait_for(1)
        assert "[TEST]" in message.json()["text"]

        page.goto(product.base_url + "/#/alerts?tab=rules")
        expect(page.get_by_test_id("rule").filter(has_text="Revenue drop")).to_contain_text(
            "revenue over 1h < -20% against yesterday")
        page.get_by_role("button", name="Host silent").click()
        editor = page.get_by_test_id("rule-editor")
        editor.locator("textarea").fill('{"name": "Silent", "kind": "absence", "intervals": 0, "severity": "HIGH"}')
        editor.get_by_role("button", name="Save").click()
        expect(page.get_by_test_id("refusal")).to_contain_text("intervals:")
        editor.locator("textarea").fill('{"name": "Silent web", "kind": "absence", "host": "web-1", "intervals": 6, "severity": "HIGH"}')
        editor.get_by_role("button", name="Save").click()
        expect(page.get_by_test_id("rule").filter(has_text="Silent web")).to_contain_text("web-1 silent for 6 intervals")
    finally:
        slack.stop()


def test_viewers_see_alerts_and_rules_but_no_editors_or_channels(signed_in_page):
    page = signed_in_page("viewer", "/#/alerts?tab=rules")
    expect(page.get_by_test_id("rule").first).to_be_visible()
    expect(page.get_by_role("button", name="Edit")).to_have_count(0)
    expect(page.get_by_role("link", name="Channels")).to_have_count(0)
    page.goto(page.url.split("#")[0] + "#/alerts?tab=channels")  # typed by hand: the first tab instead
    expect(page.get_by_role("link", name="Firing & pending")).to_have_attribute("aria-current", "page")
