"""Live push: the WebSocket handlers with API Gateway's event payloads, connections on both
engines, and "changed" notices from the change stream through the local WebSocket API (real
sockets, the management API over loopback HTTP through boto3), as `make run` serves them."""
import copy
import json
import socket
import time
from dataclasses import replace
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from chalicelib.config import settings

from chalicelib.live.repository import ConnectionsRepository
from chalicelib.local.websocket import LocalWebSocketApi, websocket_event
from chalicelib.local.worker import LambdaContext, LocalWorker
from chalicelib.storage import use_store
from tests.conftest import SignedInClient, _client_on

CONNECT = json.loads((Path(__file__).parents[1] / "fixtures" / "apigw-websocket" / "connect.json").read_text())
JSON = {"content-type": "application/json"}
#: a guard against a hang, never a speed limit
RECV_S = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_store(store, access_gate, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")  # Lambda's own; Chalice reads it on each event
    use_store(store)
    yield store
    use_store(None)


@pytest.fixture
def api(live_store, access_gate, issuer):
    from chalicelib.auth.api_keys import INGEST_SCOPES
    for client in _client_on(live_store):
        key, _record = access_gate.create_key(list(INGEST_SCOPES), "tests", "tests")
        yield SignedInClient(client, {"authorization": f"Bearer {issuer.token('admin')}", "x-api-key": key})


@pytest.fixture
def server(live_store):
    from app import app
    api = LocalWebSocketApi(app, "127.0.0.1", free_port(), free_port())
    api.start()
    yield api
    api.stop()


def ws_url(server, token: str | None) -> str:
    return f"ws://{server.host}:{server.port}/" + (f"?token={token}" if token is not None else "")


def subscribe(ws, *topics: str) -> dict:
    ws.send(json.dumps({"action": "subscribe", "topics": list(topics)}))
    return json.loads(ws.recv(timeout=RECV_S))


def purchase(order_id: str, amount: int = 1000) -> dict:
    return {"orderId": order_id, "productId": "p-1", "productName": "Product 1", "amount": amount,
            "currency": "USD", "userId": "u-1", "sessionId": "s-1", "timestamp": int(time.time() * 1000) - 1000}


def post_purchases(api, *order_ids: str) -> None:
    reply = api.http.post("/api/ingest/purchase", headers=JSON, body=json.dumps([purchase(o) for o in order_ids]))
    assert reply.status_code == 200, reply.body


def connect_event(token: str | None) -> dict:
    event = copy.deepcopy(CONNECT)
    if token is None:
        del event["queryStringParameters"], event["multiValueQueryStringParameters"]
    else:
        event["queryStringParameters"]["token"] = token
        event["multiValueQueryStringParameters"]["token"] = [token]
    return event


def handler(name: str):
    from app import app
    return lambda event: app.handler_map[name](event, LambdaContext(name))


def deliver(store) -> None:
    from app import app
    worker = LocalWorker(app, store, settings().table_prefix)
    while worker.deliver_changes():
        pass


def repo(store) -> ConnectionsRepository:
    return ConnectionsRepository(store)


# -- $connect with API Gateway's payload --------------------------------------------------------
def test_connect_with_a_good_token_stores_the_connection_with_its_role(live_store, issuer):
    answer = handler("liveConnect")(connect_event(issuer.token("operator")))
    assert answer == {"statusCode": 200}
    conn = repo(live_store).get("SbDpWeFMoAMCIhw=")
    assert conn.role == 2 and conn.topics == ()
    assert conn.endpoint == "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod"
    assert conn.expires_at > time.time() * 1000


@pytest.mark.parametrize("token", [None, "", "not-a-jwt", "EXPIRED", "FOREIGN"])
def test_connect_with_a_missing_bad_or_expired_token_is_refused_and_stores_nothing(live_store, issuer, token, caplog):
    if token == "EXPIRED":
        token = issuer.token("admin", exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    elif token == "FOREIGN":
        import jwt
        from cryptography.hazmat.primitives.asymmetric import rsa
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode({"sub": "x", "exp": int(time.time()) + 600}, key, algorithm="RS256",
                           headers={"kid": "not-ours"})
    answer = handler("liveConnect")(connect_event(token))
    assert answer["statusCode"] == 401
    assert json.loads(answer["body"])["error"]["code"] == "unauthenticated"
    assert repo(live_store).get("SbDpWeFMoAMCIhw=") is None
    if token:
        assert token not in caplog.text and token not in answer["body"]


def test_disconnect_deletes_the_connection_and_its_subscriptions(live_store, issuer, server):
    with connect(ws_url(server, issuer.token("viewer"))) as ws:
        assert subscribe(ws, "kpis", "alerts")["topics"] == ["kpis", "alerts"]
        assert len(list(repo(live_store).subscribers("kpis"))) == 1
    deadline = time.monotonic() + RECV_S  # the $disconnect runs after the socket closed
    while list(repo(live_store).subscribers("kpis")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(repo(live_store).subscribers("kpis")) == []
    assert list(repo(live_store).subscribers("alerts")) == []


# -- over the local WebSocket API ---------------------------------------------------------------
def test_the_local_server_refuses_a_bad_token_at_the_handshake(live_store, server):
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(server, "bad"))
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus):
        connect(ws_url(server, None))


def test_a_viewer_subscribing_to_an_admin_only_topic_gets_only_the_readable_ones(live_store, issuer, server):
    with connect(ws_url(server, issuer.token("viewer"))) as ws:
        reply = subscribe(ws, "kpis", "notifications", "host:db-1", "nonsense", "host:")
    assert reply["type"] == "subscribed" and reply["topics"] == ["kpis", "host:db-1"]
    assert {r["topic"]: r["message"] for r in reply["refused"]} == {
        "notifications": "needs the admin role", "nonsense": "no such topic", "host:": "no such topic"}


def test_a_message_that_is_not_an_action_gets_the_one_error_shape(live_store, issuer, server):
    with connect(ws_url(server, issuer.token("viewer"))) as ws:
        ws.send("{not json")
        first = json.loads(ws.recv(timeout=RECV_S))
        ws.send(json.dumps({"action": "subscribe", "topics": "kpis"}))
        second = json.loads(ws.recv(timeout=RECV_S))
    for reply in (first, second):
        assert reply["type"] == "error" and reply["error"]["code"] == "invalid_input"
        assert isinstance(reply["error"]["details"], list)


def test_purchases_push_one_kpis_notice_per_batch_carrying_the_etag_of_get_kpis(api, live_store, issuer, server):
    with connect(ws_url(server, issuer.token("viewer"))) as ws:
        subscribe(ws, "kpis")
        post_purchases(api, "o-0", "o-1", "o-2")
        deliver(live_store)
        notice = json.loads(ws.recv(timeout=RECV_S))
        assert notice == {"type": "changed", "topic": "kpis", "etag": notice["etag"]}
        assert api.http.get("/api/kpis").headers["ETag"] == notice["etag"]
        # Three purchases, one batch: one notice. The next message is the next batch's.
        post_purchases(api, "o-9")
        deliver(live_store)
        following = json.loads(ws.recv(timeout=RECV_S))
        assert following["topic"] == "kpis" and following["etag"] != notice["etag"]


def test_a_viewer_never_receives_an_admin_only_topic(api, live_store, issuer, server):
    from chalicelib import alerts
    with connect(ws_url(server, issuer.token("viewer"))) as viewer, \
            connect(ws_url(server, issuer.token("admin"))) as admin:
        subscribe(viewer, "kpis", "notifications")
        subscribe(admin, "kpis", "notifications")
        # Even a subscription stored behind the subscribe check's back is never served.
        conn = repo(live_store).get(next(iter(s.id for s in repo(live_store).subscribers("kpis")
                                               if repo(live_store).get(s.id).role == 1)))
        repo(live_store).save(replace(conn, topics=(*conn.topics, "notifications")), previous=conn)
        alerts.repository().log({"at": int(time.time() * 1000), "id": "n-1", "channel": "c-1", "status": "sent"})
        deliver(live_store)
        assert json.loads(admin.recv(timeout=RECV_S))["topic"] == "notifications"
        post_purchases(api, "o-1")
        deliver(live_store)
        assert json.loads(viewer.recv(timeout=RECV_S))["topic"] == "kpis"  # not notifications before it
        assert json.loads(admin.recv(timeout=RECV_S))["topic"] == "kpis"


def test_a_notice_to_a_gone_connection_removes_it(api, live_store, issuer, server):
    # A connection API Gateway lost without a $disconnect: its send answers GoneException.
    handler("liveConnect")(websocket_event("$connect", "gone-conn=", server.domain_name, "local",
                                           query={"token": issuer.token("viewer")}))
    conn = repo(live_store).get("gone-conn=")
    repo(live_store).save(replace(conn, topics=("kpis",)), previous=conn)
    post_purchases(api, "o-1")
    deliver(live_store)
    assert repo(live_store).get("gone-conn=") is None
    assert list(repo(live_store).subscribers("kpis")) == []


def test_an_expired_connection_is_closed_at_its_next_notice_and_a_renewed_one_is_not(api, live_store, issuer, server):
    with connect(ws_url(server, issuer.token("viewer"))) as stale, \
            connect(ws_url(server, issuer.token("viewer"))) as renewed:
        subscribe(stale, "kpis")
        subscribe(renewed, "kpis")
        for s in list(repo(live_store).subscribers("kpis")):  # both tokens "expire"
            conn = repo(live_store).get(s.id)
            repo(live_store).save(replace(conn, expires_at=int(time.time() * 1000) - 1), previous=conn)
        renewed.send(json.dumps({"action": "renew", "token": issuer.token("viewer")}))
        answer = json.loads(renewed.recv(timeout=RECV_S))
        assert answer["type"] == "renewed" and answer["expiresAt"] > time.time() * 1000
        post_purchases(api, "o-1")
        deliver(live_store)
        assert json.loads(renewed.recv(timeout=RECV_S))["topic"] == "kpis"
        with pytest.raises(ConnectionClosed) as closed:
            stale.recv(timeout=RECV_S)
        assert closed.value.rcvd.code == 1008


def test_renewing_with_another_users_token_is_refused(live_store, issuer, server):
    with connect(ws_url(server, issuer.token("viewer"))) as ws:
        ws.send(json.dumps({"action": "renew", "token": issuer.token("admin")}))
        reply = json.loads(ws.recv(timeout=RECV_S))
    assert reply["type"] == "error" and reply["error"]["code"] == "forbidden"


def test_a_message_after_the_token_expired_is_refused_and_closes_the_connection(live_store, issuer, server):
    with connect(ws_url(server, issuer.token("viewer"))) as ws:
        subscribe(ws, "kpis")
        [sub] = list(repo(live_store).subscribers("kpis"))
        conn = repo(live_store).get(sub.id)
        repo(live_store).save(replace(conn, expires_at=int(time.time() * 1000) - 1), previous=conn)
        ws.send(json.dumps({"action": "subscribe", "topics": ["alerts"]}))
        reply = json.loads(ws.recv(timeout=RECV_S))
        assert reply["type"] == "error" and reply["error"]["code"] == "token_expired"
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=RECV_S)


def test_an_idle_connection_whose_token_expired_is_closed_by_the_minutely_sweep(live_store, issuer, server):
    from app import app
    with connect(ws_url(server, issuer.token("viewer"))) as idle, \
            connect(ws_url(server, issuer.token("viewer"))) as fresh:
        subscribe(idle, "kpis")
        subscribe(fresh, "alerts")
        [sub] = list(repo(live_store).subscribers("kpis"))
        conn = repo(live_store).get(sub.id)
        repo(live_store).save(replace(conn, expires_at=int(time.time() * 1000) - 1), previous=conn)
        answer = app.handler_map["closeExpiredConnections"](
            {"id": "x", "detail-type": "Scheduled Event", "source": "aws.events", "account": "0",
             "time": "2026-12-03T00:00:00Z", "region": "us-east-1", "resources": [], "detail": {}, "version": "0"},
            LambdaContext("closeExpiredConnections"))
        assert answer == {"closed": 1}
        with pytest.raises(ConnectionClosed) as closed:
            idle.recv(timeout=RECV_S)
        assert closed.value.rcvd.code == 1008
        assert repo(live_store).get(sub.id) is None
        fresh.send(json.dumps({"action": "subscribe", "topics": ["kpis"]}))
        assert json.loads(fresh.recv(timeout=RECV_S))["topics"] == ["kpis"]


def test_a_declared_incident_pushes_an_incidents_notice_with_the_etag_of_the_list(api, live_store, issuer, server):
    with connect(ws_url(server, issuer.token("viewer"))) as ws:
        subscribe(ws, "incidents")
        reply = api.http.post("/api/incidents", headers=JSON,
                              body=json.dumps({"title": "Checkout down", "severity": "HIGH", "service": "checkout"}))
        assert reply.status_code == 201, reply.body
        deliver(live_store)
        notice = json.loads(ws.recv(timeout=RECV_S))
        assert notice["topic"] == "incidents"
        assert api.http.get("/api/incidents").headers["ETag"] == notice["etag"]
