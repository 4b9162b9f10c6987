"""A token issuer for tests and benchmarks: the dev issuer's keys and token minting
(``chalicelib.local.dev_issuer.DevIssuer``), its discovery document and JWKS served over HTTP
on a loopback port — so the app fetches keys exactly as it fetches Cognito's.

    issuer = LoopbackIssuer.start(tmp_dir)
    issuer.token("viewer")                 # a valid access token for the demo viewer
    issuer.sign({...claims...}, kid=...)   # anything else a test needs, signed by this key
    issuer.jwks_override = {...}           # serve another JWKS (key rotation)
    issuer.jwks_fetches                    # how often the JWKS was fetched
    issuer.stop()
"""
from __future__ import annotations

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from chalicelib.config import AuthSettings
from chalicelib.local.dev_issuer import DEMO_USERS, DevIssuer

CLIENT_ID = "mission-control-tests"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True


class LoopbackIssuer:
    def __init__(self, server: ThreadingHTTPServer, issuer: DevIssuer, key_dir: Path):
        self.server = server
        self.key_dir = key_dir
        self.issuer = issuer
        self.url = issuer.issuer
        self.jwks_override: dict | None = None
        self.jwks_fetches = 0
        self.discovery_fetches = 0

    @classmethod
    def start(cls, key_dir: str | Path, path: str = "/auth") -> "LoopbackIssuer":
        box: dict[str, LoopbackIssuer] = {}

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                owner = box["issuer"]
                if self.path == f"{path}/.well-known/openid-configuration":
                    owner.discovery_fetches += 1
                    body = owner.issuer.discovery()
                elif self.path == f"{path}/jwks.json":
                    owner.jwks_fetches += 1
                    body = owner.jwks_override if owner.jwks_override is not None else owner.issuer.jwks()
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = _QuietServer(("127.0.0.1", 0), Handler)
        url = f"http://127.0.0.1:{server.server_address[1]}{path}"
        issuer = DevIssuer.in_data_dir(key_dir, url, client_id=CLIENT_ID)
        box["issuer"] = owner = cls(server, issuer, Path(key_dir))
        threading.Thread(target=server.serve_forever, daemon=True, name="loopback-issuer").start()
        return owner

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- tokens ----------------------------------------------------------------------------
    def token(self, role: str = "viewer", **claims: Any) -> str:
        """A valid access token of the demo user with ``role``; ``claims`` override any claim
        (None removes it)."""
        if not claims:
            return self.issuer.access_token(DEMO_USERS[role])
        now = int(time.time())
        user = DEMO_USERS[role]
        base = {"iss": self.url, "sub": user.sub, "token_use": "access", "client_id": CLIENT_ID,
                "cognito:groups": [role], "name": user.name, "email": user.email,
                "iat": now, "exp": now + 900}
        merged = {k: v for k, v in {**base, **claims}.items() if v is not None}
        return self.sign(merged)

    def sign(self, claims: dict[str, Any], key: Any = None, kid: str | None = None,
             algorithm: str = "RS256") -> str:
        import jwt
        return jwt.encode(claims, key if key is not None else self.issuer.private_key,
                          algorithm=algorithm, headers={"kid": kid or self.issuer.kid})

    def settings(self, **overrides: Any) -> AuthSettings:
        """AuthSettings trusting this issuer, as a stage's config would (for ``AccessGate``)."""
        settings = {"data_dir": str(self.key_dir), **overrides}
        return dataclasses.replace(auth_settings_for(self.url), **settings)


def auth_settings_for(issuer_url: str) -> AuthSettings:
    return AuthSettings(
        stage="dev", realm="mission-control", issuer=issuer_url, discovery_url=None,
        audiences=(), client_ids=(CLIENT_ID,), token_uses=("access", "id"),
        algorithms=("RS256", "ES256"), groups_claim="cognito:groups", group_roles=(),
        default_role="viewer", leeway_s=30, jwks_timeout_s=2.0, jwks_max_age_s=3600,
        jwks_min_refresh_s=30, api_key_cache_ttl_s=5, ingest_rate=(100, 1),
        cors_origins=("https://spa.example.com",), redirect_uris=("https://spa.example.com/",),
        dev_issuer=False, data_dir="")
