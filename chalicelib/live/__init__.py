"""Live: changes pushed to browsers over WebSocket (API Gateway's WebSocket API on AWS, the
local runner's WebSocket server on one machine; the same three handlers serve both).

- ``topics``: the topics, who may read each, and which stored changes touch which topic (pure);
- ``protocol``: what a client sends over the socket (pydantic);
- ``repository``: the ``connections`` table (connections and their subscriptions, with TTL);
- ``sessions``: connect / subscribe / renew / disconnect;
- ``push``: the change stream → one "changed" notice per topic per batch → subscribers;
- ``management``: the management API (``post_to_connection``) a handler sends through;
- ``handlers``: the Chalice blueprint (``on_ws_*`` and the stream registrations).
"""
from __future__ import annotations


def repository():
    from ..storage import default_store
    from .repository import ConnectionsRepository
    return ConnectionsRepository(default_store())
