"""Signed GitHub deliveries for the CI console's tests: real payloads from
``../shared/data/github-webhooks``, signed with a test secret as GitHub signs them."""
from __future__ import annotations

import json
import uuid

from chalicelib.ci.signature import sign
from tests.shared_data import GITHUB_WEBHOOKS

WEBHOOKS = GITHUB_WEBHOOKS
SECRET = "test-webhook-secret"


def payload(event: str, name: str) -> bytes:
    """``name``: the file's name, ``.payload.json`` left out or not (ping's file is ``payload.json``)."""
    path = WEBHOOKS / event / name
    return (path if name.endswith(".json") else path.with_name(f"{name}.payload.json")).read_bytes()


def every_payload() -> list[tuple[str, str]]:
    return sorted((p.parent.name, p.name) for p in WEBHOOKS.glob("*/*.json"))


def deliver(api, event: str, body: bytes, delivery: str | None = None, secret: str = SECRET,
            signature: str | None = None):
    headers = {"content-type": "application/json", "x-github-event": event,
               "x-github-delivery": delivery or str(uuid.uuid4()), "user-agent": "GitHub-Hookshot/test",
               "x-hub-signature-256": signature if signature is not None else sign(secret.encode(), body)}
    return api.http.post("/webhooks/github", headers=headers, body=body)


def with_changes(body: bytes, key: str, **changes) -> bytes:
    """A copy of a payload with fields of its ``key`` object changed (the originals stay as they are)."""
    data = json.loads(body)
    data[key].update(changes)
    return json.dumps(data).encode()
