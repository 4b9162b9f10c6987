"""missionctl token / apikey: what an admin needs on the command line.

Keys are printed once, on stdout alone (so ``KEY=$(missionctl apikey create ...)`` works);
everything else goes to stderr. Nothing here logs a key or a token.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path


def print_token(role: str, minutes: int, issuer: str | None) -> int:
    """A dev-stage access token for the demo user of ``role``, signed with the dev issuer's key."""
    from ..auth import gate
    from ..local.dev_issuer import DEFAULT_CLIENT_ID, DEMO_USERS, KEY_FILE, DevIssuer, read_issuer_file
    config = gate().config
    if config.stage != "dev":
        print(f"missionctl token: only in the dev stage (STAGE={config.stage}); on AWS users sign "
              "in through Cognito", file=sys.stderr)
        return 2
    if not 1 <= minutes <= 720:
        print("missionctl token: --minutes must be between 1 and 720", file=sys.stderr)
        return 2
    if role not in DEMO_USERS:
        print(f"missionctl token: --role must be one of {', '.join(DEMO_USERS)}", file=sys.stderr)
        return 2
    if not (Path(config.data_dir) / KEY_FILE).exists():
        # Never mint with a fresh key: no running product would trust it.
        print(f"missionctl token: no dev issuer key in {config.data_dir}; start the product first "
              "(make run), from the project directory", file=sys.stderr)
        return 1
    running = read_issuer_file(config.data_dir) or {}
    issuer = issuer or running.get("issuer") or "http://127.0.0.1:8000/auth"
    client_id = running.get("clientId") or (config.client_ids[0] if config.client_ids else DEFAULT_CLIENT_ID)
    dev = DevIssuer.in_data_dir(config.data_dir, issuer, client_id=client_id,
                                groups_claim=config.groups_claim)
    print(dev.access_token(DEMO_USERS[role], ttl_s=minutes * 60))
    print(f"({role} token for {issuer}, valid {minutes} min)", file=sys.stderr)
    return 0


def create_api_key(scopes: list[str], name: str | None) -> int:
    from ..auth import gate
    from ..auth.api_keys import INGEST_SCOPES
    unknown = [s for s in scopes if s not in INGEST_SCOPES]
    if unknown:
        print(f"missionctl apikey: unknown scope {unknown[0]!r}; scopes are {', '.join(INGEST_SCOPES)}",
              file=sys.stderr)
        return 2
    key, record = gate().create_key(scopes, name or f"created with missionctl ({', '.join(scopes)})",
                                    "missionctl")
    print(key)
    print(f"API key {record.key_id} ({', '.join(record.scopes)}): shown once, store it now; send it "
          "as the x-api-key header", file=sys.stderr)
    return 0


def list_api_keys() -> int:
    from ..auth import gate
    keys = gate().list_keys()
    if not keys:
        print("no API keys (.venv/bin/missionctl apikey create --scope ingest:business)", file=sys.stderr)
        return 0
    print(f"{'ID':<28} {'SCOPES':<32} {'CREATED':<17} {'LAST USED':<17} {'REVOKED':<17} NAME")
    for k in keys:
        print(f"{k['id']:<28} {','.join(k['scopes']):<32} {_when(k['createdAt']):<17} "
              f"{_when(k['lastUsedAt']):<17} {_when(k['revokedAt']):<17} {k['name']}")
    return 0


def revoke_api_key(key_id: str) -> int:
    from ..auth import gate
    record = gate().revoke_key(key_id, "missionctl")
    if record is None:
        print(f"missionctl apikey: no key {key_id}", file=sys.stderr)
        return 1
    ttl = gate().config.api_key_cache_ttl_s
    print(f"API key {key_id} revoked; every running process refuses it within {ttl} s", file=sys.stderr)
    return 0


def _when(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(epoch_ms / 1000)) + "Z"
