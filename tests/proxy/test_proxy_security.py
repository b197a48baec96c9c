"""Security (issue 4, item 4): no open relay, no private targets, no followed redirects, the token,
and a non-loopback bind that needs one."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from proxy_harness import proxy_env

from llmobserve_otel.cli import main

TOKEN = "proxy-token-123"


@pytest.fixture(scope="module")
def guarded(start_proxy, otlp, sim, faults):
    """A proxy with a token and an allowlist holding names that resolve to private addresses."""
    return start_proxy(
        [
            "--upstream",
            f"openai=http://{sim.host_port}",
            "--allow-host",
            "localhost",
            "--allow-host",
            "169.254.169.254",
        ],
        proxy_env(otlp, LLMOBSERVE_PROXY_TOKEN=TOKEN, LLMOBSERVE_PROVIDER_HOSTS=f"{faults.host_port}=openai"),
    )


AUTH = {"Proxy-Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (
            "/_/https/example.com/v1/chat/completions",
            403,
            "target_not_allowed",
        ),  # not a provider, not allowed
        ("/_/http/127.0.0.1:9/v1/x", 403, "target_not_allowed"),  # loopback, not declared
        ("/_/http/10.0.0.1/v1/x", 403, "target_not_allowed"),  # private, not declared
        ("/_/http/localhost:9/v1/x", 403, "target_not_allowed"),  # allowed name, loopback address
        ("/_/http/169.254.169.254/latest/meta-data/", 403, "target_not_allowed"),  # allowed, link-local
        ("/_/https/api.openai.com@example.com/v1/x", 400, "bad_target"),
        ("/_/gopher/api.openai.com/v1/x", 400, "bad_target"),
        ("/nosuchprovider/v1/x", 404, "unknown_route"),
    ],
)
def test_refused_targets(guarded, sim, path, status, code):
    before = len(sim.requests)
    answer = httpx.get(guarded.url + path, headers=AUTH)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert len(sim.requests) == before


def test_private_target_refused_message_names_the_reason(guarded):
    answer = httpx.get(guarded.url + "/_/http/169.254.169.254/latest/meta-data/", headers=AUTH)
    assert "link-local" in answer.json()["error"]["message"]


def test_redirect_is_passed_to_the_client_not_followed(guarded, received, faults):
    answer = httpx.get(f"{guarded.url}/_/http/{faults.host_port}/redirect/x", headers=AUTH)
    assert answer.status_code == 302
    assert answer.headers["location"] == "http://169.254.169.254/latest/meta-data/"
    assert [path for path, _, _ in faults.requests] == ["/redirect/x"]


def test_token_required_and_never_forwarded(guarded, received, sim):
    url = guarded.url + "/openai/v1"
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(openai.AuthenticationError) as refused:
        openai.OpenAI(base_url=url, api_key="sk-x", max_retries=0).chat.completions.create(**chat)
    assert refused.value.status_code == 401
    wrong = openai.OpenAI(
        base_url=url, api_key="sk-x", max_retries=0, default_headers={"Proxy-Authorization": "Bearer nope"}
    )
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(**chat)
    for headers in (AUTH, {"x-llmobserve-proxy-token": TOKEN}):
        client = openai.OpenAI(base_url=url, api_key="sk-x", max_retries=0, default_headers=headers)
        reply = client.chat.completions.create(
            **chat, extra_headers={"x-sim-usage": json.dumps({"input_tokens": 3})}
        )
        assert reply.usage.prompt_tokens == 3
        forwarded = sim.requests[-1].headers
        assert "proxy-authorization" not in forwarded and "x-llmobserve-proxy-token" not in forwarded
        assert forwarded["authorization"] == "Bearer sk-x"
    assert len(received.proxy_spans(2)) == 2  # the refused calls make no span
    assert all(TOKEN.encode() not in body for body in received.raw)


def test_non_loopback_bind_needs_a_token(monkeypatch, capsys):
    monkeypatch.delenv("LLMOBSERVE_PROXY_TOKEN", raising=False)
    assert main(["proxy", "--host", "0.0.0.0", "--port", "0"]) == 1
    assert "refusing to listen on 0.0.0.0 without a token" in capsys.readouterr().err


def test_sigterm_finishes_the_stream_in_flight_and_flushes(start_proxy, otlp, received, faults):
    import threading

    proxy = start_proxy([], proxy_env(otlp, LLMOBSERVE_PROVIDER_HOSTS=f"{faults.host_port}=openai"))
    body = {
        "model": "gpt-4o-mini",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}],
    }
    chunks: list[bytes] = []
    with httpx.stream(
        "POST", f"{proxy.url}/_/http/{faults.host_port}/gate/v1/chat/completions", json=body
    ) as answer:
        stream = answer.iter_raw()
        chunks.append(next(stream))
        proxy.process.terminate()  # SIGTERM with a stream in flight
        threading.Timer(0.3, faults.gate.set).start()
        chunks.extend(stream)
    assert b"".join(chunks).endswith(b"data: [DONE]\n\n")
    assert proxy.process.wait(20) == 0
    spans = received.proxy_spans(1)
    assert len(spans) == 1, [(s.name, s.attributes.get("url.full")) for s in spans]
    span = spans[0]
    assert (span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]) == (
        7,
        5,
    )


def test_the_proxy_cannot_target_itself(start_proxy, otlp):
    looping = start_proxy(["--allow-host", "127.0.0.1", "--allow-private"], proxy_env(otlp))
    own = looping.url.rsplit(":", 1)[1]
    answer = httpx.get(f"{looping.url}/_/http/127.0.0.1:{own}/health")
    assert answer.status_code == 403
    assert "this proxy itself" in answer.json()["error"]["message"]


def test_workers_share_the_port_and_drain_on_sigterm(start_proxy, otlp, received, sim):
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proxy = start_proxy(
        ["--workers", "2", "--upstream", f"openai=http://{sim.host_port}"], proxy_env(otlp), port=port
    )
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    deadline = time.monotonic() + 10
    sent = 0
    while time.monotonic() < deadline:  # new connections until both processes have answered
        answer = httpx.post(f"{proxy.url}/openai/v1/chat/completions", json=chat)  # a new connection each
        assert answer.status_code == 200
        sent += 1
        if sent >= 10 and len({s.instance for s in received.spans if s.service == "llmobserve-proxy"}) == 2:
            break
        time.sleep(0.02)
    spans = received.proxy_spans(sent)
    assert len({s.instance for s in spans}) == 2
    assert proxy.stop() == 0
