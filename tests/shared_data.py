"""The real payloads of ``../shared/data`` (AWS's documented event samples, GitHub's webhook
bodies), copied into ``tests/fixtures/shared-data`` so that a clone tests on its own, wherever it
is checked out. ``tests/unit/test_shared_data_copy.py`` keeps the copy byte for byte the same
as ``../shared/data`` whenever that is beside the checkout."""
from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parent / "fixtures" / "shared-data"
AWS_EVENTS = SHARED_DATA / "aws-events"
GITHUB_WEBHOOKS = SHARED_DATA / "github-webhooks"
