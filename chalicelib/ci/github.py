"""The GitHub App client (``requests``): the App's JWT, installation tokens, the Actions REST
calls the console makes, politely.

- The App JWT is RS256, ``iat`` 60 s in the past (GitHub's allowance for clock drift), ``exp``
  9 minutes ahead (GitHub refuses more than 10), ``iss`` the App id.
- An installation token is cached until a minute before it expires.
- Rate limits: when ``X-RateLimit-Remaining`` reaches 0 the next call waits for
  ``X-RateLimit-Reset``; a 403/429 with ``Retry-After`` waits that long; a secondary limit
  without it waits a minute, doubling; a wait longer than ``max_backoff_s`` is not made
  (``RateLimited``), so a request never hangs on GitHub.
- GETs are conditional: the ETag of each answer is kept and sent back as ``If-None-Match``;
  a 304 (which costs no rate limit) returns the kept body.

``sleep`` and ``clock`` are injectable so tests wait for nothing.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Iterator

USER_AGENT = "mission-control-ci"
ACCEPT = "application/vnd.github+json"
API_VERSION = "2022-11-28"
JWT_BACKDATE_S, JWT_LIFETIME_S = 60, 540
TOKEN_MARGIN_S = 60
SECONDARY_WAIT_S = 60.0
MAX_ATTEMPTS = 4
ETAGS_KEPT = 512


class GitHubError(Exception):
    """GitHub refused or failed a call; ``status`` is its HTTP status (0: unreachable)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class RateLimited(GitHubError):
    """GitHub asks for a longer wait than the client makes; ``retry_after_s`` says how long."""

    def __init__(self, retry_after_s: float):
        super().__init__(429, f"GitHub's rate limit: retry in {int(retry_after_s) + 1} s")
        self.retry_after_s = retry_after_s


class GitHubApp:
    def __init__(self, api_url: str, app_id: str, private_key: Callable[[], bytes], session: Any,
                 *, timeout_s: float = 10.0, max_backoff_s: float = 60.0,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self.api_url = api_url.rstrip("/")
        self.app_id = app_id
        self._private_key = private_key
        self.session = session
        self.timeout_s, self.max_backoff_s = timeout_s, max_backoff_s
        self.clock, self.sleep = clock, sleep
        self._tokens: dict[int, tuple[str, float]] = {}
        #: URL -> (ETag, body), least recently used first; bounded so a warm Lambda stays small
        self._etags: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._resume_at = 0.0  # when the primary limit resets, if it ran out
        self._lock = threading.Lock()

    # -- credentials ----------------------------------------------------------------------------
    def app_jwt(self) -> str:
        import jwt  # PyJWT, loaded with the first call to GitHub
        now = int(self.clock())
        try:
            return jwt.encode({"iat": now - JWT_BACKDATE_S, "exp": now + JWT_LIFETIME_S, "iss": str(self.app_id)},
                              self._private_key(), algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError):
            # (Never the key itself in the message.)
            raise GitHubError(0, "the GitHub App's private key cannot sign: is it the PEM GitHub generated?") from None

    def installation_token(self, installation_id: int) -> str:
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached and self.clock() < cached[1] - TOKEN_MARGIN_S:
                return cached[0]
        body = self._call("POST", f"/app/installations/{installation_id}/access_tokens",
                          auth=f"Bearer {self.app_jwt()}")
        from datetime import datetime
        expires = datetime.fromisoformat(str(body["expires_at"]).replace("Z", "+00:00")).timestamp()
        with self._lock:
            self._tokens[installation_id] = (body["token"], expires)
        return body["token"]

    # -- the calls the console makes ------------------------------------------------------------
    def installations(self) -> list[int]:
        """The ids of the App's installations (App JWT)."""
        body = self._call("GET", "/app/installations", auth=f"Bearer {self.app_jwt()}", params={"per_page": 100})
        return [int(i["id"]) for i in body if isinstance(i, dict) and isinstance(i.get("id"), int)]

    def installation_repositories(self, installation_id: int) -> Iterator[dict[str, Any]]:
        for page in self._pages(installation_id, "/installation/repositories", "repositories", 100, 10_000):
            yield from page

    def workflow_runs(self, installation_id: int, repo: str, limit: int) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = []
        for page in self._pages(installation_id, f"/repos/{repo}/actions/runs", "workflow_runs",
                                min(100, limit), limit):
            runs += page
        return runs[:limit]

    def run_jobs(self, installation_id: int, repo: str, run_id: int) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = []
        for page in self._pages(installation_id, f"/repos/{repo}/actions/runs/{run_id}/jobs", "jobs", 100, 1000):
            jobs += page
        return jobs

    def rerun(self, installation_id: int, repo: str, run_id: int, failed_only: bool = False) -> None:
        action = "rerun-failed-jobs" if failed_only else "rerun"
        self._call("POST", f"/repos/{repo}/actions/runs/{run_id}/{action}", installation=installation_id)

    def cancel(self, installation_id: int, repo: str, run_id: int) -> None:
        self._call("POST", f"/repos/{repo}/actions/runs/{run_id}/cancel", installation=installation_id)

    # -- transport ------------------------------------------------------------------------------
    def _pages(self, installation_id: int, path: str, key: str, per_page: int, limit: int) -> Iterator[list]:
        seen, page = 0, 1
        while seen < limit:
            body = self._call("GET", path, installation=installation_id, params={"per_page": per_page, "page": page})
            items = body.get(key) or []
            if not items:
                return
            yield items
            seen += len(items)
            if len(items) < per_page:
                return
            page += 1

    def _call(self, method: str, path: str, *, installation: int | None = None, auth: str | None = None,
              params: dict | None = None) -> Any:
        import requests
        url = self.api_url + path
        cache_key = url + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        backoff = SECONDARY_WAIT_S
        for _attempt in range(MAX_ATTEMPTS):
            self._wait_for_reset()
            headers = {"Accept": ACCEPT, "User-Agent": USER_AGENT, "X-GitHub-Api-Version": API_VERSION,
                       "Authorization": auth or f"token {self.installation_token(installation)}"}
            kept = self._etags.get(cache_key) if method == "GET" else None
            if kept:
                headers["If-None-Match"] = kept[0]
            try:
                response = self.session.request(method, url, headers=headers, params=params, timeout=self.timeout_s)
            except requests.RequestException as exc:
                raise GitHubError(0, f"GitHub is unreachable ({type(exc).__name__})") from None
            self._note_limit(response)
            if response.status_code == 304 and kept:
                self._etags.move_to_end(cache_key)
                return kept[1]
            if response.status_code in (403, 429) and self._limited(response):
                wait = self._wait_s(response, backoff)
                if wait > self.max_backoff_s:
                    raise RateLimited(wait)
                self.sleep(wait)
                backoff *= 2
                continue
            if response.status_code >= 400:
                raise GitHubError(response.status_code, _message(response))
            body = response.json() if response.content else {}
            if method == "GET" and response.headers.get("ETag"):
                self._etags[cache_key] = (response.headers["ETag"], body)
                self._etags.move_to_end(cache_key)
                while len(self._etags) > ETAGS_KEPT:
                    self._etags.popitem(last=False)
            return body
        raise RateLimited(backoff)

    def _note_limit(self, response: Any) -> None:
        remaining, reset = response.headers.get("X-RateLimit-Remaining"), response.headers.get("X-RateLimit-Reset")
        if remaining == "0" and reset and reset.isdigit():
            self._resume_at = float(reset)

    def _wait_for_reset(self) -> None:
        wait = self._resume_at - self.clock()
        if wait > 0:
            if wait > self.max_backoff_s:
                raise RateLimited(wait)
            self.sleep(wait)
        self._resume_at = 0.0

    def _limited(self, response: Any) -> bool:
        if response.status_code == 429 or response.headers.get("Retry-After"):
            return True
        if response.headers.get("X-RateLimit-Remaining") == "0":
            return True
        return "rate limit" in _message(response).lower()

    def _wait_s(self, response: Any, backoff: float) -> float:
        retry_after = response.headers.get("Retry-After")
        if retry_after and retry_after.isdigit():
            return float(retry_after)
        reset = response.headers.get("X-RateLimit-Reset")
        if response.headers.get("X-RateLimit-Remaining") == "0" and reset and reset.isdigit():
            self._resume_at = 0.0
            return max(0.0, float(reset) - self.clock())
        return backoff  # a secondary limit without Retry-After: a minute, then doubling


def _message(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"GitHub answered {response.status_code}"
    return str(body.get("message") or f"GitHub answered {response.status_code}")[:300] \
        if isinstance(body, dict) else f"GitHub answered {response.status_code}"
