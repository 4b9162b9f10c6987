"""Mission Control collector agent.

Samples this machine (psutil) and the web apps it watches, and ships the
samples to Mission Control's HTTP API or to a Kinesis stream, buffering on
disk while the sink is unreachable. Metric names are documented in
docs/metrics.md and listed in :mod:`missionctl_agent.metric_names`.
"""

__version__ = "0.1.0"
