"""Incidents end to end: the product started as `make run` starts it; `missionctl events put`
puts AWS's documented CloudWatch alarm event on the local bus, the worker delivers it to the
``alarmToIncident`` handler, the Incidents console shows the incident in Chromium; an operator
acknowledges it in the browser and the timeline says who; a viewer sees no buttons."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from incident_events import STATE_CHANGE  # noqa: E402

pytestmark = pytest.mark.e2e


def test_an_alarm_put_on_the_bus_opens_an_incident_an_operator_acknowledges_in_the_console(product, signed_in_page):
    # the example README.md gives (AWS's documented sample, shipped in examples/)
    example = Path(__file__).resolve().parents[2] / "examples" / "cloudwatch-alarm-state-change.json"
    assert json.loads(example.read_text()) == json.loads(STATE_CHANGE.read_text())
    out = product.missionctl("events", "put", "--file", str(example))
    assert "put event c4c1c1c9-6542-e61b-6ef0-8c4d36933a92 on the local bus" in out

    page = signed_in_page("operator", "/#/incidents")
    row = page.get_by_test_id("incident-row").filter(has_text="ServerCpuTooHigh in ALARM")
    expect(row).to_be_visible(timeout=30_000)  # the worker's next tick, then the list's refresh
    expect(row.get_by_test_id("severity")).to_have_text("▲ HIGH")
    expect(row.get_by_test_id("incident-status")).to_have_text("open")
    row.get_by_role("link", name="ServerCpuTooHigh in ALARM").click()

    expect(page.get_by_test_id("incident-links")).to_contain_text("ServerCpuTooHigh")
    expect(page.get_by_test_id("action-closed")).to_have_count(0)  # closing is the admins'
    page.get_by_test_id("action-acknowledged").click()
    expect(page.get_by_test_id("incident-status")).to_have_text("acknowledged")
    timeline = page.get_by_test_id("incident-timeline")
    expect(timeline).to_contain_text("Omar Operator changed status open → acknowledged")
    expect(timeline).to_contain_text("CloudWatch opened the incident")

    page.get_by_test_id("assign-me").click()
    expect(timeline).to_contain_text("Omar Operator assigned it to Omar Operator")
    expect(page.get_by_test_id("assign-me")).to_have_count(0)

    page.get_by_test_id("note-input").fill("CPU back to normal after scaling out")
    page.get_by_role("button", name="Add note").click()
    expect(timeline).to_contain_text("Omar Operator noted: CPU back to normal after scaling out")

    [incident] = product.get("/api/incidents")["incidents"]
    assert incident["status"] == "acknowledged" and incident["acknowledgedAt"] is not None
    assert incident["assignee"] == "Omar Operator"


def test_a_viewer_sees_incidents_without_buttons_and_operators_declare_them(product, signed_in_page):
    status, incident = product.request("POST", "/api/incidents", {
        "title": "Checkout errors", "severity": "CRITICAL", "service": "checkout"})
    assert status == 201, incident
    viewer = signed_in_page("viewer", f"/#/incidents?id={incident['id']}")
    expect(viewer.get_by_role("heading", name="Checkout errors")).to_be_visible()
    expect(viewer.get_by_test_id("incident-impact")).to_contain_text("Not enough volume")
    expect(viewer.get_by_test_id("incident-actions")).to_have_count(0)
    viewer.goto(product.base_url + "/#/incidents")
    expect(viewer.get_by_test_id("declare-toggle")).to_have_count(0)

    operator = signed_in_page("operator", "/#/incidents")
    expect(operator.get_by_test_id("incident-stats")).to_contain_text("MTTA — · MTTR — over 1 incident in 30 days")
    operator.get_by_test_id("declare-toggle").click()
    form = operator.get_by_test_id("declare-form")
    form.get_by_label("Title").fill("Search slow")
    form.get_by_label("Service").fill("search")
    form.get_by_role("button", name="Declare").click()
    expect(operator.get_by_role("heading", name="Search slow")).to_be_visible()
    expect(operator.get_by_test_id("incident-timeline")).to_contain_text("Omar Operator opened the incident: Search slow")
