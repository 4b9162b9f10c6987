"""The local runtime's own API keys (live demo traffic, the collector agent on this machine).

Kept in ``<data dir>/local-api-keys.json`` (mode 0600, directory 0700) beside the store they
belong to, one key per scope; reused across runs while the store still holds the key unrevoked,
replaced otherwise (store deleted, key revoked by an admin).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

KEYS_FILE = "local-api-keys.json"


def ensure_local_api_key(scope: str, data_dir: str | None = None) -> str:
    from ..config import auth_settings
    from . import gate

    path = Path(data_dir or auth_settings().data_dir) / KEYS_FILE
    keys = _read(path)
    key = keys.get(scope)
    if key and gate().api_keys.verified(key) is not None:
        return key
    key, _record = gate().create_key([scope], f"local runtime ({scope})", "missionctl")
    keys[scope] = key
    _write(path, keys)
    return key


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(data, dict) else {}


def _write(path: Path, keys: dict[str, str]) -> None:
    """Write atomically, never readable by others, not even for a moment."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)  # O_CREAT's mode does not apply to an existing file
        json.dump(keys, out, indent=2)
    os.replace(temporary, path)
