"""Stdout sink: one sample per line as compact JSON (JSON Lines), for
debugging and for piping into other tools (`missionctl-agent --once --stdout | jq`)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from missionctl_agent.samples import to_json
from missionctl_agent.sinks import SendResult


class StdoutSink:
    name = "stdout"
    max_batch_records = 500
    max_batch_bytes = 50_000_000

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, samples: list[dict[str, Any]]) -> SendResult:
        stream = self._stream or sys.stdout
        try:
            for sample in samples:
                stream.write(to_json(sample) + "\n")
            stream.flush()
        except OSError as exc:  # e.g. the reading end of a pipe went away
            return SendResult(unreachable=f"stdout: {exc}")
        return SendResult(delivered=list(range(len(samples))))

    def close(self) -> None:
        pass
