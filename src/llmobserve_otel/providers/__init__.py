"""The provider registry: which module knows the API served at a host.

Each provider module holds its hosts, routes and usage parsing (see `_types.ProviderModule`).
`LLMOBSERVE_PROVIDER_HOSTS` adds hosts for self-hosted or compatible endpoints:
`host[:port]=provider,...`, e.g. `127.0.0.1:8001=openai,my-gw.internal=anthropic`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from types import ModuleType

from llmobserve_otel.providers._types import ProviderModule, Route, StreamState, Usage

__all__ = ("PROVIDERS", "ProviderModule", "Registry", "Route", "StreamState", "Usage", "load")

_log = logging.getLogger(__name__)

# Provider id -> module name in this package.
PROVIDERS: Mapping[str, str] = {
    "anthropic": "anthropic",
    "openai": "openai",
}


def load(provider: str) -> ProviderModule:
    """The module for provider id `provider` (KeyError when unknown)."""
    module: ModuleType = importlib.import_module(f"{__name__}.{PROVIDERS[provider]}")
    return module  # type: ignore[return-value]


class Registry:
    """Host (with or without port) -> provider module."""

    def __init__(self, extra_hosts: str | None = None) -> None:
        self._hosts: dict[str, ProviderModule] = {}
        for provider in PROVIDERS:
            module = load(provider)
            for host in module.HOSTS:
                self._hosts[host] = module
        for host, provider in parse_host_mappings(extra_hosts or ""):
            self._hosts[host] = load(provider)

    def lookup(self, host: str, port: int | None = None) -> ProviderModule | None:
        """The provider serving `host[:port]`; an entry with the port wins over the bare host."""
        host = host.lower()
        if port is not None:
            found = self._hosts.get(f"{host}:{port}")
            if found is not None:
                return found
        return self._hosts.get(host)

    def hosts(self) -> dict[str, str]:
        """host -> provider id, for display."""
        return {host: module.NAME for host, module in sorted(self._hosts.items())}


def parse_host_mappings(value: str) -> list[tuple[str, str]]:
    """Parse `host[:port]=provider,...`; malformed or unknown entries are logged and skipped."""
    pairs: list[tuple[str, str]] = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, provider = item.partition("=")
        host, provider = host.strip().lower(), provider.strip().lower()
        if not sep or not host or provider not in PROVIDERS:
            _log.warning(
                "LLMOBSERVE_PROVIDER_HOSTS: ignoring %r (expected host[:port]=provider, provider one of %s)",
                item,
                ", ".join(sorted(PROVIDERS)),
            )
            continue
        pairs.append((host, provider))
    return pairs
