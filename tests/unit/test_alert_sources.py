"""What rules see: complete KPI windows and their compared periods, the minimum-volume guard,
host metrics with patterns, silent hosts, probes; each source read once per evaluation."""
from chalicelib.alerts.models import parse_rule
from chalicelib.alerts.sources import Sources, kpi_windows

MIN, H = 60_000, 3_600_000
NOW = 1_781_179_200_000 + 17 * MIN + 5_000  # 2026-06-11 12:17:05 UTC
HOUR = NOW - NOW % H  # 12:00


def rule(**fields):
    body = {"name": "r", "kind": "change", "source": "kpi", "kpi": "revenue", "window": "1h",
            "compare": "yesterday", "op": "<", "percent": -20, "severity": "HIGH"}
    return parse_rule({**body, **fields})


def test_an_hour_window_is_the_last_complete_local_hour_and_compares_with_the_same_hours_before():
    assert kpi_windows(rule(), "yesterday", NOW, "UTC") == ("h", (HOUR - H, HOUR - H), (HOUR - 25 * H, HOUR - 25 * H))
    assert kpi_windows(rule(window="3h"), "previous_period", NOW, "UTC")[1:] == (
        (HOUR - 3 * H, HOUR - H), (HOUR - 6 * H, HOUR - 4 * H))
    assert kpi_windows(rule(), "same_hour_last_week", NOW, "UTC")[2] == (HOUR - 169 * H,) * 2


def test_a_window_under_an_hour_is_whole_minutes_before_this_minute():
    minute = NOW - NOW % MIN
    granularity, current, compared = kpi_windows(rule(window="15m", compare="previous_period"),
                                                 "previous_period", NOW, "UTC")
    assert granularity == "m" and current == (minute - 15 * MIN, minute - MIN)
    assert compared == (minute - 30 * MIN, minute - 16 * MIN)


def test_a_day_window_is_the_team_s_yesterday():
    granularity, current, compared = kpi_windows(rule(window="1d"), "yesterday", NOW, "Asia/Tokyo")
    # 12:17 UTC is 21:17 in Tokyo on the 11th: yesterday is the 10th, from 15:00 UTC on the 9th.
    assert granularity == "d" and current == (1_781_017_200_000,) * 2
    assert compared == (1_781_017_200_000 - 24 * H,) * 2


def sources(kpis=None, hosts=(), probes=()):
    calls = []

    def read_kpis(granularity, first, last):
        calls.append(("kpi", granularity, first, last))
        return {"revenue": 0, "orders": 0, "aov": 0, "conversion": 0.0, "sessions": 0, "dau": 0,
                **(kpis or {}).get((first, last), {})}

    def read_hosts(now):
        calls.append(("hosts", now))
        return list(hosts)

    return Sources(NOW, "UTC", "EUR", hosts=read_hosts, kpis=read_kpis, probes=lambda: list(probes)), calls


def test_a_change_is_the_percentage_against_the_compared_period():
    current, before = (HOUR - H, HOUR - H), (HOUR - 25 * H, HOUR - 25 * H)
    s, _ = sources({current: {"revenue": 6_000, "orders": 12}, before: {"revenue": 10_000, "orders": 20}})
    [seen] = s.observe(rule(minVolume=10))
    assert seen.value == -40.0 and seen.labels == {"kpi": "revenue"}
    assert seen.detail["current"] == 6_000 and seen.detail["previous"] == 10_000


def test_a_quiet_night_below_the_minimum_volume_gives_no_reading_not_a_drop():
    current, before = (HOUR - H, HOUR - H), (HOUR - 25 * H, HOUR - 25 * H)
    s, _ = sources({current: {"revenue": 500, "orders": 1}, before: {"revenue": 3_000, "orders": 4}})
    [seen] = s.observe(rule(minVolume=10))
    assert seen.value is None and "minimum volume" in seen.detail["reason"]


def test_host_metrics_each_host_and_each_matching_metric_its_own_series():
    hosts = [{"host": "web-1", "kind": "vm", "status": "online", "lastSeen": NOW, "intervalMs": 10_000,
              "values": {"disk.root.used_percent": 95.0, "disk.var.used_percent": 40.0, "cpu.percent": 3.0}},
             {"host": "db-1", "kind": "vm", "status": "offline", "lastSeen": NOW - 20 * MIN, "intervalMs": 10_000,
              "values": {"disk.root.used_percent": 99.0}}]
    s, calls = sources(hosts=hosts)
    disk = parse_rule({"name": "d", "kind": "threshold", "source": "metric", "metric": "disk.*.used_percent",
                       "op": ">", "value": 90, "severity": "HIGH"})
    seen = {(o.labels["host"], o.labels["metric"]): o.value for o in s.observe(disk)}
    assert seen == {("web-1", "disk.root.used_percent"): 95.0, ("web-1", "disk.var.used_percent"): 40.0,
                    ("db-1", "disk.root.used_percent"): None}  # a silent host's value is no data
    silent = parse_rule({"name": "s", "kind": "absence", "intervals": 30, "severity": "CRITICAL"})
    missed = {o.labels["host"]: o.value for o in s.observe(silent)}
    assert missed == {"web-1": 0, "db-1": 120}
    assert [c for c in calls if c[0] == "hosts"] == [("hosts", NOW)]  # one read for every rule


def test_probes_are_up_down_or_no_data_when_their_result_is_old():
    probes = [{"name": "payments", "status": "down", "checkedAt": NOW - MIN, "httpStatus": 503},
              {"name": "cdn", "status": "ok", "checkedAt": NOW - MIN},
              {"name": "old", "status": "ok", "checkedAt": NOW - H}]
    s, _ = sources(probes=probes)
    seen = {o.labels["probe"]: o.value for o in s.observe(parse_rule({"name": "p", "kind": "probe", "severity": "HIGH"}))}
    assert seen == {"payments": 1, "cdn": 0, "old": None}
