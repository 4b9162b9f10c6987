"""The CI console end to end: the product started as a user starts it, fed signed GitHub
webhooks (real payloads) over HTTP, shows the run in headless Chromium; an operator's re-run
from the browser reaches a loopback GitHub (``tests/fake_github.py``), a viewer is not offered
it; the Settings page's theme is the shell's theme."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect

from chalicelib.ci.signature import sign
from tests.fake_github import APP_ID, INSTALLATION_ID, FakeGitHub
from tests.shared_data import GITHUB_WEBHOOKS

pytestmark = pytest.mark.e2e

WEBHOOKS = GITHUB_WEBHOOKS
SECRET = "e2e-webhook-secret"
REPO = "octo-org/octo-repo"
RUN_ID = 289782451


@pytest.fixture
def github(tmp_path, monkeypatch):
    fake = FakeGitHub.start(tmp_path)
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("GITHUB_APP_ID", APP_ID)
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY_FILE", str(fake.key_file))
    yield fake
    fake.stop()


@pytest.fixture
def ci_product(github, request):
    """The product, started after the GitHub settings are in its environment."""
    return request.getfixturevalue("product")


def deliver(product, event: str, body: bytes) -> dict:
    req = urllib.request.Request(product.base_url + "/webhooks/github", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(SECRET.encode(), body), "User-Agent": "GitHub-Hookshot/e2e"})
    with urllib.request.urlopen(req, timeout=15) as res:
        assert res.status == 200
        return json.loads(res.read())


def run_payload(name: str, **changes) -> bytes:
    data = json.loads((WEBHOOKS / "workflow_run" / f"{name}.payload.json").read_bytes())
    data["installation"] = {"id": INSTALLATION_ID}
    data["workflow_run"].update(changes)
    return json.dumps(data).encode()


def test_signed_webhooks_show_the_run_and_an_operator_reruns_it_on_github(ci_product, github, signed_in_page):
    product = ci_product
    github.add_repo(REPO, [json.loads(run_payload("completed"))["workflow_run"]])
    assert deliver(product, "workflow_run", run_payload("requested"))["result"] == "stored"
    assert deliver(product, "workflow_run", run_payload("completed", conclusion="failure",
                                                                 updated_at="2020-10-05T16:34:14Z"))["result"] == "stored"
    job = (WEBHOOKS / "workflow_job" / "completed.failure.with-organization.payload.json").read_bytes()
    assert deliver(product, "workflow_job", job)["result"] == "stored"
    # A bad signature is refused by the running product too.
    req = urllib.request.Request(product.base_url + "/webhooks/github", data=b"{}", method="POST", headers={
        "Content-Type": "application/json", "X-GitHub-Event": "ping", "X-GitHub-Delivery": "x",
        "X-Hub-Signature-256": "sha256=" + "0" * 64})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=15)
    assert refused.value.code == 401

    page = signed_in_page("operator", "/#/ci")
    repo_card = page.get_by_test_id("ci-repo").filter(has_text=REPO)
    expect(repo_card).to_contain_text("failing")
    repo_card.get_by_role("link", name=REPO).click()
    row = page.get_by_test_id("ci-run-row").first
    expect(row).to_contain_text("test")
    expect(row).to_contain_text("master")
    expect(row).to_contain_text("3484a3f")
    expect(row).to_contain_text("Codertocat")
    expect(row).to_contain_text("failed")
    expect(row).to_contain_text("25s")  # started 16:33:49, completed 16:34:14
    row.get_by_role("link").click()
    run = page.get_by_test_id("ci-run")
    expect(run).to_contain_text("attempt 1")
    page.get_by_test_id("ci-rerun-failed").click()
    expect(page.get_by_test_id("ci-notice")).to_contain_text("Re-run requested")
    assert github.actions == [("rerun-failed-jobs", REPO, RUN_ID)]
    expect(page.get_by_test_id("ci-health")).to_contain_text("test")
    expect(page.get_by_test_id("ci-health-chart").first).to_be_visible()

    viewer = signed_in_page("viewer", f"/#/ci?repo={REPO}&run={RUN_ID}")
    expect(viewer.get_by_test_id("ci-run")).to_contain_text("attempt 1")
    expect(viewer.get_by_test_id("ci-rerun")).to_have_count(0)
    # Anyone pins their own repositories first.
    cards = viewer.get_by_test_id("ci-repo")
    expect(cards.first).to_contain_text(REPO)
    cards.filter(has_text="Codertocat/Hello-World").get_by_test_id("ci-pin").click()
    expect(cards.first).to_contain_text("Codertocat/Hello-World")
    expect(cards.first.get_by_test_id("ci-pin")).to_have_attribute("aria-pressed", "true")
    # ... their own only: the operator's order is unchanged.
    page.reload()
    expect(page.get_by_test_id("ci-repo").first).to_contain_text(REPO)


def test_the_settings_theme_is_the_shells_theme_and_is_kept_per_user(ci_product, signed_in_page):
    page = signed_in_page("viewer", "/#/settings")
    page.get_by_test_id("settings-theme").select_option("dark")
    page.get_by_test_id("settings-save").click()
    expect(page.get_by_test_id("settings-status")).to_have_text("Saved.")
    expect(page.get_by_test_id("theme-select")).to_have_value("dark")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    # The shell's toggle writes the same setting.
    page.get_by_test_id("theme-select").select_option("light")
    page.reload()
    expect(page.get_by_test_id("settings-theme")).to_have_value("light")
    # Another user's settings are their own.
    other = signed_in_page("operator", "/#/settings")
    expect(other.get_by_test_id("settings-theme")).to_have_value("system")


def test_the_running_product_takes_a_20_mb_delivery_and_refuses_a_bigger_than_github_one(ci_product):
    data = json.loads(run_payload("completed"))
    data["workflow_run"]["head_commit"]["message"] = "m" * (20 * 1024 * 1024)
    assert deliver(ci_product, "workflow_run", json.dumps(data).encode())["result"] == "stored"
    too_big = b" " * (25 * 1024 * 1024 + 1)
    req = urllib.request.Request(ci_product.base_url + "/webhooks/github", data=too_big, method="POST", headers={
        "Content-Type": "application/json", "X-GitHub-Event": "ping", "X-GitHub-Delivery": "big",
        "X-Hub-Signature-256": sign(SECRET.encode(), too_big)})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=60)
    assert refused.value.code == 413
    assert json.loads(refused.value.read())["error"]["code"] == "too_large"


@pytest.fixture
def deploy_workflow_named_test(monkeypatch):
    """The real payloads' workflow (test.yml) counted as a deploy, before the product starts."""
    monkeypatch.setenv("CI_DEPLOY_WORKFLOWS", "test")


def test_a_deploy_shortly_before_an_insight_is_shown_with_it(github, deploy_workflow_named_test, ci_product,
                                                             signed_in_page):
    # Given a deploy workflow that ran twenty minutes ago, and then a CPU spike on web-7
    import time
    from datetime import UTC, datetime

    from tests.e2e.test_hosts import post_samples
    from tests.e2e.test_insights_page import spiky_cpu
    product = ci_product
    now = int(time.time() * 1000)
    at = datetime.fromtimestamp(now // 1000 - 1200, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    deliver(product, "workflow_run", run_payload("completed", created_at=at, updated_at=at, run_started_at=at))
    post_samples(product, spiky_cpu("web-7", now))
    # Then the insight on the Insights page names the deploy that went before it, linked to the run
    page = signed_in_page("viewer", "/#/insights")
    insight = page.get_by_test_id("insight").filter(has_text="web-7")
    expect(insight).to_be_visible(timeout=30_000)
    deploys = insight.get_by_test_id("insight-deploys")
    expect(deploys).to_contain_text("Deployed in the hour before")
    expect(deploys.get_by_role("link")).to_have_attribute("href", f"#/ci?repo={REPO}&run={RUN_ID}")
