"""Outbound HTTP to URLs users give (Slack and webhook channels), refusing private addresses.

In prod a channel's URL may not reach the app's own network: loopback, private, link-local
(the cloud metadata service at 169.254.169.254), carrier-grade NAT, multicast or reserved
addresses are refused (SSRF). The check is made where it counts, on the address the socket
connects to, after DNS: a name that resolves to a public address when the channel is saved and
to a private one later (DNS rebinding) is still refused. Redirects are not followed. The dev
stage allows loopback and private addresses, so a receiver on this machine works.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests


class RefusedAddress(OSError):
    """The URL reaches an address outbound requests may not reach; never worth a retry."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def public_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, if all are public; ``RefusedAddress`` otherwise."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RefusedAddress(f"{host} does not resolve ({exc.strerror})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    private = [a for a in addresses if not is_public(a)]
    if private:
        raise RefusedAddress(f"{host} resolves to a private or reserved address ({private[0]}); "
                             "outbound requests may only reach public addresses")
    return addresses


def check_url(url: str, allow_private: bool) -> None:
    """``RefusedAddress`` for a URL outbound requests may not reach (no DNS lookup in dev)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddress("only http and https URLs with a host are allowed")
    if allow_private:
        return
    if parts.scheme != "https":
        raise RefusedAddress("use https:// (plain http is allowed only in the dev stage)")
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith((".localhost", ".internal", ".local")):
            raise RefusedAddress(f"{host} is a local name") from None
        return  # a name: judged on the addresses it resolves to when a message is sent
    if not is_public(str(literal)):
        raise RefusedAddress(f"{host} is a private or reserved address")


def outbound_session(allow_private: bool) -> "requests.Session":
    """A ``requests`` session for user-given URLs: no proxies from the environment, no
    redirects, and (unless ``allow_private``) connections only to public addresses, checked
    on the address connected to. requests and urllib3 load here, on the first send, not when
    the app loads: most cold starts never send (~75 ms of import)."""
    from .public_http import public_only_session
    return public_only_session(allow_private)


def refused(exc: BaseException) -> RefusedAddress | None:
    """The ``RefusedAddress`` behind a requests error, if that is what it was."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, RefusedAddress):
            return current
        stack += [current.__cause__, current.__context__, *[a for a in current.args
                                                             if isinstance(a, BaseException)]]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return None
