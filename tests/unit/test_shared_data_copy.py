"""The repository's copy of ../shared/data is that data, byte for byte."""
from pathlib import Path

import pytest

from tests.shared_data import SHARED_DATA

ORIGINAL = Path(__file__).resolve().parents[3] / "shared" / "data"


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_copy_holds_aws_events_and_github_webhooks():
    copied = files(SHARED_DATA)
    assert any(name.startswith("aws-events/") for name in copied)
    assert any(name.startswith("github-webhooks/workflow_run/") for name in copied)


@pytest.mark.skipif(not ORIGINAL.is_dir(), reason="../shared/data is not beside this checkout")
def test_the_copy_is_the_shared_data_byte_for_byte():
    assert files(SHARED_DATA) == files(ORIGINAL)
