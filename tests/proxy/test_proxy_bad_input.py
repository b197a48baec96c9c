"""Bad input (issue 4, item 7): the proxy stays up, the client sees the upstream's bytes or a clear
error, and the span says what happened."""

from __future__ import annotations

import time

import httpx
import pytest
from proxy_harness import MALFORMED_BODY

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
STREAM = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}


def _healthy(proxy) -> None:
    assert httpx.get(proxy.url + "/health").status_code == 200


def test_malformed_upstream_json_passes_through_byte_for_byte(proxy, received, faults):
    answer = httpx.post(f"{proxy.url}/_/http/{faults.host_port}/malformed/v1/chat/completions", json=CHAT)
    assert answer.status_code == 200
    assert answer.content == MALFORMED_BODY
    (span,) = received.proxy_spans(1)
    assert span.attributes["llmobserve.usage.status"] == "malformed JSON body"
    assert "gen_ai.usage.input_tokens" not in span.attributes
    _healthy(proxy)


def test_upstream_connection_is_kept_alive_and_reused(proxy, received, faults):
    url = f"{proxy.url}/_/http/{faults.host_port}/malformed/v1/chat/completions"
    with httpx.Client() as client:
        for _ in range(3):
            assert client.post(url, json=CHAT).content == MALFORMED_BODY
    assert len(set(faults.client_ports)) == 1, faults.client_ports


def test_upstream_hangs_up_mid_stream(proxy, received, faults):
    seen = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST", f"{proxy.url}/_/http/{faults.host_port}/hangup/v1/chat/completions", json=STREAM
        ) as answer,
    ):
        assert answer.status_code == 200
        for chunk in answer.iter_raw():
            seen.append(chunk)
    # The client got what the upstream sent, then the same cut (no clean end of body).
    assert b"".join(seen).count(b"data: ") == 2
    (span,) = received.proxy_spans(1)
    attrs = span.attributes
    assert attrs["llmobserve.usage.incomplete"] is True
    assert attrs["llmobserve.proxy.outcome"] == "upstream_failed_mid_body"
    assert attrs["error.type"] == "RemoteProtocolError"
    assert span.status_code == 2
    _healthy(proxy)


def test_client_disconnect_mid_stream_cancels_upstream(proxy, received, faults):
    with httpx.stream(
        "POST", f"{proxy.url}/_/http/{faults.host_port}/slow/v1/chat/completions", json=STREAM
    ) as answer:
        for line in answer.iter_lines():
            if line.startswith("data: "):
                break  # one event, then the client goes away
    assert faults.cancelled.wait(5), "the upstream request was not cancelled"
    assert faults.events_sent < 200
    (span,) = received.proxy_spans(1)
    attrs = span.attributes
    assert attrs["llmobserve.proxy.outcome"] == "client_disconnected"
    assert attrs["llmobserve.usage.incomplete"] is True
    assert attrs["http.response.status_code"] == 200
    _healthy(proxy)


def test_oversized_request_gets_413(proxy, received, sim):
    before = len(sim.requests)
    answer = httpx.post(
        f"{proxy.url}/openai/v1/chat/completions",
        json={**CHAT, "messages": [{"role": "user", "content": "x" * 70_000}]},
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "request_too_large"
    assert len(sim.requests) == before  # nothing went upstream
    _healthy(proxy)


def test_upstream_timeout_gets_504(proxy, received, faults):
    started = time.monotonic()
    answer = httpx.post(
        f"{proxy.url}/_/http/{faults.host_port}/hang/v1/chat/completions", json=CHAT, timeout=10
    )
    elapsed = time.monotonic() - started
    assert answer.status_code == 504
    assert answer.json()["error"]["code"] == "upstream_timeout"
    assert 1.4 < elapsed < 5  # --upstream-timeout 1.5
    assert faults.cancelled.wait(5)  # the proxy dropped the upstream connection
    (span,) = received.proxy_spans(1)
    assert span.attributes["error.type"] == "ReadTimeout"
    assert span.status_code == 2
    _healthy(proxy)


def test_unreachable_upstream_gets_502(start_proxy, otlp, received):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    from proxy_harness import proxy_env

    proxy = start_proxy(["--upstream", f"openai=http://127.0.0.1:{dead}"], proxy_env(otlp))
    answer = httpx.post(f"{proxy.url}/openai/v1/chat/completions", json=CHAT)
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "upstream_unavailable"
    (span,) = received.proxy_spans(1)
    assert span.attributes["error.type"] == "ConnectError"


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory):
    """The fault server over TLS with a throwaway certificate for 127.0.0.1 (made with openssl)."""
    import shutil
    import ssl
    import subprocess

    from proxy_harness import start_fault_server

    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    state, server = start_fault_server(context)
    yield state, str(cert)
    server.shutdown()


def test_https_upstream_verified_against_the_ca(start_proxy, otlp, received, tls_upstream):
    from proxy_harness import proxy_env

    upstream, cert = tls_upstream
    declared = f"{upstream.host_port}=openai"
    trusting = start_proxy([], proxy_env(otlp, LLMOBSERVE_PROVIDER_HOSTS=declared, SSL_CERT_FILE=cert))
    path = f"/_/https/{upstream.host_port}/malformed/v1/chat/completions"
    answer = httpx.post(trusting.url + path, json=CHAT)
    assert (answer.status_code, answer.content) == (200, MALFORMED_BODY)
    assert upstream.requests[-1][1]["host"] == upstream.host_port
    # Without the CA the certificate is refused: 502, nothing sent.
    before = len(upstream.requests)
    strict = start_proxy([], proxy_env(otlp, LLMOBSERVE_PROVIDER_HOSTS=declared))
    refused = httpx.post(strict.url + path, json=CHAT)
    assert refused.status_code == 502
    assert "CERTIFICATE_VERIFY_FAILED" in refused.json()["error"]["message"]
    assert len(upstream.requests) == before


def test_client_gone_while_waiting_for_the_upstream(proxy, received, faults):
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{proxy.url}/_/http/{faults.host_port}/hang/v1/chat/completions", json=CHAT, timeout=0.5)
    # Well before --upstream-timeout (1.5 s) the proxy drops the upstream request too.
    assert faults.cancelled.wait(0.9)
    (span,) = received.proxy_spans(1)
    assert span.attributes["llmobserve.proxy.outcome"] == "client_disconnected"
    assert "http.response.status_code" not in span.attributes
    _healthy(proxy)


def test_slow_client_slows_the_upstream_instead_of_filling_memory(proxy, received, faults):
    total = 0
    with httpx.stream("POST", f"{proxy.url}/_/http/{faults.host_port}/big/x", json=CHAT) as answer:
        chunks = answer.iter_raw(65536)
        total += len(next(chunks))
        time.sleep(1.5)  # the client stops reading; the proxy must stop reading the upstream too
        sent_while_paused = faults.bytes_sent
        total += sum(len(chunk) for chunk in chunks)
    assert total == 64 << 20
    # What sits in socket buffers and the proxy's bounded queue, far from the 64 MiB body.
    assert sent_while_paused < 24 << 20, sent_while_paused
    _healthy(proxy)
