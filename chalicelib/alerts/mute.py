"""Mute windows and silences: when a notification is held back. Pure: no storage, no clock.

A mute window is wall-clock time in the team's zone, so it is judged on the local time of the
instant: over a daylight-saving change "22:00-06:00" still starts at 22:00 and ends at 06:00 on
the clock (the night is an hour shorter or longer), and a window inside the skipped spring hour
mutes nothing that day, because no instant has that local time.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from .models import WEEKDAYS, Matcher, MuteWindow


def in_mute_window(window: MuteWindow, at_ms: int, tz: str) -> bool:
    local = datetime.fromtimestamp(at_ms / 1000, ZoneInfo(tz))
    minute = local.hour * 60 + local.minute
    today = WEEKDAYS[local.weekday()]
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    start, end = window.start_minute, window.end_minute
    if start < end:
        return today in window.weekdays and start <= minute < end
    # Past midnight: the evening part belongs to today's window, the morning part to the one
    # that started yesterday.
    return (today in window.weekdays and minute >= start) or (
        yesterday in window.weekdays and minute < end)


def muted(windows: Iterable[MuteWindow], at_ms: int, tz: str) -> bool:
    return any(in_mute_window(w, at_ms, tz) for w in windows)


def matches(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """All matchers hold on ``labels`` (a missing label is the empty string, as in
    Alertmanager, so ``host!=web-1`` matches an alert without a host)."""
    for m in matchers:
        value = labels.get(m.name, "")
        if m.op == "=":
            ok = value == m.value
        elif m.op == "!=":
            ok = value != m.value
        else:
            ok = re.fullmatch(m.value, value) is not None
            ok = ok if m.op == "=~" else not ok
        if not ok:
            return False
    return True
