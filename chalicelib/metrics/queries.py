"""Metric reads: the host list and series at the finest resolution that gives at most ~1,000
points. Each (host) costs one range query; nothing scans."""
from __future__ import annotations

import re
from typing import Any, Sequence

from ..errors import InvalidInput
from ..field_types import MAX_EPOCH_MS
from .models import HOST_KINDS, HOST_NAME, METRIC_NAME
from .repository import MetricsRepository
from .series import MAX_EXPLICIT_POINTS, RAW_MS, choose_step, host_status, parse_list, series

MAX_SERIES = 20
_DIGITS = re.compile(r"[0-9]{1,16}")


def hosts(repo: MetricsRepository, now_ms: int, tz: str) -> dict[str, Any]:
    rows = [{"host": h.host, "kind": h.kind, "lastSeen": h.last_seen, "intervalMs": h.interval,
             "status": host_status(h.last_seen, h.interval, now_ms), "values": h.values,
             "meta": h.meta} for h in repo.hosts()]
    return {"timezone": tz, "hosts": sorted(rows, key=lambda r: (r["kind"], r["host"]))}


def _ms(name: str, raw: str | None, default: int, low: int = 0, high: int = MAX_EPOCH_MS) -> int:
    """A whole number of milliseconds from ``low`` to ``high``, written in at most 16 ASCII
    digits (so no input can make the arithmetic below overflow or allocate without bound)."""
    if raw is None or raw == "":
        return default
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidInput(f"{name} must be a whole number of milliseconds from {low} to {high}",
                           [{"field": name, "message": f"got {_shown(raw)}"}])
    return int(raw)


def _shown(raw: str) -> str:
    return repr(raw) if len(raw) <= 40 else repr(raw[:40]) + f"… ({len(raw)} characters)"


def _check_names(field: str, names: Sequence[str], pattern: str, what: str) -> None:
    """Names that no sample can carry are a mistake to report, not a series to look for."""
    bad = [n for n in names if len(n) > 128 or not re.fullmatch(pattern, n)]
    if bad:
        raise InvalidInput(f"each {field} must be {what}",
                           [{"field": field, "message": f"got {_shown(n)}"} for n in bad])


def metric_series(repo: MetricsRepository, params: dict[str, str], now_ms: int, tz: str) -> dict[str, Any]:
    host_names, metric_names = parse_list(params.get("host")), parse_list(params.get("metric"))
    if not host_names or not metric_names:
        raise InvalidInput("name at least one host and one metric, e.g. ?host=web-1&metric=cpu.percent",
                           [{"field": f, "message": "required"} for f, v in
                            (("host", host_names), ("metric", metric_names)) if not v])
    if len(host_names) * len(metric_names) > MAX_SERIES:
        raise InvalidInput(f"at most {MAX_SERIES} host × metric series in one call")
    _check_names("host", host_names, HOST_NAME, "a host name (letters, digits, . _ : -)")
    _check_names("metric", metric_names, METRIC_NAME, "a metric name such as cpu.percent")
    kind = params.get("kind")
    if kind is not None and kind not in HOST_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(HOST_KINDS)}",
                           [{"field": "kind", "message": f"got {_shown(kind)}"}])
    to_ms = _ms("to", params.get("to"), now_ms)
    from_ms = _ms("from", params.get("from"), to_ms - 3_600_000)
    if from_ms >= to_ms:
        raise InvalidInput("from must be before to", [{"field": "from", "message": "not before to"}])
    step_raw = params.get("step")
    step = None
    if step_raw is not None:
        step = _ms("step", step_raw, 0, RAW_MS, MAX_EPOCH_MS)
        if step % RAW_MS:
            raise InvalidInput("step is milliseconds, a multiple of 10000 (10 s)",
                               [{"field": "step", "message": f"got {_shown(step_raw)}"}])
        if (to_ms - from_ms) / step > MAX_EXPLICIT_POINTS:
            raise InvalidInput(f"that step gives more than {MAX_EXPLICIT_POINTS} points; use a larger one",
                               [{"field": "step", "message": "too small for the range"}])
    resolution, length, step_ms = choose_step(from_ms, to_ms, step)
    # A roll-up bucket that starts before ``from`` still covers it: read from its start.
    read_from = from_ms - from_ms % max(length, step_ms)
    out = []
    for host in host_names:
        per_metric: dict[str, list] = {m: [] for m in metric_names}
        for ts, point_kind, stats in repo.points(resolution, host, read_from, to_ms, metric_names):
            if kind and point_kind != kind:
                continue
            for metric in metric_names:
                if metric in stats:
                    per_metric[metric].append((ts, stats[metric]))
        for metric in metric_names:
            out.append({"host": host, "metric": metric,
                        **series(per_metric[metric], from_ms, to_ms, step_ms)})
    return {"from": from_ms, "to": to_ms, "resolution": resolution, "step": step_ms,
            "timezone": tz, "series": out}
