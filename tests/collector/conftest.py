"""Shared fixtures for the collector agent tests.

The agent is an installable package (`pip install -e collectors`); when it
is not installed we import it from the source tree so the suite still runs
from a fresh clone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTORS_DIR = REPO_ROOT / "collectors"

try:
    import missionctl_agent  # noqa: F401
except ImportError:  # not installed: use the source tree
    sys.path.insert(0, str(COLLECTORS_DIR))


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for running the agent as a subprocess: importable from the
    source tree, no MISSIONCTL_AGENT_* leaking in from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIONCTL_AGENT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(COLLECTORS_DIR), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env
