"""What an ``insight`` rule observes: one series per insight, 1 while open and 0 once closed,
filtered by the rule's type and host; read once per evaluation and minimum severity."""
from chalicelib.alerts.models import parse_rule
from chalicelib.alerts.sources import INSIGHT_LOOKBACK_MS, Sources

NOW = 1_764_000_000_000
INSIGHTS = [
    {"id": "i3", "type": "pattern", "severity": "CRITICAL", "message": "cpu up on 3 hosts",
     "affectedHosts": ["a", "b", "c"], "metric": "cpu.percent", "endsAt": None},
    {"id": "i2", "type": "anomaly", "severity": "HIGH", "message": "cpu rose to 95",
     "affectedHosts": ["web-1"], "host": "web-1", "metric": "cpu.percent", "endsAt": None},
    {"id": "i1", "type": "prediction", "severity": "HIGH", "message": "disk full in 6-9 h",
     "affectedHosts": ["db-1"], "host": "db-1", "metric": "disk.root.used_percent", "endsAt": NOW - 5},
]


def sources(calls):
    def insights(severity, since):
        calls.append((severity, since))
        return INSIGHTS
    return Sources(NOW, "UTC", "USD", hosts=lambda at: [], kpis=lambda *a: {}, probes=lambda: [],
                   insights=insights)


def rule(**kw):
    return parse_rule({"name": "insights", "kind": "insight", "severity": "HIGH", **kw})


def test_each_insight_is_a_series_open_is_1_closed_is_0():
    calls = []
    seen = sources(calls).observe(rule())
    assert [(o.labels["insight"], o.value) for o in seen] == [("i3", 1), ("i2", 1), ("i1", 0)]
    assert seen[0].labels["host"] == "a,b,c" and "[CRITICAL] cpu up" in seen[0].detail["message"]
    assert calls == [("HIGH", NOW - INSIGHT_LOOKBACK_MS)]


def test_a_rule_narrows_by_type_and_host():
    assert [o.labels["insight"] for o in sources([]).observe(rule(insightType="prediction"))] == ["i1"]
    assert [o.labels["insight"] for o in sources([]).observe(rule(host="b"))] == ["i3"]


def test_rules_of_one_minimum_severity_share_one_read():
    calls = []
    s = sources(calls)
    s.observe(rule())
    s.observe(rule(host="web-1"))
    s.observe(rule(minSeverity="CRITICAL"))
    assert [c[0] for c in calls] == ["HIGH", "CRITICAL"]


def test_a_forecast_aims_at_the_most_specific_enabled_metric_rule():
    from chalicelib.alerts.rules import threshold_for
    rules = [parse_rule({"name": "any cpu", "kind": "threshold", "source": "metric", "host": "*",
                         "metric": "cpu.percent", "op": ">", "value": 90, "severity": "HIGH"}),
             parse_rule({"name": "web-1 cpu", "kind": "threshold", "source": "metric", "host": "web-1",
                         "metric": "cpu.*", "op": ">", "value": 75, "severity": "HIGH"}),
             parse_rule({"name": "off", "kind": "threshold", "source": "metric", "host": "db-1",
                         "metric": "cpu.percent", "op": ">", "value": 50, "severity": "HIGH",
                         "enabled": False}),
             parse_rule({"name": "silent", "kind": "absence", "host": "*", "intervals": 3,
                         "severity": "LOW"})]
    assert threshold_for(rules, "web-1", "cpu.percent") == 75  # a named host wins
    assert threshold_for(rules, "db-1", "cpu.percent") == 90  # a disabled rule sets nothing
    assert threshold_for(rules, "db-1", "mem.used_percent") is None
