"""The CI console's webhook and API through the app as GitHub and the SPA reach it
(chalice.test.Client), on SQLite and on DynamoDB Local: every real payload in
``../shared/data/github-webhooks`` signed with a test secret, bad signatures, redeliveries,
deliveries out of order, big bodies, and what the API then answers."""
from __future__ import annotations

import json

import pytest
from ci_helpers import SECRET, deliver, every_payload, payload, with_changes

from tests.conftest import SignedInClient, _client_on

REPO = "octo-org/octo-repo"
RUN_ID = 289782451


@pytest.fixture(autouse=True)
def webhook_secret(monkeypatch):
    from chalicelib.ci import forget_client
    from chalicelib.ci.secrets import forget_cached
    from chalicelib.ci.settings import ci_settings
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("CI_DEPLOY_WORKFLOWS", "test")
    forget_cached()
    ci_settings.cache_clear()
    forget_client()
    yield
    forget_cached()
    ci_settings.cache_clear()
    forget_client()


@pytest.fixture(params=["sqlite", "dynamodb"])
def engine(request):
    return request.getfixturevalue("sqlite_store" if request.param == "sqlite" else "dynamo_store")


@pytest.fixture
def ci(engine, access_gate, issuer):
    """The app on ``engine``, as an admin (tests pass other roles' headers where it matters)."""
    for client in _client_on(engine):
        yield SignedInClient(client, {"authorization": f"Bearer {issuer.token('admin')}"})


def get(api, path, headers=None):
    reply = api.http.get(path, headers=headers or {})
    assert reply.status_code == 200, reply.body
    return json.loads(reply.body)


def counted(engine) -> dict:
    """Every workflow's roll-up counts, straight from the store (not through the API under test)."""
    items = engine.query("ci", "workflows", newest_first=False).items
    return {item["sk"]: item["completed"] for item in items}


def test_every_real_payload_is_stored(ci, engine):
    for event, name in every_payload():
        reply = deliver(ci, event, payload(event, name))
        assert reply.status_code == 200, (event, name, reply.body)
        assert json.loads(reply.body)["event"] == event
    repos = {r["repo"]: r for r in get(ci, "/api/repos")["repos"]}
    # (The samples come from three repositories: ping's, the jobs' and the runs'.)
    assert set(repos) == {REPO, "Codertocat/Hello-World", "Octocoders/Hello-World"}
    # The run: requested then completed (files sorted: completed first, then requested, which is older).
    run = get(ci, f"/api/repos/{REPO}/runs/{RUN_ID}")
    assert (run["status"], run["conclusion"], run["workflowName"]) == ("completed", "success", "test")
    assert run["sha"] == "3484a3fb816e0859fd6e1cea078d76385ff50625"
    assert run["commitMessage"] == "build(test): check workflow run event payload"
    assert run["actor"] == "Codertocat" and run["branch"] == "master"
    assert run["links"]["run"] == "https://github.com/octo-org/octo-repo/actions/runs/289782451"
    # The job of run 2202229078: completed (failure) wins over the in_progress and queued sent after it.
    job_run = get(ci, "/api/repos/Codertocat/Hello-World/runs/2202229078")
    (job,) = job_run["jobs"]
    assert (job["status"], job["conclusion"], job["name"]) == ("completed", "failure", "linters")
    assert [s["name"] for s in job["steps"]][:2] == ["Set up job", "Run actions/checkout@v2"]
    # The latest run on the default branch (master) is the repository's badge.
    assert repos[REPO]["latest"]["test"]["runId"] == RUN_ID and repos[REPO]["status"] == "passing"
    assert repos["Octocoders/Hello-World"]["status"] == "unknown"
    assert counted(engine) == {f"{REPO}#test": 1}


@pytest.mark.parametrize("signature", [None, "", "sha256=" + "0" * 64, "sha1=abc", "sha256=zz"])
def test_a_bad_or_missing_signature_is_401_and_changes_nothing(ci, engine, signature):
    body = payload("workflow_run", "completed")
    headers = {"content-type": "application/json", "x-github-event": "workflow_run", "x-github-delivery": "d-1"}
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    reply = ci.http.post("/webhooks/github", headers=headers, body=body)
    assert reply.status_code == 401
    assert json.loads(reply.body)["error"]["code"] == "bad_signature"
    assert get(ci, "/api/repos")["repos"] == []
    assert engine.get("ci", "delivery#d-1", "delivery") is None


def test_a_body_signed_with_another_secret_or_changed_after_signing_is_refused(ci):
    body = payload("workflow_run", "completed")
    assert deliver(ci, "workflow_run", body, secret="not-the-secret").status_code == 401
    from chalicelib.ci.signature import sign
    tampered = body.replace(b'"success"', b'"failure"', 1)
    assert deliver(ci, "workflow_run", tampered, signature=sign(SECRET.encode(), body)).status_code == 401
    assert get(ci, "/api/repos")["repos"] == []


def test_the_webhook_needs_no_token_but_a_signature(ci, anonymous_api):
    reply = deliver(anonymous_api, "ping", payload("ping", "payload.json"))
    assert reply.status_code == 200 and json.loads(reply.body)["result"] == "stored"


def test_redelivered_event_changes_nothing(ci, engine):
    body = payload("workflow_run", "completed")
    first = deliver(ci, "workflow_run", body, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    again = deliver(ci, "workflow_run", body, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert json.loads(first.body)["result"] == "stored"
    assert again.status_code == 200 and json.loads(again.body)["result"] == "duplicate"
    assert counted(engine) == {f"{REPO}#test": 1}
    # A new delivery of the same state (GitHub's "redeliver" gets a new id) moves nothing either.
    assert json.loads(deliver(ci, "workflow_run", body).body)["result"] == "stale"
    assert counted(engine) == {f"{REPO}#test": 1}


def test_completed_before_in_progress_stays_completed(ci, engine):
    completed = payload("workflow_run", "completed")
    in_progress = with_changes(payload("workflow_run", "requested"), "workflow_run", status="in_progress",
                               updated_at="2020-10-05T16:33:40Z")
    assert json.loads(deliver(ci, "workflow_run", completed).body)["result"] == "stored"
    assert json.loads(deliver(ci, "workflow_run", in_progress).body)["result"] == "stale"
    assert json.loads(deliver(ci, "workflow_run", payload("workflow_run", "requested")).body)["result"] == "stale"
    run = get(ci, f"/api/repos/{REPO}/runs/{RUN_ID}")
    assert (run["status"], run["conclusion"]) == ("completed", "success")
    # and jobs alike
    assert json.loads(deliver(ci, "workflow_job", payload("workflow_job", "completed.failure.with-organization")).body)["result"] == "stored"
    assert json.loads(deliver(ci, "workflow_job", payload("workflow_job", "in_progress")).body)["result"] == "stale"
    assert get(ci, "/api/repos/Codertocat/Hello-World/runs/2202229078")["jobs"][0]["status"] == "completed"


def test_a_rerun_supersedes_its_attempt_and_a_pass_after_a_failure_is_flaky(ci, engine):
    failed = with_changes(payload("workflow_run", "completed"), "workflow_run", conclusion="failure")
    rerun_queued = with_changes(payload("workflow_run", "requested"), "workflow_run", run_attempt=2,
                                updated_at="2020-10-05T16:40:00Z")
    passed = with_changes(payload("workflow_run", "completed"), "workflow_run", run_attempt=2,
                          updated_at="2020-10-05T16:45:00Z", run_started_at="2020-10-05T16:40:10Z")
    for body in (failed, rerun_queued, passed, failed):  # the first attempt's completion again, late
        assert deliver(ci, "workflow_run", body).status_code == 200
    run = get(ci, f"/api/repos/{REPO}/runs/{RUN_ID}")
    assert (run["runAttempt"], run["conclusion"]) == (2, "success")
    assert run["attempts"] == {"1": "failure", "2": "success"}
    day = engine.query("ci", f"health#{REPO}#test", sk_prefix="d#").items[0]
    assert (day["completed"], day["failed"], day["flaky"], day["decided"]) == (2, 1, 1, 2)


def test_other_events_are_acknowledged_and_ignored(ci, engine):
    reply = deliver(ci, "issues", b'{"action": "opened"}')
    assert reply.status_code == 202 and json.loads(reply.body) == {"result": "ignored", "event": "issues"}
    assert get(ci, "/api/repos")["repos"] == []


def test_bodies_up_to_githubs_25_mb_are_handled_and_bigger_ones_refused(ci):
    data = json.loads(payload("workflow_run", "completed"))
    data["workflow_run"]["head_commit"]["message"] = "x" * (24 * 1024 * 1024)
    big = json.dumps(data).encode()
    reply = deliver(ci, "workflow_run", big)
    assert reply.status_code == 200, reply.body[:300]
    run = get(ci, f"/api/repos/{REPO}/runs/{RUN_ID}")
    assert len(run["commitMessage"]) == 2000  # clipped: a run stays one small item
    too_big = big + b" " * (25 * 1024 * 1024 - len(big) + 1)
    reply = deliver(ci, "workflow_run", too_big)
    assert reply.status_code == 413 and json.loads(reply.body)["error"]["code"] == "too_large"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"action": "completed"}',
                                  b'{"workflow_run": {"id": "x"}, "repository": {"full_name": "a/b", "id": 1}}'])
def test_signed_nonsense_is_a_400_and_changes_nothing(ci, body):
    reply = deliver(ci, "workflow_run", body)
    assert reply.status_code == 400, reply.body
    assert json.loads(reply.body)["error"]["code"] == "invalid_input"
    assert get(ci, "/api/repos")["repos"] == []


def _runs_of(ci, engine, count: int) -> None:
    base = json.loads(payload("workflow_run", "completed"))
    for i in range(count):
        run = base["workflow_run"]
        run.update(id=1000 + i, created_at=f"2020-10-05T16:{i:02d}:00Z", updated_at=f"2020-10-05T16:{i:02d}:30Z",
                   run_started_at=f"2020-10-05T16:{i:02d}:05Z",
                   head_branch="master" if i % 2 else "feature", conclusion="failure" if i % 3 == 0 else "success")
        assert deliver(ci, "workflow_run", json.dumps(base).encode()).status_code == 200


def test_runs_are_newest_first_paged_and_filtered(ci, engine):
    _runs_of(ci, engine, 7)
    first = get(ci, f"/api/repos/{REPO}?limit=3")
    assert [r["runId"] for r in first["runs"]] == [1006, 1005, 1004]
    rest = get(ci, f"/api/repos/{REPO}?limit=3&cursor={first['cursor']}")
    assert [r["runId"] for r in rest["runs"]] == [1003, 1002, 1001]
    main = get(ci, f"/api/repos/{REPO}?branch=master&limit=10")["runs"]
    assert [r["runId"] for r in main] == [1005, 1003, 1001]
    failed = get(ci, f"/api/repos/{REPO}?conclusion=failure&limit=10")["runs"]
    assert [r["runId"] for r in failed] == [1006, 1003, 1000]
    assert all(r["durationMs"] == 25_000 for r in failed)
    bad = ci.http.get(f"/api/repos/{REPO}?status=sideways")
    assert bad.status_code == 400 and json.loads(bad.body)["error"]["details"][0]["field"] == "status"
    assert ci.http.get("/api/repos/nobody/nothing").status_code == 404


def test_deploy_runs_are_listed_for_the_timeline(ci, engine):
    from chalicelib.ci import deploy_runs_between
    assert deliver(ci, "workflow_run", payload("workflow_run", "completed")).status_code == 200
    (deploy,) = deploy_runs_between(0, 9_999_999_999_999, 10)
    assert deploy["kind"] == "ci" and deploy["time"] == 1601915604000
    assert deploy["link"] == "https://github.com/octo-org/octo-repo/actions/runs/289782451"
    assert deploy["conclusion"] == "success" and "test" in deploy["title"]
    assert deploy_runs_between(0, 1601915603999, 10) == []


def test_ci_health_gives_failure_rate_and_durations_per_workflow(ci, engine):
    _runs_of(ci, engine, 6)
    from chalicelib.ci import repository
    from chalicelib.ci.console import workflow_health
    # The sample runs are from 2020: read the health as of then.
    (wf,) = workflow_health(repository(), 1601915604000 + 3_600_000, "UTC")
    seven = wf["windows"]["7d"]
    assert (seven["runs"], seven["failed"], seven["failureRate"]) == (6, 2, round(2 / 6, 4))
    assert seven["durationMedianS"] == 30.0 and seven["queueMedianS"] == 5.0
    assert wf["defaultBranch"]["7d"]["runs"] == 3 and wf["defaultBranch"]["7d"]["failed"] == 1
    assert get(ci, "/api/ci/health")["workflows"][0]["windows"]["7d"]["runs"] == 0  # today: nothing


def test_settings_are_each_users_own_and_validated(ci, issuer):
    viewer = {"authorization": f"Bearer {issuer.token('viewer')}"}
    operator = {"authorization": f"Bearer {issuer.token('operator')}"}
    mine = {"selectedRepos": [REPO], "pinnedRepos": [REPO], "theme": "dark", "autoRefreshS": 60,
            "notifications": {"onFailure": True, "onRecovery": True, "defaultBranchOnly": False}}
    reply = ci.http.put("/api/settings", headers={**viewer, "content-type": "application/json"}, body=json.dumps(mine))
    assert reply.status_code == 200, reply.body
    assert {k: v for k, v in get(ci, "/api/settings", viewer).items() if k != "version"} == mine
    assert get(ci, "/api/settings", operator)["theme"] == "system"  # another user: the defaults
    for bad in ({"theme": "purple"}, {"pinnedRepos": ["not a repo"]}, {"autoRefreshS": 7}, {"colour": "red"}):
        reply = ci.http.put("/api/settings", headers={**operator, "content-type": "application/json"},
                            body=json.dumps(bad))
        assert reply.status_code == 400, bad
    assert get(ci, "/api/settings", operator)["theme"] == "system"


def test_pinned_repositories_come_first(ci, issuer):
    other = json.loads(payload("workflow_run", "completed"))
    other["repository"].update(full_name="octo-org/other", id=5)
    other["workflow_run"].update(updated_at="2021-01-01T00:00:00Z")
    deliver(ci, "workflow_run", payload("workflow_run", "completed"))
    deliver(ci, "workflow_run", json.dumps(other).encode())
    assert [r["repo"] for r in get(ci, "/api/repos")["repos"]] == ["octo-org/other", REPO]
    ci.http.put("/api/settings", headers={"content-type": "application/json"}, body=json.dumps({"pinnedRepos": [REPO]}))
    repos = get(ci, "/api/repos")["repos"]
    assert [(r["repo"], r["pinned"]) for r in repos] == [(REPO, True), ("octo-org/other", False)]


def test_viewers_cannot_rerun_or_cancel(ci, issuer):
    deliver(ci, "workflow_run", payload("workflow_run", "completed"))
    viewer = {"authorization": f"Bearer {issuer.token('viewer')}"}
    for path in (f"/api/repos/{REPO}/runs/{RUN_ID}/rerun", f"/api/repos/{REPO}/runs/{RUN_ID}/cancel"):
        assert ci.http.post(path, headers=viewer).status_code == 403


CI_RULE = {"name": "main's CI failing", "kind": "threshold", "source": "ci", "repo": REPO, "workflow": "*",
           "measure": "failureRate", "window": "24h", "minRuns": 2, "op": ">", "value": 20,
           "severity": "HIGH", "for": "0s"}


def test_a_ci_failure_rate_rule_fires_from_the_health_roll_ups(ci, engine):
    from chalicelib.alerts import sources
    from chalicelib.alerts.models import parse_rule
    reply = ci.http.post("/api/alert-rules", headers={"content-type": "application/json"}, body=json.dumps(CI_RULE))
    assert reply.status_code == 201, reply.body
    for bad in ({"measure": "vibes"}, {"window": "90m"}, {"repo": "no slash"}):
        reply = ci.http.post("/api/alert-rules", headers={"content-type": "application/json"},
                             body=json.dumps({**CI_RULE, **bad}))
        assert reply.status_code == 400, bad
    _runs_of(ci, engine, 6)  # 2 of 6 failed, completed 2020-10-05 16:00-16:06 UTC
    rule = parse_rule(CI_RULE)
    (seen,) = sources(1601915604000 + 3_600_000).observe(rule)
    assert seen.labels == {"repo": REPO, "workflow": "test"} and seen.value == round(200 / 6, 2)
    (quiet,) = sources(1601915604000 + 3_600_000).observe(parse_rule({**CI_RULE, "minRuns": 7}))
    assert quiet.value is None  # fewer runs than minRuns: no judgement
    # The default branch's (master's) runs alone: 1, 3 and 5, of which 3 failed.
    (main,) = sources(1601915604000 + 3_600_000).observe(parse_rule({**CI_RULE, "branch": "default"}))
    assert main.value == round(100 / 3, 2) and main.detail["runs"] == 3


def _repository() -> dict:
    return json.loads(payload("workflow_run", "completed"))["repository"]


def test_check_suites_and_runs_are_kept_and_never_move_backwards(ci, engine):
    suite = {"action": "completed", "repository": _repository(), "check_suite": {
        "id": 118578147, "status": "completed", "conclusion": "success", "head_sha": "ec26c3e5",
        "updated_at": "2019-05-15T15:21:14Z", "app": {"name": "GitHub Actions"}}}
    assert json.loads(deliver(ci, "check_suite", json.dumps(suite).encode()).body)["result"] == "stored"
    earlier = json.loads(json.dumps(suite))
    earlier["check_suite"].update(status="in_progress", conclusion=None, updated_at="2019-05-15T15:20:00Z")
    assert json.loads(deliver(ci, "check_suite", json.dumps(earlier).encode()).body)["result"] == "stale"
    check_run = {"action": "created", "repository": _repository(), "check_run": {
        "id": 128620228, "name": "Octocoders-linter", "status": "queued", "conclusion": None, "head_sha": "ec26c3e5",
        "started_at": "2019-05-15T15:21:12Z", "check_suite": {"id": 118578147}}}
    assert json.loads(deliver(ci, "check_run", json.dumps(check_run).encode()).body)["result"] == "stored"
    stored = engine.get("ci_runs", f"check#{REPO}", "check_suite#118578147")
    assert (stored["status"], stored["conclusion"], stored["name"]) == ("completed", "success", "GitHub Actions")
    assert engine.get("ci_runs", f"check#{REPO}", "check_run#128620228")["suiteId"] == 118578147


def test_a_push_is_the_repositorys_last_push(ci):
    push = {"ref": "refs/heads/master", "after": "a" * 40, "pusher": {"name": "Codertocat"}, "repository": _repository()}
    assert json.loads(deliver(ci, "push", json.dumps(push).encode()).body)["result"] == "stored"
    (repo,) = get(ci, "/api/repos")["repos"]
    assert (repo["lastPush"]["ref"], repo["lastPush"]["sha"], repo["status"]) == ("refs/heads/master", "a" * 40, "unknown")


def test_racing_deliveries_of_one_run_count_its_completion_once(engine):
    """Eight deliveries of the same run at once, each with its own delivery id (GitHub's
    redeliveries get new ones): versioned writes make all but one of the completions stale."""
    import threading

    from chalicelib.ci.intake import Intake
    from chalicelib.ci.repository import CiRepository
    from chalicelib.ci.settings import CiSettings
    intake = Intake(CiRepository(engine, 30 * 86_400_000), CiSettings(), "UTC", lambda: __import__("time").time_ns() // 1_000_000)
    body = json.loads(payload("workflow_run", "completed"))
    results: list[str] = []
    start = threading.Barrier(8)

    def send(i: int) -> None:
        start.wait()
        results.append(intake.receive("workflow_run", f"race-{i}", body)[1]["result"])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["stale"] * 7 + ["stored"]
    assert counted(engine) == {f"{REPO}#test": 1}


def test_a_deploy_run_is_on_the_timeline_and_on_the_incident_it_preceded(ci, engine):
    # Given a deploy run that started ten minutes ago
    import time
    from datetime import UTC, datetime
    now = int(time.time() * 1000)
    at = datetime.fromtimestamp((now - 600_000) // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = with_changes(payload("workflow_run", "completed"), "workflow_run",
                        created_at=at, updated_at=at, run_started_at=at)
    assert deliver(ci, "workflow_run", body).status_code == 200
    # Then the one timeline lists it, linked to the run in the CI console
    (entry,) = get(ci, f"/api/timeline?since={now - 3_600_000}&kinds=ci")["entries"]
    assert entry["kind"] == "ci" and entry["status"] == "success"
    assert entry["link"] == f"#/ci?repo={REPO}&run={RUN_ID}"
    # When an incident is declared now, the deploy is what changed in the hour before it
    reply = ci.http.post("/api/incidents", headers={"content-type": "application/json"},
                         body=json.dumps({"title": "Checkout down", "severity": "HIGH", "service": "checkout"}))
    assert reply.status_code == 201, reply.body
    before = get(ci, f"/api/incidents/{json.loads(reply.body)['id']}/before")
    assert [(e["kind"], e["id"]) for e in before["entries"]] == [("ci", entry["id"])]
