"""One error shape, everywhere: every answer under /api/ and /webhooks/ with a status of 400 or
more is ``{"error": {"code", "message", "details"}}`` with the security headers, whoever made
it — a view, the access check, or Chalice itself (405, 415, a view's unexpected exception)."""
from __future__ import annotations

import json

import pytest
from chalice import Chalice, Response

from tests.conftest import client_wired_like_app

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                    "Referrer-Policy": "no-referrer",
                    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"}


def assert_error(reply, status: int) -> dict:
    assert reply.status_code == status, (reply.status_code, reply.body)
    body = json.loads(reply.body)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    for name, value in SECURITY_HEADERS.items():
        assert reply.headers[name] == value, name
    assert reply.headers["Content-Type"] == "application/json"
    return body["error"]


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/kpis", ["GET"]), ("PUT", "/api/keys", ["GET", "POST"]),
    ("PATCH", "/api/ingest/purchase", ["POST"]), ("POST", "/api/health", ["GET"]),
])
def test_a_method_the_route_does_not_take_is_a_405_in_our_shape_with_allow(api, method, path, allowed):
    error = assert_error(api.http.request(method, path), 405)
    assert error["code"] == "method_not_allowed"
    assert error["message"] == f"{path} does not take {method}; it takes {', '.join(allowed)}"
    assert error["details"] == [{"field": "method", "allowed": allowed}]
    assert "Code" not in json.dumps(error)


def test_the_405_allow_header_lists_the_methods_the_path_takes(api):
    reply = api.http.request("DELETE", "/api/keys")
    assert reply.headers["Allow"] == "GET, POST, OPTIONS"


@pytest.mark.parametrize("method, path", [("POST", "/api/ingest/purchase"), ("POST", "/api/metrics"),
                                          ("POST", "/api/keys")])
def test_a_body_that_is_not_json_is_a_415_saying_what_to_send(api, method, path):
    reply = api.http.request(method, path, headers={"content-type": "text/plain"}, body=b"{}")
    error = assert_error(reply, 415)
    assert error["code"] == "unsupported_media_type"
    assert error["message"] == "send Content-Type: application/json"
    assert error["details"] == [{"field": "Content-Type", "accepted": ["application/json"]}]


@pytest.mark.parametrize("path", ["/api/kpis", "/api/hosts", "/api/health"])
def test_a_get_with_a_non_json_content_type_is_a_415_in_our_shape(api, path):
    error = assert_error(api.http.get(path, headers={"content-type": "text/xml"}), 415)
    assert error["message"].startswith("send Content-Type: application/json")


def test_a_415_never_repeats_a_credential(api, issuer):
    token = issuer.token("viewer")
    reply = api.http.get("/api/kpis", headers={"content-type": "text/plain", "authorization": f"Bearer {token}"})
    assert_error(reply, 415)
    assert token not in reply.body.decode() and token not in json.dumps(dict(reply.headers))


@pytest.fixture
def app_with_surprises(anonymous_api, access_gate):
    """An app wired like app.py with views that fail the ways a view can: an exception without
    ``api_errors``, Chalice's own errors, a body not in the shape."""
    from chalice import BadRequestError, NotFoundError

    from chalicelib.auth import access
    app = Chalice(app_name="surprises")

    @app.route("/api/boom")
    @access.public
    def boom():
        raise RuntimeError("secret detail that must stay in the log")

    @app.route("/api/chalice-400")
    @access.public
    def chalice_400():
        raise BadRequestError("that was not right")

    @app.route("/webhooks/missing")
    @access.public
    def missing():
        raise NotFoundError("no such thing")

    @app.route("/api/plain")
    @access.public
    def plain():
        return Response(body="nope", status_code=409, headers={"Content-Type": "text/plain"})

    @app.route("/auth/oauth-style")
    @access.public
    def oauth_style():
        return Response(body=json.dumps({"error": "invalid_grant"}), status_code=400,
                        headers={"Content-Type": "application/json"})

    yield from client_wired_like_app(app)


def test_an_unexpected_exception_is_a_500_in_our_shape_that_tells_nothing(app_with_surprises):
    reply = app_with_surprises.http.get("/api/boom")
    error = assert_error(reply, 500)
    assert error["code"] == "internal" and "secret" not in reply.body.decode()


def test_chalices_own_view_errors_are_in_our_shape(app_with_surprises):
    assert assert_error(app_with_surprises.http.get("/api/chalice-400"), 400) == {
        "code": "bad_request", "message": "that was not right", "details": []}
    assert assert_error(app_with_surprises.http.get("/webhooks/missing"), 404)["code"] == "not_found"


def test_an_error_body_outside_the_shape_under_api_is_replaced_not_repeated(app_with_surprises):
    reply = app_with_surprises.http.get("/api/plain")
    error = assert_error(reply, 409)
    assert error["code"] == "conflict" and "nope" not in reply.body.decode()


def test_oauth_errors_under_auth_keep_their_rfc_6749_shape(app_with_surprises):
    reply = app_with_surprises.http.get("/auth/oauth-style")
    assert reply.status_code == 400 and json.loads(reply.body) == {"error": "invalid_grant"}


def test_the_helper_for_a_server_in_front_of_the_app_answers_unrouted_requests_in_our_shape(issuer):
    from chalicelib.web import unrouted_error_response
    config = issuer.settings(cors_origins=("http://127.0.0.1:8000",))
    token = "eyJhbGciOi.secret.token"
    headers = {"origin": "http://127.0.0.1:8000", "authorization": f"Bearer {token}"}

    not_found = unrouted_error_response(404, "GET", "/api/nope", headers, config).to_dict()
    body = json.loads(not_found["body"])
    assert not_found["statusCode"] == 404 and body["error"]["code"] == "not_found"
    assert not_found["headers"]["X-Frame-Options"] == "DENY"
    assert not_found["headers"]["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
    assert token not in json.dumps(not_found)

    wrong_method = unrouted_error_response(405, "PUT", "/api/kpis", headers, config, ("GET",)).to_dict()
    assert wrong_method["statusCode"] == 405 and wrong_method["headers"]["Allow"] == "GET, OPTIONS"
    assert json.loads(wrong_method["body"])["error"]["details"] == [{"field": "method", "allowed": ["GET"]}]
