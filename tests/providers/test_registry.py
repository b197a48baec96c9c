"""The provider registry: every listed provider loads, host patterns, user mappings, runtime adds."""

from __future__ import annotations

import pytest

from llmobserve_otel.providers import PROVIDERS, Registry, load, loaded


def test_every_loaded_module_names_its_own_provider_id() -> None:
    for provider, module in loaded().items():
        assert provider == module.NAME
        assert module.HOSTS, provider  # a pattern or a host, so the registry can claim it


def test_every_listed_provider_has_a_module() -> None:
    missing = sorted(set(PROVIDERS) - set(loaded()))
    assert missing == []


def test_patterns_match_subdomains_and_cache_the_answer() -> None:
    registry = Registry("*.gw.internal=openai")
    assert registry.lookup("eu.gw.internal") is load("openai")
    assert registry.lookup("EU.GW.INTERNAL") is load("openai")
    assert registry.lookup("gw.internal") is None  # `*.` needs a subdomain
    assert registry.lookup("eu.gw.internal.evil.com") is None
    assert registry._cache == {
        "eu.gw.internal": load("openai"),
        "gw.internal": None,
        "eu.gw.internal.evil.com": None,
    }


def test_exact_host_with_port_wins_over_pattern() -> None:
    registry = Registry("*.local=openai,api.x.local:8443=anthropic")
    assert registry.lookup("api.x.local", 8443) is load("anthropic")
    assert registry.lookup("api.x.local", 443) is load("openai")


def test_add_maps_a_host_at_run_time_and_forgets_cached_misses() -> None:
    registry = Registry()
    assert registry.lookup("127.0.0.1", 9) is None
    registry.add("127.0.0.1:9", "anthropic")
    assert registry.lookup("127.0.0.1", 9) is load("anthropic")
    with pytest.raises(KeyError):
        registry.add("127.0.0.1:10", "no-such-provider")
