"""Where samples go: Mission Control's HTTP API, a Kinesis stream, or stdout.

Every sink takes a batch (oldest first) and says, per sample, what happened:

- delivered: the sink has it (accepted, or a duplicate of one it already had);
- refused: permanently rejected (invalid, unauthorised...). Retrying cannot
  help, so the caller drops it and logs once;
- neither: the sink is unreachable right now (`unreachable` gives the reason);
  the caller keeps it buffered and retries later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class SendResult:
    """Outcome of one send. Indices refer to the batch passed to send()."""

    delivered: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    unreachable: str | None = None

    @property
    def settled(self) -> set[int]:
        """Indices the caller may forget: delivered or permanently refused."""
        return set(self.delivered) | set(self.refused)


class Sink(Protocol):
    name: str
    max_batch_records: int
    max_batch_bytes: int

    def send(self, samples: list[dict[str, Any]]) -> SendResult: ...

    def close(self) -> None: ...


def redact(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` masked (for log lines built
    from exception messages, which we do not control)."""
    return text.replace(secret, "***") if secret else text
