"""Incidents: the filtered list must cost the same whatever is stored, and an alarm event a
handful of store requests. Never run as a test.

    .venv/bin/python -m benchmarks.incidents [--engine sqlite|dynamodb] [--sizes 100,5000]

Per size: that many incidents declared (half then resolved), then the median of 20 reads of
the first page (50) of ``status=open`` and of ``service=svc-2&severity=HIGH`` (a tenth of them, half of those HIGH) through
``workflow.list_incidents``, against the same store requests made straight on the bare
engine in the same run (a pointer-partition query and one batch get); and the median time and
store requests of an ALARM event for a new alarm and of its OK.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from benchmarks.run import engine_workdir, open_engine

SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
WHO = {"subject": "bench", "name": "Bench"}


class Counting:
    """The store, counting the requests made through it."""

    def __init__(self, store):
        self.store, self.requests = store, 0

    def __getattr__(self, name):
        attr = getattr(self.store, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.requests += 1
            return attr(*args, **kwargs)
        return counted


def fill(repo, n: int, now: int) -> None:
    from chalicelib.incidents.workflow import change_incident, declare_incident, etag
    for i in range(n):
        made = declare_incident(repo, {"title": f"bench {i}", "severity": SEVERITIES[i % 4],
                                       "service": f"svc-{i % 10}"}, WHO, now + i)
        if i % 2:
            change_incident(repo, made["id"], {"status": "resolved"}, etag(made), WHO, "operator", now + i)


def median_ms(run, times: int = 20) -> float:
    took = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        took.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(took), 3)


def alarm_event(name: str, state: str, at: str, event_id: str) -> dict:
    return {"version": "0", "id": event_id, "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
            "account": "123456789012", "time": at[:19] + "Z", "region": "us-east-1",
            "resources": [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"],
            "detail": {"alarmName": name, "state": {"value": state, "timestamp": at, "reason": "bench"},
                       "previousState": {"value": "OK" if state == "ALARM" else "ALARM"},
                       "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {
                           "namespace": "AWS/EC2", "name": "CPUUtilization"}}, "returnData": True}]}}}


def measure(engine: str, workdir, n: int) -> dict:
    from chalicelib.incidents.alarms import read_alarm_change
    from chalicelib.incidents.repository import IncidentsRepository
    from chalicelib.incidents.settings import IncidentSettings
    from chalicelib.incidents.workflow import apply_alarm_change, list_incidents
    store = open_engine(engine, workdir, f"incidents-{n}")
    counting = Counting(store)
    repo = IncidentsRepository(counting)  # no channel notices: the list and the handler alone
    now = int(time.time() * 1000) - n
    fill(repo, n, now)
    out = {"incidents": n}
    for label, params, facet in (("open", {"status": "open"}, "status#open"),
                                 ("service+severity", {"service": "svc-2", "severity": "HIGH"}, "service#svc-2")):
        counting.requests = 0
        page = list_incidents(repo, params)
        out[f"{label} requests"] = counting.requests
        out[f"{label} items"] = len(page["incidents"])
        out[f"{label} ms"] = median_ms(lambda: list_incidents(repo, params))

        def bare():
            ids = [p["sk"] for p in store.query("incidents", facet, limit=50).items]
            store.get_many("incidents", [("incident", i) for i in ids])
        out[f"{label} bare ms"] = median_ms(bare)
    settings = IncidentSettings()
    alarm_ms, ok_ms, requests = [], [], []
    for i in range(20):
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 600))
        for state, into, offset in (("ALARM", alarm_ms, ".000+0000"), ("OK", ok_ms, ".500+0000")):
            change = read_alarm_change(alarm_event(f"bench-{i}", state, at + offset, f"e-{i}-{state}"))
            counting.requests = 0
            started = time.perf_counter()
            apply_alarm_change(repo, change, settings, int(time.time() * 1000))
            into.append((time.perf_counter() - started) * 1000)
            requests.append(counting.requests)
    out["ALARM ms"] = round(statistics.median(alarm_ms), 3)
    out["OK ms"] = round(statistics.median(ok_ms), 3)
    out["event requests"] = f"{min(requests)}-{max(requests)}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=("sqlite", "dynamodb"), default="sqlite")
    parser.add_argument("--sizes", default="100,5000")
    args = parser.parse_args(argv)
    with engine_workdir(args.engine) as workdir:
        for n in (int(s) for s in args.sizes.split(",")):
            print(json.dumps(measure(args.engine, workdir, n)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
