"""Who a request comes from, for rate limits and login throttling: one rule for the API, the
Gradio screens and the staff login, so a client cannot dodge a limit by switching doors.

Behind proxies (`api.trust_forwarded_for`) the X-Forwarded-For chain is read from the right:
each proxy appends the address it received the request from, so only the entries your own
proxies added can be believed; anything to their left was written by the client. The
client is the first address from the right that is not one of your proxies, counted either
by `api.proxy_hops` or by matching `api.trusted_proxies`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from core.settings import ApiSettings

UNKNOWN = "unknown"


def client_address(peer: str | None, headers: Mapping[str, str], api: ApiSettings) -> str:
    """The address a limit counts for a request from `peer` (the TCP connection's address)."""
    peer = peer or UNKNOWN
    if not api.trust_forwarded_for:
        return peer
    forwarded = [a.strip() for a in headers.get("x-forwarded-for", "").split(",") if a.strip()]
    chain = [*forwarded, peer]  # oldest hop first; the connection is the last proxy
    if api.trusted_proxies:
        networks = _networks(api.trusted_proxies)
        if not _trusted(peer, networks):
            return peer  # a forwarded header from a stranger says nothing
        for address in reversed(chain):
            if not _trusted(address, networks):
                return address
        return chain[0]
    past_proxies = chain[: len(chain) - api.proxy_hops]
    return past_proxies[-1] if past_proxies else chain[0]


def _networks(
    entries: list[str],
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(e, strict=False) for e in entries]


def _trusted(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)
