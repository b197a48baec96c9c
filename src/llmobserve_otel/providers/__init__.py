"""The provider registry: which module knows the API served at a host.

Each provider module holds its hosts, routes and usage parsing (see `_types.ProviderModule`).
`LLMOBSERVE_PROVIDER_HOSTS` adds hosts for self-hosted or compatible endpoints:
`host[:port]=provider,...`, e.g. `127.0.0.1:8001=openai,my-gw.internal=anthropic`.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Mapping
from fnmatch import fnmatchcase
from types import ModuleType

from llmobserve_otel.providers._types import ProviderModule, Route, StreamState, Usage

__all__ = ("PROVIDERS", "ProviderModule", "Registry", "Route", "StreamState", "Usage", "load", "loaded")

_log = logging.getLogger(__name__)

# Provider id (`llmobserve.provider`) -> module name in this package, grouped as the coverage table is.
PROVIDERS: Mapping[str, str] = {
    # LLMs
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "cohere": "cohere",
    "mistral": "mistral",
    "groq": "groq",
    "ai21": "ai21",
    "huggingface": "huggingface",
    "together": "together",
    "replicate": "replicate",
    "perplexity": "perplexity",
    "azure_openai": "azure_openai",
    "bedrock": "bedrock",
    # voice
    "elevenlabs": "elevenlabs",
    "assemblyai": "assemblyai",
    "deepgram": "deepgram",
    "playht": "playht",
    "azure_speech": "azure_speech",
    "polly": "polly",
    "transcribe": "transcribe",
    # images / video
    "stability": "stability",
    "runway": "runway",
    "rekognition": "rekognition",
    # embeddings
    "voyage": "voyage",
    # vector databases
    "pinecone": "pinecone",
    "weaviate": "weaviate",
    "qdrant": "qdrant",
    "milvus": "milvus",
    "chroma": "chroma",
    "mongodb": "mongodb",
    "redis": "redis",
    "elasticsearch": "elasticsearch",
    # payments, messaging, search
    "stripe": "stripe",
    "paypal": "paypal",
    "twilio": "twilio",
    "sendgrid": "sendgrid",
    "algolia": "algolia",
}


def load(provider: str) -> ProviderModule:
    """The module for provider id `provider` (KeyError when unknown)."""
    module: ModuleType = importlib.import_module(f"{__name__}.{PROVIDERS[provider]}")
    return module  # type: ignore[return-value]


def loaded() -> dict[str, ProviderModule]:
    """Provider id -> module, for every provider whose module imports (a broken one is logged, not fatal)."""
    modules: dict[str, ProviderModule] = {}
    for provider in PROVIDERS:
        try:
            modules[provider] = load(provider)
        except Exception as exc:  # one broken provider module must not take capture down for all
            missing = isinstance(exc, ModuleNotFoundError) and exc.name == f"{__name__}.{PROVIDERS[provider]}"
            (_log.debug if missing else _log.warning)("llmobserve: provider %r not loaded: %r", provider, exc)
    return modules


class Registry:
    """Host (with or without port) -> provider module.

    Exact entries (`api.openai.com`, `127.0.0.1:8001`) are dict lookups; patterns with `*`
    (`*.openai.azure.com`, `bedrock-runtime.*.amazonaws.com`) are tried after them, and the
    answer for each host is cached (bounded), so the hot path stays one dict lookup. The provider
    modules are imported at the first lookup, not at `observe()`: start-up stays fast.
    """

    _CACHE_MAX = 4096

    def __init__(self, extra_hosts: str | None = None) -> None:
        self._extra = parse_host_mappings(extra_hosts or "")  # malformed entries are reported now
        self._hosts: dict[str, ProviderModule] | None = None
        self._patterns: list[tuple[str, ProviderModule]] = []
        self._cache: dict[str, ProviderModule | None] = {}
        self._lock = threading.Lock()

    def _build(self) -> dict[str, ProviderModule]:
        with self._lock:
            if self._hosts is None:
                hosts: dict[str, ProviderModule] = {}
                for module in loaded().values():
                    for host in module.HOSTS:
                        self._add(hosts, host, module)
                for host, provider in self._extra:
                    self._add(hosts, host, load(provider), first=True)
                self._hosts = hosts
            return self._hosts

    def add(self, host: str, provider: str) -> None:
        """Map `host[:port]` (or a `*` pattern) to provider id `provider`, as LLMOBSERVE_PROVIDER_HOSTS does."""
        hosts = self._hosts if self._hosts is not None else self._build()
        self._add(hosts, host, load(provider), first=True)
        self._cache.clear()

    def _add(
        self, hosts: dict[str, ProviderModule], host: str, module: ProviderModule, first: bool = False
    ) -> None:
        host = host.lower()
        if "*" not in host:
            hosts[host] = module
        elif first:  # user mappings win over built-in patterns
            self._patterns.insert(0, (host, module))
        else:
            self._patterns.append((host, module))

    def lookup(self, host: str, port: int | None = None) -> ProviderModule | None:
        """The provider serving `host[:port]`; an entry with the port wins over the bare host."""
        hosts = self._hosts if self._hosts is not None else self._build()
        host = host.lower()
        if port is not None:
            found = hosts.get(f"{host}:{port}")
            if found is not None:
                return found
        found = hosts.get(host)
        if found is not None or not self._patterns:
            return found
        try:
            return self._cache[host]
        except KeyError:
            pass
        match = next((module for pattern, module in self._patterns if fnmatchcase(host, pattern)), None)
        if len(self._cache) >= self._CACHE_MAX:
            self._cache.clear()
        self._cache[host] = match
        return match

    def hosts(self) -> dict[str, str]:
        """host or pattern -> provider id, for display."""
        hosts = self._hosts if self._hosts is not None else self._build()
        entries = {host: module.NAME for host, module in hosts.items()}
        entries.update((pattern, module.NAME) for pattern, module in self._patterns)
        return dict(sorted(entries.items()))


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
