"""The API Gateway management API a handler sends through (``post_to_connection``,
``delete_connection``), one client per endpoint (``https://<domain>/<stage>``, as the
connect event names it). On AWS a boto3 ``apigatewaymanagementapi`` client; the local
runner's WebSocket server registers a client of the same shape for its own endpoint, so the
handlers take the same path on one machine.
"""
from __future__ import annotations

import json
import threading
from typing import Any

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def endpoint_of(domain_name: str, stage: str) -> str:
    """The management endpoint of the API a connection came through (Chalice's template)."""
    return f"https://{domain_name}/{stage}"


def register(endpoint: str, client: Any | None) -> None:
    """Serve ``endpoint`` with ``client`` (None: forget it). The local runner's server."""
    with _lock:
        if client is None:
            _clients.pop(endpoint, None)
        else:
            _clients[endpoint] = client


def client_for(endpoint: str) -> Any:
    with _lock:
        client = _clients.get(endpoint)
        if client is None:
            import boto3  # AWS only: the local path never loads it
            client = _clients[endpoint] = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
        return client


def send(endpoint: str, connection_id: str, message: dict) -> bool:
    """Post ``message`` (JSON) to the connection; False when it is gone (GoneException)."""
    client = client_for(endpoint)
    try:
        client.post_to_connection(ConnectionId=connection_id,
                                  Data=json.dumps(message, separators=(",", ":")).encode())
    except client.exceptions.GoneException:
        return False
    return True


def close(endpoint: str, connection_id: str) -> None:
    """Close the connection (its $disconnect follows); gone already is fine."""
    client = client_for(endpoint)
    try:
        client.delete_connection(ConnectionId=connection_id)
    except client.exceptions.GoneException:
        pass
