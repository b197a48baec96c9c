"""The routing table and the URL rewrite, as pure functions (the URL contract of the proxy)."""

from __future__ import annotations

import ipaddress

import pytest

from llmobserve_otel.capture._proxy_route import ProxyRoute, reroute_url
from llmobserve_otel.proxy._headers import client_response_headers, upstream_request_headers
from llmobserve_otel.proxy._network import forbidden
from llmobserve_otel.proxy._targets import Refused, Targets


@pytest.fixture(scope="module")
def targets() -> Targets:
    return Targets(
        upstreams={"anthropic": "http://127.0.0.1:8002/base"},
        allow_hosts=["api.example.com", "*.corp.example", "10.1.2.3:8080", "[::1]:9"],
        provider_hosts="llm.internal:8001=openai",
    )


@pytest.mark.parametrize(
    ("path", "query", "url", "provider"),
    [
        (b"/openai/v1/chat/completions", b"", "https://api.openai.com/v1/chat/completions", "openai"),
        (b"/openai/v1/models", b"a=%2F", "https://api.openai.com/v1/models?a=%2F", "openai"),
        (b"/anthropic/v1/messages", b"", "http://127.0.0.1:8002/base/v1/messages", "anthropic"),
        (b"/cohere/v2/chat", b"", "https://api.cohere.com/v2/chat", "cohere"),
        (b"/_/https/api.openai.com/v1/embeddings", b"", "https://api.openai.com/v1/embeddings", "openai"),
        (
            b"/_/https/myres.openai.azure.com/openai/deployments/d/chat/completions",
            b"api-version=2024-10-21",
            "https://myres.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21",
            "azure_openai",
        ),
        (
            b"/_/http/llm.internal:8001/v1/chat/completions",
            b"",
            "http://llm.internal:8001/v1/chat/completions",
            "openai",
        ),
        (b"/_/https/api.example.com/v1/anything", b"", "https://api.example.com/v1/anything", None),
        (b"/_/https/x.corp.example/q", b"", "https://x.corp.example/q", None),
        (b"/_/http/10.1.2.3:8080/q", b"", "http://10.1.2.3:8080/q", None),
        (b"/_/http/[::1]:9/q", b"", "http://::1:9/q", None),
    ],
)
def test_resolve(targets, path, query, url, provider):
    target = targets.resolve(path, query)
    default = {"http": 80, "https": 443}[target.scheme]
    port = "" if target.port == default else f":{target.port}"
    assert f"{target.scheme}://{target.host}{port}{target.target.decode()}" == url
    assert (target.provider.NAME if target.provider else None) == provider


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (b"/_/https/evil.example/x", 403),
        (b"/_/https/corp.example/x", 403),  # *.corp.example is subdomains only
        (b"/_/http/10.1.2.3:8081/x", 403),  # the allowed port only
        (b"/_/https/api.openai.com@evil.example/x", 400),
        (b"/_/https/evil.example%2f.openai.azure.com/x", 400),
        (b"/_/ftp/api.openai.com/x", 400),
        (b"/_/https/", 400),
        (b"/nope/v1/x", 404),
    ],
)
def test_refused(targets, path, status):
    with pytest.raises(Refused) as refused:
        targets.resolve(path, b"")
    assert refused.value.status == status


def test_trusted_only_what_the_operator_named(targets):
    assert targets.is_trusted("127.0.0.1", 8002)
    assert targets.is_trusted("llm.internal", 8001)
    assert not targets.is_trusted("127.0.0.1", 8003)
    assert not targets.is_trusted("api.example.com", 443)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "private"),  # also unspecified; the first reason found is given
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_forbidden_addresses(address, reason):
    assert forbidden(ipaddress.ip_address(address)) == reason


def test_request_headers_drop_hop_by_hop_tracing_and_llmobserve():
    incoming = [
        (b"host", b"127.0.0.1:9000"),
        (b"authorization", b"Bearer sk-x"),
        (b"connection", b"keep-alive, x-drop-me"),
        (b"x-drop-me", b"1"),
        (b"keep-alive", b"timeout=5"),
        (b"te", b"trailers"),
        (b"transfer-encoding", b"chunked"),
        (b"upgrade", b"h2c"),
        (b"proxy-authorization", b"Bearer token"),
        (b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        (b"tracestate", b"a=b"),
        (b"baggage", b"llmobserve.customer.id=acme"),
        (b"x-llmobserve-proxy-token", b"t"),
        (b"content-length", b"999"),
        (b"content-type", b"application/json"),
        (b"x-api-key", b"k"),
    ]
    assert upstream_request_headers(incoming, "api.openai.com", 12) == [
        (b"host", b"api.openai.com"),
        (b"authorization", b"Bearer sk-x"),
        (b"content-type", b"application/json"),
        (b"x-api-key", b"k"),
        (b"content-length", b"12"),
    ]


def test_response_headers_drop_hop_by_hop():
    upstream = [
        (b"content-type", b"text/event-stream"),
        (b"transfer-encoding", b"chunked"),
        (b"connection", b"close"),
        (b"x-request-id", b"req_1"),
        (b"content-encoding", b"gzip"),
    ]
    assert client_response_headers(upstream) == [
        (b"content-type", b"text/event-stream"),
        (b"x-request-id", b"req_1"),
        (b"content-encoding", b"gzip"),
    ]


@pytest.mark.parametrize(
    ("proxy", "url", "expected"),
    [
        (
            "http://127.0.0.1:9000",
            ("https", "api.openai.com", None, b"/v1/chat/completions?x=1"),
            b"/_/https/api.openai.com/v1/chat/completions?x=1",
        ),
        (
            "http://proxy.internal/llm/",
            ("https", "api.openai.com", 443, b"/v1/x"),
            b"/llm/_/https/api.openai.com/v1/x",
        ),
        ("http://127.0.0.1:9000", ("http", "127.0.0.1", 8001, b"/v1/x"), b"/_/http/127.0.0.1:8001/v1/x"),
        ("http://127.0.0.1:9000", ("https", "::1", 8443, b"/v1/x"), b"/_/https/[::1]:8443/v1/x"),
    ],
)
def test_proxy_route_rewrite(proxy, url, expected):
    route = ProxyRoute.parse(proxy, token="t")
    scheme, host, port, raw = route.rewrite(*url)
    assert (host, port) == (route.host, route.port)
    assert (scheme, raw) == ("http", expected)
    assert route.headers == (("Proxy-Authorization", "Bearer t"),)
    # What the proxy makes of the rewritten path is the original URL again.
    targets = Targets(allow_hosts=["127.0.0.1:8001", "[::1]:8443"])
    path = raw.split(b"?", 1)[0][len(route.base_path) :]
    target = targets.resolve(path, raw.partition(b"?")[2])
    assert (target.scheme, target.host, target.target) == (url[0], url[1], url[3])


def test_reroute_url_for_string_clients():
    route = ProxyRoute.parse("http://127.0.0.1:9000")
    assert (
        reroute_url("https://api.openai.com/v1/chat/completions?x=%2F", route)
        == "http://127.0.0.1:9000/_/https/api.openai.com/v1/chat/completions?x=%2F"
    )
    assert (
        reroute_url("http://10.0.0.5:8001/v1/x", route) == "http://127.0.0.1:9000/_/http/10.0.0.5:8001/v1/x"
    )
