"""Alerting's storage gives the same answers on SQLite and on DynamoDB (Local): open alerts
closed and reopened, concurrent evaluations, the listing by state, delivery claims, the outbox.
And evaluation's store requests grow with rules and series, never with the data stored."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.alerts.repository import AlertsRepository, OpenAlert, SeriesWrite
from chalicelib.storage import VersionConflict

DAY = 86_400_000
NOW = int(time.time() * 1000)  # items expire by the real clock: a month of history from now


def opened(alert_id: str, fp: str = "fp1", state: str = "firing") -> OpenAlert:
    return OpenAlert(fp, {"host": "web-1"}, alert_id, state, NOW, NOW, NOW, 95.0)


def listed(alert_id: str, state: str, ends_at=None) -> dict:
    return {"id": alert_id, "ruleId": "r1", "fingerprint": "fp1", "name": "CPU hot", "labels": {"host": "web-1"},
            "state": state, "severity": "HIGH", "type": "error", "category": "system", "message": "m",
            "value": 95.0, "startsAt": NOW, "endsAt": ends_at}


def test_an_open_alert_closes_and_the_same_series_opens_a_new_one(store):
    repo = AlertsRepository(store, 30 * DAY)
    assert repo.write_series([SeriesWrite("r1", opened("a1"), "fp1", None, listed("a1", "firing"))]) == ["fp1"]
    [current] = repo.open_alerts("r1").values()
    assert current.alert_id == "a1" and current.version == 1
    close = SeriesWrite("r1", None, "fp1", current.version, listed("a1", "resolved", NOW + 60_000), close=True)
    assert repo.write_series([close]) == ["fp1"]
    assert repo.open_alerts("r1") == {} and repo.open_alert("r1", "fp1") is None
    assert repo.write_series([SeriesWrite("r1", opened("a2"), "fp1", None, listed("a2", "firing"))]) == ["fp1"]
    assert repo.open_alert("r1", "fp1").alert_id == "a2"
    assert [a["id"] for a in repo.list_alerts("all", 10, None).items] == ["a2", "a1"]
    assert [a["id"] for a in repo.list_alerts("firing", 10, None).items] == ["a2"]
    assert [a["id"] for a in repo.list_alerts("resolved", 10, None).items] == ["a1"]


def test_of_two_evaluations_writing_the_same_series_one_wins_and_the_other_skips_it(store):
    repo = AlertsRepository(store, 30 * DAY)
    repo.write_series([SeriesWrite("r1", opened("a1"), "fp1", None, listed("a1", "firing"))])
    first = SeriesWrite("r1", None, "fp1", 1, listed("a1", "resolved", NOW), close=True)
    stale = SeriesWrite("r1", opened("a1"), "fp1", 1, listed("a1", "firing"))
    other = SeriesWrite("r1", opened("b1", "fp2"), "fp2", None, listed("b1", "firing"))
    assert repo.write_series([first]) == ["fp1"]
    assert repo.write_series([stale, other]) == ["fp2"]  # the moved series is left alone
    assert repo.open_alert("r1", "fp1") is None


def test_a_delivery_is_claimed_once_and_a_dead_invocation_s_claim_is_taken_over(store):
    repo = AlertsRepository(store, 30 * DAY)
    assert repo.claim_delivery("n1", "c1", NOW, stale_ms=300_000)
    assert not repo.claim_delivery("n1", "c1", NOW + 1_000, stale_ms=300_000)  # a redelivery
    assert repo.claim_delivery("n1", "c1", NOW + 400_000, stale_ms=300_000)  # the first one died
    repo.finish_delivery("n1", "c1", {"id": "d1", "at": NOW + 401_000, "status": "delivered"})
    assert not repo.claim_delivery("n1", "c1", NOW + 900_000, stale_ms=300_000)  # done is done
    assert [d["id"] for d in repo.deliveries(10, None).items] == ["d1"]


def test_the_outbox_takes_each_notification_once(store):
    repo = AlertsRepository(store, 30 * DAY)
    assert repo.add_to_outbox("n1", {"createdAt": NOW, "x": 1})
    assert not repo.add_to_outbox("n1", {"createdAt": NOW, "x": 2})
    assert [i["message"]["x"] for i in repo.outbox()] == [1]
    repo.published("n1")
    assert repo.outbox() == []


def test_a_rule_changed_by_someone_else_meanwhile_is_a_conflict(store):
    repo = AlertsRepository(store, 30 * DAY)
    stored = repo.create_rule("r1", {"name": "a"}, "me", NOW)
    repo.replace_rule(stored, {"name": "b"}, "me", NOW + 1)
    with pytest.raises(VersionConflict):
        repo.replace_rule(stored, {"name": "c"}, "you", NOW + 2)


def test_evaluation_store_requests_grow_with_rules_and_series_not_with_data_stored(api):
    """The same rules and hosts, with a little and with much more history stored: the same
    number of store requests per evaluation."""
    from alerting_helpers import MIN, evaluate, minute_now, post, remove_default_rules, send_samples

    from chalicelib.storage import default_store
    store = default_store()
    remove_default_rules(api)
    for metric in ("load.1m", "cpu.percent", "mem.used_percent"):
        post(api, "/api/alert-rules", {"name": metric, "kind": "threshold", "source": "metric", "metric": metric,
                                       "op": ">", "value": 1000, "severity": "LOW"})
    hosts = {f"h{i}": {"load.1m": 1.0, "cpu.percent": 5.0, "mem.used_percent": 40.0} for i in range(5)}
    t0 = minute_now() - 200 * MIN

    def requests_for_one_evaluation(minute: int) -> int:
        send_samples(api, minute - 2_000, hosts)
        before = store.request_count
        evaluate(api, minute)
        return store.request_count - before

    little = requests_for_one_evaluation(t0 + 100 * MIN)
    history = [{"host": h, "kind": "vm", "timestamp": t0 + m * MIN + s, "values": v}
               for m in range(100, 199) for s in range(0, 60_000, 10_000) for h, v in hosts.items()]
    for i in range(0, len(history), 500):  # ~3,000 more samples for the same hosts
        reply = api.http.post("/api/metrics", headers={"content-type": "application/json"},
                              body=json.dumps(history[i:i + 500]))
        assert reply.status_code == 200
    much = requests_for_one_evaluation(t0 + 199 * MIN + 30_000)
    assert little == much
