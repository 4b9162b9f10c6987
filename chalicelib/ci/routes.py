"""HTTP routes and the scheduled job of the CI console. Thin: parse, call one function, shape
the reply. The webhook is authorised by GitHub's signature over the raw body, not by a token;
every other route by role: viewers read, operators re-run and cancel, everyone signed in
reads and writes only their own settings."""
from __future__ import annotations

import json
import logging
import re

from chalice import Blueprint, Rate, Response
from pydantic import ValidationError

from .. import bounded_json, config
from ..auth import access, current_principal
from ..aws_access import API_HANDLER, uses
from ..errors import InvalidInput, PayloadTooLarge, pydantic_details
from ..field_types import now_ms
from ..web import JSON_HEADERS, api_errors, error_response, json_body, json_response
from . import console, events, repository, run_intake
from .models import Preferences, RunFilters
from .secrets import SECRET_NAMES
from .settings import GITHUB_MAX_PAYLOAD_BYTES

logger = logging.getLogger("mission_control.ci")
ci_api = Blueprint(__name__)
ci_jobs = Blueprint(__name__ + ".jobs")

#: GitHub payloads nest deeper than the API's own documents (commits in pull requests in runs)
WEBHOOK_MAX_DEPTH = 64
_DELIVERY = re.compile(r"[A-Za-z0-9-]{1,100}")
_EVENT = re.compile(r"[a-z_]{1,60}")
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def _reply(body: dict, status: int = 200) -> Response:
    return Response(body=json.dumps(body), status_code=status, headers={**JSON_HEADERS, "Cache-Control": "no-store"})


# -- the webhook ------------------------------------------------------------------------------
@ci_api.route("/webhooks/github", methods=["POST"], content_types=["application/json"])
@access.signature("github")
@api_errors
def github_webhook():
    """A GitHub delivery: 401 unless ``X-Hub-Signature-256`` signs the raw body with the
    webhook secret; then stored, deduplicated by ``X-GitHub-Delivery``."""
    from .secrets import SecretUnavailable, webhook_secret
    from .signature import is_valid
    request = ci_api.current_request
    raw = request.raw_body or b""
    if len(raw) > GITHUB_MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(f"the body is {len(raw):,} bytes; GitHub sends at most {GITHUB_MAX_PAYLOAD_BYTES:,}")
    try:
        secret = webhook_secret()
    except SecretUnavailable as missing:
        logger.error("webhook refused: %s", missing)  # the path, never a value
        secret = b""
    if not is_valid(secret, raw, request.headers.get("x-hub-signature-256")):
        return error_response(401, "bad_signature", "X-Hub-Signature-256 is missing or does not sign this body")
    event = request.headers.get("x-github-event") or ""
    delivery = request.headers.get("x-github-delivery") or ""
    if not _EVENT.fullmatch(event) or not _DELIVERY.fullmatch(delivery):
        raise InvalidInput("X-GitHub-Event and X-GitHub-Delivery are needed",
                           [{"field": "X-GitHub-Event" if not _EVENT.fullmatch(event) else "X-GitHub-Delivery",
                             "message": "missing or malformed"}])
    try:
        payload = bounded_json.parse(raw, GITHUB_MAX_PAYLOAD_BYTES, WEBHOOK_MAX_DEPTH)
    except bounded_json.JsonRefused as refused:
        raise InvalidInput(f"the body {refused.reason}") from None
    if not isinstance(payload, dict):
        raise InvalidInput("the body must be a JSON object")
    try:
        status, body = run_intake().receive(event, delivery, payload)
    except events.PayloadRefused as refused:
        raise InvalidInput(f"the {event} payload was refused: {refused}") from None
    return _reply(body, status)


# -- repositories and runs ----------------------------------------------------------------------
def _repo_name(owner: str, repo: str) -> str:
    if not (_SEGMENT.fullmatch(owner) and _SEGMENT.fullmatch(repo)):
        raise InvalidInput("owner and repo are GitHub names", [{"field": "path", "message": "must be owner/name"}])
    return f"{owner}/{repo}"


def _run_id(run_id: str) -> int:
    if not run_id.isdigit() or len(run_id) > 15:
        raise InvalidInput("run_id is a number", [{"field": "run_id", "message": "must be a whole number"}])
    return int(run_id)


def _subject() -> str:
    return current_principal().subject


@ci_api.route("/api/repos", methods=["GET"])
@access.role("viewer")
@api_errors
def list_repos():
    repo = repository()
    return json_response(ci_api.current_request, console.list_repos(repo, console.preferences(repo, _subject())))


@ci_api.route("/api/repos/{owner}/{repo}", methods=["GET"])
@access.role("viewer")
@api_errors
def list_runs(owner: str, repo: str):
    try:
        filters = RunFilters.model_validate(ci_api.current_request.query_params or {})
    except ValidationError as exc:
        raise InvalidInput("the filters were refused", pydantic_details(exc, "(query)")) from None
    return json_response(ci_api.current_request, console.list_runs(repository(), _repo_name(owner, repo), filters))


@ci_api.route("/api/repos/{owner}/{repo}/runs/{run_id}", methods=["GET"])
@access.role("viewer")
@api_errors
def get_run(owner: str, repo: str, run_id: str):
    return json_response(ci_api.current_request,
                         console.run_detail(repository(), _repo_name(owner, repo), _run_id(run_id)))


def _act(owner: str, repo: str, run_id: str, action: str) -> Response:
    from . import github_client
    user = current_principal()
    who = {"subject": user.subject, "name": user.name}
    return _reply(console.act_on_run(repository(), github_client, _repo_name(owner, repo), _run_id(run_id),
                                     action, who, now_ms()), 202)


@ci_api.route("/api/repos/{owner}/{repo}/runs/{run_id}/rerun", methods=["POST"])
@access.role("operator")
@api_errors
def rerun(owner: str, repo: str, run_id: str):
    failed = (ci_api.current_request.query_params or {}).get("failed", "false")
    if failed not in ("true", "false"):
        raise InvalidInput("failed is true or false", [{"field": "failed", "message": "must be true or false"}])
    return _act(owner, repo, run_id, "rerun-failed" if failed == "true" else "rerun")


@ci_api.route("/api/repos/{owner}/{repo}/runs/{run_id}/cancel", methods=["POST"])
@access.role("operator")
@api_errors
def cancel(owner: str, repo: str, run_id: str):
    return _act(owner, repo, run_id, "cancel")


@ci_api.route("/api/ci/health", methods=["GET"])
@access.role("viewer")
@api_errors
def ci_health():
    return json_response(ci_api.current_request, {"workflows": console.workflow_health(
        repository(), now_ms(), config.settings().team_timezone)})


# -- the signed-in user's settings --------------------------------------------------------------
@ci_api.route("/api/settings", methods=["GET"])
@access.role("viewer")
@api_errors
def get_settings():
    return json_response(ci_api.current_request, console.preferences(repository(), _subject()))


@ci_api.route("/api/settings", methods=["PUT"])
@access.role("viewer")  # everyone signed in writes their own settings, only their own
@api_errors
def put_settings():
    body = json_body(ci_api.current_request)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "version"}
    try:
        prefs = Preferences.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput("the settings were refused", pydantic_details(exc)) from None
    return _reply(console.save_preferences(repository(), _subject(), prefs))


# -- backfills asked for by the installation webhook ----------------------------------------------
@ci_jobs.schedule(Rate(1, unit=Rate.MINUTES), name="ciBackfill")
def backfill_installations(event):
    """Backfill each installation the ``installation`` webhook announced, then forget it."""
    from . import github_client
    from .backfill import backfill_installation, installations_to_backfill
    from .settings import ci_settings
    writer = run_intake()
    done = []
    for installation_id in installations_to_backfill(writer, now_ms()):
        counts = backfill_installation(github_client(), writer, installation_id, ci_settings().CI_BACKFILL_RUNS)
        writer.repo.backfill_done(installation_id)
        done.append({"installationId": installation_id, **counts})
    return {"backfilled": done}


uses(__name__, API_HANDLER, reads=("ci_runs", "ci"), writes=("ci_runs", "ci"), secrets=tuple(SECRET_NAMES.values()))
uses(__name__, "ciBackfill", reads=("ci_runs", "ci"), writes=("ci_runs", "ci"),
     secrets=tuple(SECRET_NAMES.values()))
