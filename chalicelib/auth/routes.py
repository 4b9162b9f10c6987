"""HTTP routes of access control: who am I, and API key administration (admin role)."""
from __future__ import annotations

import json

from chalice import Blueprint, Response
from pydantic import ValidationError

from ..aws_access import API_HANDLER, uses
from ..errors import InvalidInput, NotFound, pydantic_details
from ..web import JSON_HEADERS, api_errors, json_body, json_response
from . import access, current_principal, gate
from .api_keys import looks_like_key_id
from .models import NewApiKey

auth_api = Blueprint(__name__)

#: answers that carry a secret are never stored by a browser or proxy
NO_STORE = {**JSON_HEADERS, "Cache-Control": "no-store"}


@auth_api.route("/api/me", methods=["GET"])
@access.role("viewer")
@api_errors
def me():
    """The signed-in user, for the SPA: ``{"sub", "name", "email", "role"}``."""
    user = current_principal()
    return json_response(auth_api.current_request, {
        "sub": user.subject, "name": user.name, "email": user.email, "role": user.role.label})


@auth_api.route("/api/keys", methods=["GET"])
@access.role("admin")
@api_errors
def list_keys():
    """Every API key without its secret (ids, names, scopes, created/last used/revoked)."""
    return json_response(auth_api.current_request, {"keys": gate().list_keys()})


@auth_api.route("/api/keys", methods=["POST"])
@access.role("admin")
@api_errors
def create_key():
    """A new key; the reply is the only time its secret is shown (``key``)."""
    try:
        wanted = NewApiKey.model_validate(json_body(auth_api.current_request))
    except ValidationError as exc:
        raise InvalidInput("the key request was refused", pydantic_details(exc)) from None
    key, record = gate().create_key(list(wanted.scopes), wanted.name, current_principal().subject)
    return Response(body=json.dumps({**record.public(None), "key": key}), status_code=201,
                    headers=NO_STORE)


@auth_api.route("/api/keys/{key_id}", methods=["DELETE"])
@access.role("admin")
@api_errors
def revoke_key(key_id: str):
    """Revoke a key: this process refuses it at once, every other within the key cache TTL."""
    if not looks_like_key_id(key_id):
        raise NotFound("no API key has that id", [{"field": "id", "message": "not an API key id"}])
    record = gate().revoke_key(key_id, current_principal().subject)
    if record is None:
        raise NotFound(f"API key {key_id} does not exist")
    last_used = gate().repository().last_used([key_id]).get(key_id)
    return json_response(auth_api.current_request, record.public(last_used))

# The access check (middleware) reads keys and counts each key's requests; the key routes manage them.
uses(__name__, API_HANDLER, reads=("auth",), writes=("auth",))
