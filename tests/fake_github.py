"""A loopback server that speaks the part of GitHub's REST API the CI console uses, strictly:
it checks the App JWT (RS256 with the App's public key, ``iss``, ``iat`` in the past, at most
10 minutes long) on App routes and the installation token on the others, answers primary and
secondary rate limits and ``304 Not Modified`` on command, and records every call (re-runs
and cancels included).

    github = FakeGitHub.start(tmp_path)          # writes the App's private key (0600)
    github.url                                   # GITHUB_API_URL
    github.add_repo("octo-org/octo-repo", runs)  # what the installation sees
    github.limit_next("primary", reset_in_s=30)  # the next call: 403, X-RateLimit-Remaining 0
    github.limit_next("secondary", retry_after_s=3)
    github.actions                               # [("rerun", "octo-org/octo-repo", 42), ...]
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.loopback_receiver import loopback_server

APP_ID = "424242"
INSTALLATION_ID = 77
RATE_LIMIT = 5000


class FakeGitHub:
    def __init__(self, key_dir: Path):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_file = key_dir / "github-app.pem"
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        self.public_key = key.public_key()
        self.repos: dict[str, dict] = {}
        self.runs: dict[str, list[dict]] = {}
        self.tokens: dict[str, float] = {}
        self.token_requests = 0
        self.requests: list[tuple[str, str, dict]] = []
        self.refused: list[str] = []
        self.actions: list[tuple[str, str, int]] = []
        self.not_modified = 0
        self.remaining = RATE_LIMIT
        #: the fake's time (epoch s); a test shares its simulated clock with the client's
        self.clock = time.time
        self._limits: list[dict] = []
        self._lock = threading.Lock()
        fake = self

        def serve(request: BaseHTTPRequestHandler) -> None:
            length = int(request.headers.get("content-length") or 0)
            if length:
                request.rfile.read(length)
            status, headers, body = fake._answer(request.command, request.path,
                                                 {k.lower(): v for k, v in request.headers.items()})
            data = json.dumps(body).encode() if body is not None else b""
            request.send_response(status)
            for name, value in {"content-type": "application/json", "content-length": str(len(data)), **headers}.items():
                request.send_header(name, value)
            request.end_headers()
            request.wfile.write(data)

        self.server, self.thread = loopback_server(serve)

    @classmethod
    def start(cls, key_dir: Path) -> "FakeGitHub":
        fake = cls(key_dir)
        fake.thread.start()
        return fake

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # -- commands ----------------------------------------------------------------------------
    def add_repo(self, full_name: str, runs: list[dict], default_branch: str = "main") -> None:
        owner, name = full_name.split("/")
        self.repos[full_name] = {"id": 1000 + len(self.repos), "full_name": full_name, "name": name,
                                 "owner": {"login": owner}, "private": False, "default_branch": default_branch,
                                 "html_url": f"https://github.com/{full_name}"}
        self.runs[full_name] = runs

    def limit_next(self, kind: str, reset_in_s: int = 30, retry_after_s: int | None = None) -> None:
        """The next authenticated call is refused: ``primary`` (403, remaining 0, reset),
        ``secondary`` (403 with the secondary-limit message, ``Retry-After`` when given) or
        ``429``."""
        self._limits.append({"kind": kind, "reset_in_s": reset_in_s, "retry_after_s": retry_after_s})

    # -- the API -------------------------------------------------------------------------------
    def _answer(self, method: str, raw_path: str, headers: dict) -> tuple[int, dict, object]:
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        with self._lock:
            self.requests.append((method, raw_path, headers))
        if headers.get("accept") != "application/vnd.github+json" or not headers.get("user-agent"):
            return self._refuse(400, "send Accept: application/vnd.github+json and a User-Agent")
        match = re.fullmatch(r"/app/installations/(\d+)/access_tokens", path)
        if match and method == "POST":
            problem = self._check_jwt(headers.get("authorization", ""))
            if problem:
                return self._refuse(401, problem)
            if int(match.group(1)) != INSTALLATION_ID:
                return self._refuse(404, "no such installation")
            token = "ghs_" + secrets.token_hex(16)
            expires = self.clock() + 3600
            with self._lock:
                self.tokens[token] = expires
                self.token_requests += 1
            return 201, {}, {"token": token, "expires_at": datetime.fromtimestamp(expires, timezone.utc)
                             .strftime("%Y-%m-%dT%H:%M:%SZ")}
        if path == "/app/installations" and method == "GET":
            problem = self._check_jwt(headers.get("authorization", ""))
            return self._refuse(401, problem) if problem else (200, {}, [{"id": INSTALLATION_ID}])
        auth = headers.get("authorization", "")
        if not auth.startswith("token ") or self.tokens.get(auth[6:], 0) < self.clock():
            return self._refuse(401, "Bad credentials")
        if self._limits:
            return self._limited(self._limits.pop(0))
        limit_headers = {"X-RateLimit-Limit": str(RATE_LIMIT), "X-RateLimit-Reset": str(int(self.clock()) + 3600)}
        page, per_page = int(query.get("page", ["1"])[0]), int(query.get("per_page", ["30"])[0])
        if path == "/installation/repositories" and method == "GET":
            repos = list(self.repos.values())[(page - 1) * per_page: page * per_page]
            return self._conditional(headers, limit_headers, {"total_count": len(self.repos), "repositories": repos})
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/runs", path)
        if match and method == "GET" and match.group(1) in self.runs:
            runs = self.runs[match.group(1)][(page - 1) * per_page: page * per_page]
            return self._conditional(headers, limit_headers, {"total_count": len(self.runs[match.group(1)]),
                                                              "workflow_runs": runs})
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/runs/(\d+)/jobs", path)
        if match and method == "GET":
            run = next((r for r in self.runs.get(match.group(1), []) if r["id"] == int(match.group(2))), None)
            if run is None:
                return self._refuse(404, "Not Found")
            jobs = [{"id": run["id"] * 10 + n, "run_id": run["id"], "run_attempt": 1, "name": name,
                     "status": "completed", "conclusion": run["conclusion"] if n == 1 else "success",
                     "started_at": run["run_started_at"], "completed_at": run["updated_at"],
                     "created_at": run["created_at"], "html_url": f"{run['html_url']}/job/{n}",
                     "steps": [{"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1,
                                "started_at": run["run_started_at"], "completed_at": run["updated_at"]}]}
                    for n, name in enumerate(("lint", "test"))]
            return self._conditional(headers, limit_headers, {"total_count": len(jobs), "jobs": jobs})
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/runs/(\d+)/(rerun|rerun-failed-jobs|cancel)", path)
        if match and method == "POST":
            repo, run_id, action = match.group(1), int(match.group(2)), match.group(3)
            if not any(r["id"] == run_id for r in self.runs.get(repo, [])):
                return self._refuse(404, "Not Found")
            with self._lock:
                self.actions.append((action, repo, run_id))
                self.remaining -= 1
            return (202 if action == "cancel" else 201), self._limit_headers(limit_headers), {}
        return self._refuse(404, "Not Found")

    def _conditional(self, headers: dict, limit_headers: dict, body: object) -> tuple[int, dict, object]:
        etag = '"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:20] + '"'
        if headers.get("if-none-match") == etag:
            with self._lock:
                self.not_modified += 1  # a 304 costs no rate limit
            return 304, {"ETag": etag, **limit_headers, "X-RateLimit-Remaining": str(self.remaining)}, None
        with self._lock:
            self.remaining -= 1
        return 200, {"ETag": etag, **self._limit_headers(limit_headers)}, body

    def _limit_headers(self, limit_headers: dict) -> dict:
        return {**limit_headers, "X-RateLimit-Remaining": str(self.remaining)}

    def _limited(self, limit: dict) -> tuple[int, dict, object]:
        if limit["kind"] == "primary":
            return 403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(self.clock()) + limit["reset_in_s"])}, \
                {"message": "API rate limit exceeded for installation ID 77."}
        headers = {"Retry-After": str(limit["retry_after_s"])} if limit["retry_after_s"] is not None else {}
        if limit["kind"] == "429":
            return 429, headers, {"message": "Too many requests"}
        return 403, headers, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}

    def _refuse(self, status: int, message: str) -> tuple[int, dict, object]:
        with self._lock:
            self.refused.append(message)
        return status, {}, {"message": message}

    def _check_jwt(self, authorization: str) -> str | None:
        import jwt
        if not authorization.startswith("Bearer "):
            return "an App route needs Authorization: Bearer <app JWT>"
        try:
            # Times are checked below against the fake's clock, not PyJWT's.
            claims = jwt.decode(authorization[7:], self.public_key, algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"], "verify_exp": False,
                                         "verify_iat": False, "verify_nbf": False})
        except jwt.PyJWTError as exc:
            return f"bad JWT: {exc}"
        now = self.clock()
        if claims["exp"] <= now:
            return "JWT has expired"
        if claims["iss"] != APP_ID:
            return "JWT iss is not the App id"
        if claims["iat"] > now - 30:
            return "JWT iat should be set in the past (clock drift)"
        if claims["exp"] - claims["iat"] > 600 or claims["exp"] > now + 600:
            return "JWT lasts more than 10 minutes"
        return None


def sample_runs(count: int, repo: str, base: dict, workflow: str = "CI", branch: str = "main") -> list[dict]:
    """``count`` REST runs newest first (as GitHub lists them), made from a copy of a real one."""
    runs = []
    owner_repo = {"full_name": repo}
    for i in reversed(range(count)):
        run = json.loads(json.dumps(base))
        run.update(id=5000 + i, name=workflow, run_number=i + 1, head_branch=branch, status="completed",
                   conclusion="failure" if i % 4 == 0 else "success",
                   created_at=f"2026-11-01T10:{i:02d}:00Z", run_started_at=f"2026-11-01T10:{i:02d}:10Z",
                   updated_at=f"2026-11-01T10:{i:02d}:50Z", repository=owner_repo,
                   html_url=f"https://github.com/{repo}/actions/runs/{5000 + i}")
        runs.append(run)
    return runs
