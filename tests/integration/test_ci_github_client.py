"""The GitHub App client against a loopback server that speaks GitHub's REST API strictly
(``tests/fake_github.py``): the App JWT and installation tokens it checks, rate limits and
secondary limits backed off (with a recorded sleep: nothing waits), ETags answered 304,
backfills through the CLI and the installation webhook, and re-runs and cancels from the API
that reach GitHub and are recorded with the run."""
from __future__ import annotations

import json

import pytest
from ci_helpers import SECRET, deliver, payload

from tests.conftest import SignedInClient, _client_on
from tests.fake_github import APP_ID, INSTALLATION_ID, FakeGitHub, sample_runs

REPO = "octo-org/octo-repo"


@pytest.fixture
def github(tmp_path, monkeypatch):
    from chalicelib.ci import forget_client
    from chalicelib.ci.secrets import forget_cached
    from chalicelib.ci.settings import ci_settings
    fake = FakeGitHub.start(tmp_path)
    base = json.loads(payload("workflow_run", "completed"))["workflow_run"]
    fake.add_repo(REPO, sample_runs(12, REPO, base))
    fake.add_repo("octo-org/docs", sample_runs(3, "octo-org/docs", base, workflow="Deploy docs"))
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("GITHUB_APP_ID", APP_ID)
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY_FILE", str(fake.key_file))
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("CI_BACKFILL_RUNS", "10")
    for clear in (forget_cached, ci_settings.cache_clear, forget_client):
        clear()
    yield fake
    for clear in (forget_cached, ci_settings.cache_clear, forget_client):
        clear()
    fake.stop()


class Waits:
    """A clock and a sleep for the client: sleeping moves the clock, nothing waits."""

    def __init__(self):
        import time
        self.now = time.time()
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds))
        self.now += seconds


def client(github, waits: Waits, max_backoff_s: float = 120):
    import requests

    from chalicelib.ci.github import GitHubApp
    key = github.key_file.read_bytes()
    github.clock = waits.clock  # one simulated time for both sides
    return GitHubApp(github.url, APP_ID, lambda: key, requests.Session(), max_backoff_s=max_backoff_s,
                     clock=waits.clock, sleep=waits.sleep)


def test_the_app_jwt_is_accepted_and_the_installation_token_cached_until_a_minute_before_expiry(github):
    waits = Waits()
    app = client(github, waits)
    first = app.installation_token(INSTALLATION_ID)
    assert app.installation_token(INSTALLATION_ID) == first
    assert github.token_requests == 1 and github.refused == []
    waits.now += 3600 - 61  # the token expires in an hour: still 61 s left, still used
    assert app.installation_token(INSTALLATION_ID) == first
    waits.now += 2
    assert app.installation_token(INSTALLATION_ID) != first and github.token_requests == 2


def test_a_wrong_key_is_refused_by_github(github, tmp_path):
    import requests

    from chalicelib.ci.github import GitHubApp, GitHubError
    other = FakeGitHub(tmp_path / "..")  # another key pair (never started)
    app = GitHubApp(github.url, APP_ID, other.key_file.read_bytes, requests.Session())
    with pytest.raises(GitHubError) as refused:
        app.installation_token(INSTALLATION_ID)
    assert refused.value.status == 401 and "Signature verification failed" in github.refused[0]


def test_conditional_requests_get_304_and_cost_no_rate_limit(github):
    app = client(github, Waits())
    first = app.workflow_runs(INSTALLATION_ID, REPO, 5)
    left = github.remaining
    again = app.workflow_runs(INSTALLATION_ID, REPO, 5)
    assert again == first and github.not_modified == 1 and github.remaining == left
    _, _, headers = github.requests[-1]
    assert headers["if-none-match"].startswith('"')


@pytest.mark.parametrize("kind, retry_after, expected_wait", [
    ("primary", None, 30), ("secondary", 3, 3), ("secondary", None, 60), ("429", 7, 7)])
def test_rate_limits_back_off_then_succeed(github, kind, retry_after, expected_wait):
    waits = Waits()
    app = client(github, waits)
    app.installation_token(INSTALLATION_ID)
    github.limit_next(kind, reset_in_s=30, retry_after_s=retry_after)
    runs = app.workflow_runs(INSTALLATION_ID, REPO, 3)
    assert [r["id"] for r in runs] == [5011, 5010, 5009]
    assert len(waits.slept) == 1 and abs(waits.slept[0] - expected_wait) <= 1


def test_a_wait_longer_than_the_client_makes_is_an_error_not_a_hang(github):
    from chalicelib.ci.github import RateLimited
    waits = Waits()
    app = client(github, waits, max_backoff_s=10)
    app.installation_token(INSTALLATION_ID)
    github.limit_next("primary", reset_in_s=600)
    with pytest.raises(RateLimited):
        app.workflow_runs(INSTALLATION_ID, REPO, 3)
    assert waits.slept == []


@pytest.fixture(params=["sqlite", "dynamodb"])
def engine(request):
    return request.getfixturevalue("sqlite_store" if request.param == "sqlite" else "dynamo_store")


@pytest.fixture
def ci(engine, access_gate, issuer, github):
    for api in _client_on(engine):
        yield SignedInClient(api, {"authorization": f"Bearer {issuer.token('admin')}"})


def test_missionctl_ci_backfill_stores_every_repositorys_recent_runs(ci, github, capsys):
    from chalicelib.cli import main
    assert main(["ci", "backfill"]) == 0
    assert "backfill: 13 runs from 2 repositories, 13 new or newer, 16 jobs" in capsys.readouterr().out
    runs = json.loads(ci.http.get(f"/api/repos/{REPO}?limit=100").body)["runs"]
    assert [r["runId"] for r in runs] == list(range(5011, 5001, -1))
    repos = {r["repo"]: r for r in json.loads(ci.http.get("/api/repos").body)["repos"]}
    assert repos[REPO]["latest"]["CI"]["runId"] == 5011 and repos[REPO]["installationId"] == INSTALLATION_ID
    # The newest runs come with their jobs and steps.
    jobs = json.loads(ci.http.get(f"/api/repos/{REPO}/runs/5011").body)["jobs"]
    assert [(j["name"], j["steps"][0]["name"]) for j in jobs] == [("lint", "Set up job"), ("test", "Set up job")]
    assert main(["ci", "backfill"]) == 0  # again: nothing moves
    assert "0 new or newer, 0 jobs" in capsys.readouterr().out


def test_the_installation_webhook_backfills_on_the_next_scheduled_run(ci, github):
    body = json.dumps({"action": "created", "installation": {"id": INSTALLATION_ID},
                       "sender": {"login": "octocat"}}).encode()
    reply = deliver(ci, "installation", body)
    assert reply.status_code == 200, reply.body
    result = _scheduled_backfill(ci)
    assert result["backfilled"][0]["runs"] == 13
    assert len(json.loads(ci.http.get(f"/api/repos/{REPO}?limit=100").body)["runs"]) == 10
    assert _scheduled_backfill(ci)["backfilled"] == []  # done once


def test_a_backfill_another_runner_holds_is_skipped_until_its_lease_is_over(ci, github):
    # Given a backfill asked for, and taken by a runner still at work (a Lambda runs for minutes)
    from chalicelib.ci import repository
    from chalicelib.ci.backfill import BACKFILL_LEASE_MS
    body = json.dumps({"action": "created", "installation": {"id": INSTALLATION_ID},
                       "sender": {"login": "octocat"}}).encode()
    assert deliver(ci, "installation", body).status_code == 200
    repo = repository()
    [pending] = repo.pending_backfills()
    started = int(pending["askedAt"])
    assert repo.claim_backfill(pending, started, BACKFILL_LEASE_MS)
    # When the next minute's runner starts, it leaves it alone
    assert _scheduled_backfill(ci)["backfilled"] == []
    assert not repo.claim_backfill(repo.pending_backfills()[0], started + 60_000, BACKFILL_LEASE_MS)
    # And once the lease is over (the first runner stopped without finishing), one runner takes it
    [held] = repo.pending_backfills()
    assert repo.claim_backfill(held, started + BACKFILL_LEASE_MS + 1, BACKFILL_LEASE_MS)
    assert not repo.claim_backfill(held, started + BACKFILL_LEASE_MS + 1, BACKFILL_LEASE_MS)  # the stale copy


def _scheduled_backfill(ci) -> dict:
    """EventBridge's scheduled event, as AWS and the local worker send it."""
    import time

    from chalicelib.local.worker import scheduled_event
    return ci.lambda_.invoke("ciBackfill", scheduled_event("ciBackfill", time.time())).payload


def test_an_operator_reruns_and_cancels_through_github_and_is_recorded(ci, github, issuer):
    from chalicelib.cli import main
    assert main(["ci", "backfill"]) == 0
    operator = {"authorization": f"Bearer {issuer.token('operator')}"}
    reply = ci.http.post(f"/api/repos/{REPO}/runs/5011/rerun", headers=operator)
    assert reply.status_code == 202, reply.body
    reply = ci.http.post(f"/api/repos/{REPO}/runs/5008/rerun?failed=true", headers=operator)
    assert reply.status_code == 202, reply.body
    assert github.actions == [("rerun", REPO, 5011), ("rerun-failed-jobs", REPO, 5008)]
    run = json.loads(ci.http.get(f"/api/repos/{REPO}/runs/5011").body)
    (asked,) = run["requestedBy"]
    from chalicelib.local.dev_issuer import DEMO_USERS
    assert asked["action"] == "rerun" and asked["by"]["subject"] == DEMO_USERS["operator"].sub
    # A completed run cannot be cancelled; an in-progress one can.
    assert ci.http.post(f"/api/repos/{REPO}/runs/5011/cancel", headers=operator).status_code == 409
    going = json.loads(payload("workflow_run", "requested"))
    going["workflow_run"].update(id=5011, run_attempt=2, status="in_progress", updated_at="2026-11-02T00:00:00Z")
    going["repository"]["full_name"] = REPO
    assert deliver(ci, "workflow_run", json.dumps(going).encode()).status_code == 200
    assert ci.http.post(f"/api/repos/{REPO}/runs/5011/cancel", headers=operator).status_code == 202
    assert github.actions[-1] == ("cancel", REPO, 5011)


def test_github_refusing_a_rerun_is_a_502_not_a_500(ci, github, issuer):
    from chalicelib.cli import main
    assert main(["ci", "backfill"]) == 0
    github.runs[REPO] = []  # GitHub no longer knows the run: 404
    reply = ci.http.post(f"/api/repos/{REPO}/runs/5011/rerun", headers={"authorization": f"Bearer {issuer.token('operator')}"})
    assert reply.status_code == 502 and json.loads(reply.body)["error"]["code"] == "github_failed"


def test_an_unusable_private_key_is_a_clear_502_not_a_500(ci, github, issuer, monkeypatch, tmp_path):
    from chalicelib.ci import forget_client
    from chalicelib.ci.secrets import forget_cached
    from chalicelib.cli import main
    assert main(["ci", "backfill"]) == 0
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    bad.chmod(0o600)
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY_FILE", str(bad))
    from chalicelib.ci.settings import ci_settings
    ci_settings.cache_clear()
    forget_cached()
    forget_client()
    reply = ci.http.post(f"/api/repos/{REPO}/runs/5011/rerun", headers={"authorization": f"Bearer {issuer.token('operator')}"})
    assert reply.status_code == 502 and "private key" in json.loads(reply.body)["error"]["message"]
    bad.chmod(0o644)
    forget_cached()
    forget_client()
    reply = ci.http.post(f"/api/repos/{REPO}/runs/5011/rerun", headers={"authorization": f"Bearer {issuer.token('operator')}"})
    assert reply.status_code == 409 and "chmod 600" in json.loads(reply.body)["error"]["message"]
