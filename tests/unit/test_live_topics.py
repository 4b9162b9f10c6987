"""Which stored changes touch which topics, and who may read each topic (pure)."""
import pytest

from chalicelib.auth.roles import Role
from chalicelib.live.push import StoredChange, changed_topics
from chalicelib.live.topics import TABLE_TOPICS, TOPICS, UnknownTopic, readable, topic_of, topics_of_change
from chalicelib.storage.tables import TABLES


def test_a_business_event_touches_the_kpis():
    assert topics_of_change("events", {"pk": "purchase#o-1", "sk": "e"}, {}, None) == {"kpis"}


def test_a_raw_sample_touches_the_host_list_and_that_host_and_roll_ups_touch_nothing():
    assert topics_of_change("metrics", {"pk": "raw#db-1", "sk": "0000000000001#vm"}, {}, None) == {"hosts", "host:db-1"}
    assert topics_of_change("metrics", {"pk": "m#db-1#vm", "sk": "x"}, {}, None) == set()


def test_alert_items_touch_alerts_but_evaluation_marks_and_the_outbox_do_not():
    assert topics_of_change("alerts", {"pk": "alert", "sk": "a-1"}, {}, None) == {"alerts"}
    assert topics_of_change("alerts", {"pk": "evaluated", "sk": "r-1"}, {}, None) == set()
    assert topics_of_change("alerts", {"pk": "outbox", "sk": "n-1"}, {}, None) == set()


def test_a_table_nobody_pushes_touches_nothing():
    assert topics_of_change("auth", {"pk": "key", "sk": "k-1"}, {}, None) == set()


def test_a_batch_is_coalesced_into_one_topic_each():
    batch = [StoredChange("events", {"pk": f"purchase#o-{i}", "sk": "e"}) for i in range(50)]
    batch += [StoredChange("metrics", {"pk": "raw#web-1", "sk": "1#vm"})] * 3
    assert changed_topics(batch) == ["host:web-1", "hosts", "kpis"]


def test_a_viewer_never_reads_an_admin_only_topic():
    assert not readable("notifications", Role.VIEWER)
    assert not readable("notifications", Role.OPERATOR)
    assert readable("notifications", Role.ADMIN)
    assert readable("kpis", Role.VIEWER) and not readable("kpis", None)


@pytest.mark.parametrize("name", ["", "host", "host:", "host:a b", "host:-x", "kpis:x", "secrets", "host:" + "x" * 200])
def test_unknown_topics_are_refused(name):
    with pytest.raises(UnknownTopic):
        topic_of(name)
    assert not readable(name, Role.ADMIN)


def test_every_pushed_table_streams():
    assert all(TABLES[t].stream for t in TABLE_TOPICS)


def test_each_topic_needs_the_role_its_read_declares():
    from chalicelib.auth.access import rule_of
    from app import app
    for topic in TOPICS.values():
        entry = app.routes[topic.path]["GET"]
        assert rule_of(entry.view_function).role == topic.role, topic.name


def test_a_host_named_as_the_metrics_feature_allows_has_its_topic():
    assert topic_of("host:i-0abc:eu-west-1").name == "host"
    assert topics_of_change("metrics", {"pk": "raw#i-0abc:eu-west-1", "sk": "1#vm"}, {}, None) == {
        "hosts", "host:i-0abc:eu-west-1"}


def test_incident_and_ci_run_changes_reach_their_topics():
    assert topics_of_change("incidents", {"pk": "incident", "sk": "x"}, {}, None) == {"incidents"}
    assert topics_of_change("ci_runs", {"pk": "run#octo/app", "sk": "1"}, {}, None) == {"ci"}
