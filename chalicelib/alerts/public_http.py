"""The HTTP half of ``outbound``: a requests session whose connections go only to public
addresses (``outbound.public_addresses``), checked right before each connect. Its own module
so that requests and urllib3 load on the first send, not with the app."""
from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import outbound


class _PublicOnly:
    """Connects only to a public address of the host, checked right before connecting; TLS
    still verifies the certificate against the host name."""

    def _new_conn(self):  # type: ignore[override]
        address = outbound.public_addresses(self._dns_host, self.port)[0]
        name = self._dns_host
        self._dns_host = address  # the address just checked is the one connected to
        try:
            return super()._new_conn()  # type: ignore[misc]
        finally:
            self._dns_host = name  # TLS (SNI, certificate) uses the name


class _PublicHTTPConnection(_PublicOnly, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnly, HTTPSConnection):
    pass


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}


def public_only_session(allow_private: bool) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the address checked is the one used
    session.max_redirects = 0
    if not allow_private:
        adapter = _PublicOnlyAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session
