"""What the access check costs per request, with warm caches, as ratios against a request that
has no check (GET /api/health) in the same run. Never run as a test.

    .venv/bin/python -m benchmarks.access_check [--requests 3000]

Measured through chalice.test.Client on a SQLite store, tokens from a loopback issuer (its JWKS
fetched over HTTP once, then cached), an API key created as an admin creates one:

- ``health``: GET /api/health, public: the middleware looks the rule up and nothing else;
- ``token``: GET /api/me with a viewer token: signature, claims and role checked; the view
  reads nothing;
- ``api_key``: POST /api/ingest/event with an ``ingest:business`` key and a body the view
  refuses at once (400): hash, cached record, scope, and the one rate counter increment;
- ``check_only``: ``AccessGate.check`` alone, without HTTP or view, for both credentials;
- ``first_sight_token_verification``: a token's signature and claims verified from scratch
  (what the first request with a new token pays; later ones hit the verified-token cache).

Also the benchmarks' way in: ``signed_in_client(store)`` gives ``run.py`` and ``metrics.py``
an admin token and an API key with every ingest scope, as the tests' ``api`` fixture does.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the loopback issuer the tests use
os.environ.setdefault("STORE", "sqlite::memory:")

_issuers: list = []


def loopback_issuer():
    """One token issuer on a loopback port for this process (key in a temporary directory)."""
    if not _issuers:
        from loopback_issuer import LoopbackIssuer
        _issuers.append(LoopbackIssuer.start(tempfile.mkdtemp(prefix="bench-issuer-")))
    return _issuers[0]


class _SignedInHttp:
    def __init__(self, http, headers: dict):
        self._http, self._headers = http, headers

    def request(self, method: str, path: str, headers=None, body=b""):
        given = {k.lower() for k in (headers or {})}
        merged = {**{k: v for k, v in self._headers.items() if k.lower() not in given}, **(headers or {})}
        return self._http.request(method, path, headers=merged, body=body)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)


class signed_in_client:  # noqa: N801 - used like chalice.test.Client: `with signed_in_client(store) as c`
    """chalice.test.Client on ``store`` whose requests carry an admin token and an API key with
    every ingest scope (a request's own headers win)."""

    def __init__(self, store, ingest_rate: tuple[int, int] = (100, 1)):
        from chalice.test import Client

        from app import app
        from chalicelib.auth import AccessGate, repository, use_gate
        from chalicelib.auth.api_keys import INGEST_SCOPES
        from chalicelib.storage import use_store
        issuer = loopback_issuer()
        use_store(store)
        self.gate = AccessGate(issuer.settings(ingest_rate=ingest_rate), repository)
        use_gate(self.gate)
        self.key = self.gate.create_key(list(INGEST_SCOPES), "benchmarks", "benchmarks")[0]
        self.token = issuer.token("admin")
        self.client = Client(app)

    def __enter__(self):
        self.client.__enter__()
        self.http = _SignedInHttp(self.client.http, {"authorization": f"Bearer {self.token}",
                                                     "x-api-key": self.key})
        return self

    def __exit__(self, *exc):
        return self.client.__exit__(*exc)


def _per_request_us(send, n: int) -> float:
    """Median of 5 rounds of the mean time per call (µs), after a warm-up round."""
    for _ in range(min(n, 200)):
        send()
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n // 5):
            send()
        rounds.append((time.perf_counter() - started) / (n // 5) * 1e6)
    return statistics.median(rounds)


def measure(n: int) -> dict:
    from chalicelib.auth.access import AccessRule
    from chalicelib.auth.roles import Role
    from chalicelib.storage.sqlite_engine import SqliteStore
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(str(Path(tmp) / "bench.db"))
        # A limit no run reaches: the benchmark measures the counter's cost, not refusals.
        with signed_in_client(store, ingest_rate=(10**9, 60)) as signed_in:
            http, gate, issuer = signed_in.client.http, signed_in.gate, loopback_issuer()
            viewer = {"authorization": f"Bearer {issuer.token('viewer')}"}
            key = gate.create_key(["ingest:business"], "bench", "bench")[0]
            keyed = {"x-api-key": key, "content-type": "application/json"}

            def health():
                assert http.get("/api/health").status_code == 200

            def token():
                assert http.get("/api/me", headers=viewer).status_code == 200

            def api_key():
                assert http.post("/api/ingest/event", headers=keyed, body="{}").status_code == 400

            fetches_before = issuer.jwks_fetches
            figures = {"health_us": _per_request_us(health, n)}
            figures["token_us"] = _per_request_us(token, n)
            token_fetches = issuer.jwks_fetches - fetches_before
            before_key = store.request_count
            figures["api_key_us"] = _per_request_us(api_key, n)
            key_calls = (n // 5) * 5 + min(n, 200)
            store_per_key_request = (store.request_count - before_key) / key_calls

            token_headers = {"authorization": viewer["authorization"]}
            key_headers = {"x-api-key": key}
            role_rule = AccessRule("role", role=Role.VIEWER)
            key_rule = AccessRule("api_key", scope="ingest:business")
            figures["check_only_token_us"] = _per_request_us(lambda: gate.check(role_rule, token_headers), n)
            figures["check_only_api_key_us"] = _per_request_us(lambda: gate.check(key_rule, key_headers), n)
            # A token seen for the first time: signature and claims verified (the cache's miss path).
            from chalicelib.auth.tokens import verify_token
            raw = viewer["authorization"].split(" ", 1)[1]
            figures["token_verification_us"] = _per_request_us(
                lambda: verify_token(raw, gate.token_policy, gate.signing_keys.key_for), n)
        store.close()
    base = figures["health_us"]
    return {
        "requests_per_figure": n,
        "health_request_us": round(base, 1),
        "token_request_us": round(figures["token_us"], 1),
        "api_key_request_us": round(figures["api_key_us"], 1),
        "token_vs_health": round(figures["token_us"] / base, 2),
        "api_key_vs_health": round(figures["api_key_us"] / base, 2),
        "check_only_token_us": round(figures["check_only_token_us"], 1),
        "check_only_api_key_us": round(figures["check_only_api_key_us"], 1),
        "first_sight_token_verification_us": round(figures["token_verification_us"], 1),
        "jwks_fetches_during_token_requests": token_fetches,
        "store_requests_per_api_key_request": round(store_per_key_request, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per figure")
    args = parser.parse_args()
    print(json.dumps(measure(args.requests), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
