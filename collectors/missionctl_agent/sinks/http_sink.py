"""HTTP sink: POST {base_url}/api/metrics with header x-api-key.

The body is a JSON array of samples (at most 500). Mission Control answers:

- 200: every sample accepted (other 2xx are read the same way);
- 207: {"accepted": n, "duplicates": n, "refused": [{"index": i, "errors": [...]}]}
  — the listed indices are refused, the rest delivered;
- 400: every sample refused.

Other 4xx except 408/429 are permanent too (wrong key, wrong URL...): the
batch is refused, so it is dropped rather than retried forever. 5xx, 408,
429, redirects (not followed: fix the URL), connection errors and timeouts mean
"unreachable": the batch stays buffered.

The API key is only ever put in the request header; reasons returned for
logging are redacted in case a server echoes it back.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from missionctl_agent import __version__
from missionctl_agent.samples import to_json
from missionctl_agent.sinks import SendResult, redact

RETRYABLE_STATUSES = frozenset({408, 429})
_MAX_REASON_CHARS = 300


class HttpSink:
    name = "http"
    max_batch_records = 500
    # Keeps one request well under API Gateway's and Lambda's payload limits.
    max_batch_bytes = 5_000_000

    def __init__(self, base_url: str, api_key: str, timeout_s: float = 5.0) -> None:
        if not api_key:
            raise ValueError("an API key is required for the HTTP sink")
        self.url = base_url.rstrip("/") + "/api/metrics"
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._session = requests.Session()
        self._session.headers["user-agent"] = f"missionctl-agent/{__version__}"

    def __repr__(self) -> str:  # never show the key
        return f"HttpSink(url={self.url!r})"

    def send(self, samples: list[dict[str, Any]]) -> SendResult:
        body = "[" + ",".join(to_json(s) for s in samples) + "]"
        try:
            response = self._session.post(
                self.url,
                data=body.encode("utf-8"),
                headers={"content-type": "application/json", "x-api-key": self._api_key},
                timeout=self._timeout_s,
                # A redirect would turn the POST into a GET and the batch
                # would be "refused" by the wrong endpoint: report it instead.
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return SendResult(unreachable=self._reason(f"{type(exc).__name__}: {exc}"))
        return self._interpret(response, len(samples))

    def close(self) -> None:
        self._session.close()

    def _interpret(self, response: requests.Response, count: int) -> SendResult:
        status = response.status_code
        everything = list(range(count))
        if status == 207:
            return self._partial(response, count)
        if 200 <= status < 300:
            return SendResult(delivered=everything)
        if status >= 500 or status in RETRYABLE_STATUSES or status < 400:
            return SendResult(unreachable=self._reason(f"HTTP {status} from {self.url}"))
        reason = self._reason(f"HTTP {status}: {response.text[:200]}")
        return SendResult(refused=dict.fromkeys(everything, reason))

    def _partial(self, response: requests.Response, count: int) -> SendResult:
        refused: dict[int, str] = {}
        try:
            entries = response.json().get("refused", [])
        except (ValueError, AttributeError):
            # The server processed the batch but we cannot tell what it
            # refused; resending would only create duplicates.
            entries = []
        for entry in entries if isinstance(entries, list) else []:
            index = entry.get("index") if isinstance(entry, dict) else None
            if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < count:
                errors = entry.get("errors", [])
                refused[index] = self._reason(json.dumps(errors)[:200])
        delivered = [i for i in range(count) if i not in refused]
        return SendResult(delivered=delivered, refused=refused)

    def _reason(self, text: str) -> str:
        return redact(text, self._api_key)[:_MAX_REASON_CHARS]
