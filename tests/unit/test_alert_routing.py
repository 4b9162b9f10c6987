"""Who is told what: grouping, repeat interval, acknowledgements, silences, mute windows."""
from chalicelib.alerts.models import Matcher, MuteWindow
from chalicelib.alerts.routing import ActiveSilence, AlertStatus, ChannelRoute, plan_notification

H = 3_600_000
REPEAT = 4 * H
SLACK, MAIL = ChannelRoute("slack"), ChannelRoute("mail")
NOON = 1_781_179_200_000  # 2026-06-11 12:00 UTC, a Thursday


def firing(alert_id: str, host: str = "web-1", **told) -> AlertStatus:
    return AlertStatus(alert_id, "firing", {"host": host, "alertname": "CPU hot", "severity": "HIGH"}, **told)


def plan(alerts, now=NOON, channels=(SLACK, MAIL), rule_channels=None, rule_mute=(), silences=()):
    return plan_notification(alerts, rule_channels=rule_channels, rule_mute=list(rule_mute),
                             channels=list(channels), silences=list(silences), repeat_ms=REPEAT,
                             now=now, tz="UTC")


def test_alerts_of_one_rule_firing_in_one_evaluation_go_out_as_one_notification():
    p = plan([firing("a1", "web-1"), firing("a2", "web-2"), AlertStatus("a3", "pending", {})])
    assert p.firing == ["a1", "a2"] and p.resolved == [] and p.channels == ["slack", "mail"]


def test_a_firing_alert_already_told_is_told_again_only_after_the_repeat_interval():
    told = {"notified": "firing", "last_notified_at": NOON - REPEAT + 60_000}
    assert plan([firing("a1", **told)]).empty
    assert plan([firing("a1", **told)], now=NOON + 60_000).firing == ["a1"]


def test_an_acknowledged_alert_is_not_repeated_until_its_acknowledgement_expires():
    told = {"notified": "firing", "last_notified_at": NOON - 10 * H}
    assert plan([firing("a1", acked=True, **told)]).empty
    lapsing = firing("a1", acked=True, ack_expires_at=NOON + H, **told)
    assert plan([lapsing]).empty
    assert plan([lapsing], now=NOON + H).firing == ["a1"]


def test_a_resolved_alert_is_told_once_and_only_if_its_firing_was_told():
    told = AlertStatus("a1", "resolved", {}, notified="firing", last_notified_at=NOON - H)
    assert plan([told]).resolved == ["a1"]
    never_told = AlertStatus("a2", "resolved", {}, notified=None)
    assert plan([never_told]).empty
    acked = AlertStatus("a3", "resolved", {}, notified="firing", acked=True)
    assert plan([acked]).resolved == ["a3"]  # an acknowledgement holds back repeats, not the end


def test_a_silenced_alert_is_not_told_but_the_others_are():
    silence = ActiveSilence("s1", [Matcher(name="host", value="web-1")], NOON - H, NOON + H)
    p = plan([firing("a1", "web-1"), firing("a2", "web-2")], silences=[silence])
    assert p.firing == ["a2"]
    over = ActiveSilence("s1", [Matcher(name="host", value="web-1")], NOON - 2 * H, NOON)
    assert plan([firing("a1", "web-1")], silences=[over]).firing == ["a1"]


def test_a_rule_in_its_mute_window_tells_nothing_and_tells_it_when_the_window_ends():
    lunch = MuteWindow(start="12:00", end="13:00")
    assert plan([firing("a1")], rule_mute=[lunch]).empty
    assert plan([firing("a1")], now=NOON + H, rule_mute=[lunch]).firing == ["a1"]


def test_a_channel_in_its_mute_window_is_left_out_and_with_every_channel_muted_nothing_is_told():
    night_mail = ChannelRoute("mail", [MuteWindow(start="11:00", end="14:00")])
    assert plan([firing("a1")], channels=[SLACK, night_mail]).channels == ["slack"]
    held = plan([firing("a1")], channels=[night_mail])
    assert held.empty and held.firing == []


def test_a_rule_with_channels_notifies_only_those():
    assert plan([firing("a1")], rule_channels=["mail"]).channels == ["mail"]
    assert plan([firing("a1")], channels=[], rule_channels=None).empty
