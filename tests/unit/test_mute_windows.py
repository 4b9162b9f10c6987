"""Mute windows are wall-clock time in the team's zone: across midnight and across
daylight-saving changes, in a zone that is not UTC."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from chalicelib.alerts.models import Matcher, MuteWindow
from chalicelib.alerts.mute import in_mute_window, matches

BERLIN = "Europe/Berlin"


def at(text: str, tz: str = BERLIN, fold: int = 0) -> int:
    """Epoch ms of a local wall-clock time, e.g. at("2026-03-28 23:00")."""
    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz), fold=fold)
    return int(local.timestamp() * 1000)


def muted_minutes(window: MuteWindow, start_utc: str, hours: int, tz: str = BERLIN) -> int:
    begin = datetime.fromisoformat(start_utc).replace(tzinfo=timezone.utc)
    return sum(in_mute_window(window, int((begin + timedelta(minutes=m)).timestamp() * 1000), tz)
               for m in range(hours * 60))


NIGHTS = MuteWindow(weekdays=["sat"], start="22:00", end="06:00")


def test_a_window_past_midnight_belongs_to_the_day_it_starts_on():
    assert in_mute_window(NIGHTS, at("2026-06-13 23:30"), BERLIN)  # Saturday night
    assert in_mute_window(NIGHTS, at("2026-06-14 05:59"), BERLIN)  # Sunday early morning
    assert not in_mute_window(NIGHTS, at("2026-06-14 06:00"), BERLIN)
    assert not in_mute_window(NIGHTS, at("2026-06-13 05:00"), BERLIN)  # Saturday morning: Friday's night
    assert not in_mute_window(NIGHTS, at("2026-06-14 23:30"), BERLIN)  # Sunday evening


def test_the_night_the_clocks_go_forward_the_window_keeps_its_wall_clock_times_and_lasts_7_hours():
    # 2026-03-29 02:00 CET becomes 03:00 CEST in Berlin.
    assert in_mute_window(NIGHTS, at("2026-03-28 22:00"), BERLIN)
    assert in_mute_window(NIGHTS, at("2026-03-29 05:59"), BERLIN)
    assert not in_mute_window(NIGHTS, at("2026-03-29 06:00"), BERLIN)
    assert muted_minutes(NIGHTS, "2026-03-28T18:00", 12) == 7 * 60


def test_the_night_the_clocks_go_back_the_window_lasts_9_hours_and_mutes_the_repeated_hour_twice():
    # 2026-10-25 03:00 CEST becomes 02:00 CET: 02:00-03:00 happens twice.
    window = MuteWindow(weekdays=["sat"], start="22:00", end="06:00")
    assert muted_minutes(window, "2026-10-24T18:00", 14) == 9 * 60
    assert in_mute_window(window, at("2026-10-25 02:30", fold=0), BERLIN)
    assert in_mute_window(window, at("2026-10-25 02:30", fold=1), BERLIN)
    assert at("2026-10-25 02:30", fold=1) - at("2026-10-25 02:30", fold=0) == 3_600_000


def test_a_window_inside_the_skipped_hour_mutes_nothing_that_day():
    skipped = MuteWindow(weekdays=["sun"], start="02:00", end="03:00")
    assert muted_minutes(skipped, "2026-03-28T22:00", 8) == 0
    assert muted_minutes(skipped, "2026-04-04T22:00", 8) == 60  # a week later: an ordinary hour


def test_the_same_window_in_new_york_follows_new_york_s_own_change_date():
    # 2026-03-08 02:00 EST becomes 03:00 EDT in New York (three weeks before Berlin).
    window = MuteWindow(weekdays=["sat"], start="22:00", end="06:00")
    assert muted_minutes(window, "2026-03-07T22:00", 14, "America/New_York") == 7 * 60
    assert muted_minutes(window, "2026-03-07T18:00", 14, BERLIN) == 8 * 60


def test_a_whole_day_window_and_every_weekday_by_default():
    all_day = MuteWindow(start="00:00", end="24:00")
    assert all(in_mute_window(all_day, at(f"2026-06-{d:02d} {h:02d}:00"), BERLIN)
               for d in range(8, 15) for h in (0, 12, 23))


def test_working_hours_only_on_weekdays():
    office = MuteWindow(weekdays=["mon", "tue", "wed", "thu", "fri"], start="09:00", end="17:00")
    assert in_mute_window(office, at("2026-06-12 09:00"), BERLIN)  # Friday
    assert not in_mute_window(office, at("2026-06-12 17:00"), BERLIN)
    assert not in_mute_window(office, at("2026-06-13 10:00"), BERLIN)  # Saturday


def test_label_matchers_follow_alertmanager():
    labels = {"host": "web-1", "severity": "HIGH", "alertname": "CPU hot"}
    assert matches([Matcher(name="host", value="web-1")], labels)
    assert matches([Matcher(name="host", value="web-.*", op="=~"), Matcher(name="severity", value="LOW", op="!=")], labels)
    assert not matches([Matcher(name="host", value="web", op="=~")], labels)  # the whole value
    assert matches([Matcher(name="team", value="", op="=")], labels)  # absent is ""
    assert not matches([Matcher(name="alertname", value="CPU.*", op="!~")], labels)
