"""Internal or third-party: decides where baggage (customer ids, section paths) may be sent.

Internal: loopback, private and link-local addresses, single-label names, the usual private
DNS suffixes, the llmobserve proxy, and whatever `LLMOBSERVE_INTERNAL_HOSTS` lists (hosts or
`.suffix`es). Everything else is a third party and gets no baggage.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from urllib.parse import urlsplit

_PRIVATE_SUFFIXES = (".local", ".internal", ".localhost", ".svc", ".cluster.local", ".lan", ".home.arpa")


def _configured() -> tuple[frozenset[str], tuple[str, ...]]:
    hosts: set[str] = set()
    suffixes: list[str] = []
    for item in os.environ.get("LLMOBSERVE_INTERNAL_HOSTS", "").split(","):
        item = item.strip().lower()
        if item.startswith("."):
            suffixes.append(item)
        elif item:
            hosts.add(item)
    proxy = os.environ.get("LLMOBSERVE_PROXY_URL")
    if proxy:
        host = urlsplit(proxy).hostname
        if host:
            hosts.add(host.lower())
    return frozenset(hosts), tuple(suffixes)


@lru_cache(maxsize=4096)
def is_internal(host: str) -> bool:
    """True when `host` (name or IP literal, without port) belongs to the app's own network."""
    host = host.lower().strip("[]")
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return address.is_loopback or address.is_private or address.is_link_local
    hosts, suffixes = _configured()
    if host in hosts or host == "localhost" or "." not in host:
        return True
    return host.endswith(_PRIVATE_SUFFIXES) or host.endswith(suffixes)


def reset_cache() -> None:
    """Forget cached decisions (after the environment changed, e.g. in tests)."""
    is_internal.cache_clear()
