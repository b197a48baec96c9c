"""ElevenLabs text-to-speech through the real `elevenlabs` SDK against a local server.

Price (https://elevenlabs.io/pricing/api, pay-as-you-go): Flash/Turbo $0.05 and Multilingual
$0.10 per 1,000 characters, i.e. $0.10 per 1,000 credits at 0.5 / 1 credit per character.
"""

from __future__ import annotations

import pytest
from elevenlabs.client import ElevenLabs
from wire import On, Reply, WireServer, map_host

AUDIO = b"ID3\x04fake-mp3-frames" * 64
PER_CREDIT = 0.10 / 1000


def _tts(cost_header: str | None = None, status: int = 200):
    def handler(request):
        if status != 200:
            return Reply.json({"detail": {"status": "quota_exceeded", "message": "quota"}}, status)
        headers = {"content-type": "audio/mpeg", "request-id": "req-1"}
        if cost_header is not None:
            headers["character-cost"] = cost_header
        return Reply(200, AUDIO, headers)

    return On("POST", r"/v1/text-to-speech/[^/]+(/stream)?", handler)


@pytest.mark.provider("elevenlabs")
def test_tts_credits_from_character_cost_header(spans):
    text = "Hello from the cost tracker, in a calm voice."  # 45 characters
    with WireServer([_tts(cost_header="23")]) as server:
        map_host(server, "elevenlabs")
        client = ElevenLabs(api_key="xi-test-key", base_url=server.url)
        audio = b"".join(client.text_to_speech.convert("voice123", text=text, model_id="eleven_flash_v2_5"))
    assert audio == AUDIO
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "elevenlabs"
    assert attrs["llmobserve.operation"] == "tts"
    assert attrs["llmobserve.usage.characters"] == 45
    # The header (23 credits) wins over the request estimate (45 * 0.5 = 22.5).
    assert attrs["llmobserve.usage.credits"] == 23
    assert attrs["llmobserve.cost.usd"] == pytest.approx(23 * PER_CREDIT, abs=1e-12)  # $0.0023
    assert "xi-test-key" not in repr(attrs)


@pytest.mark.provider("elevenlabs")
def test_tts_stream_credits_from_request_text_without_header(spans):
    text = "Ünïcode counts as code points: 42 chars."
    assert len(text) == 40
    with WireServer([_tts()]) as server:
        map_host(server, "elevenlabs")
        client = ElevenLabs(api_key="xi-test-key", base_url=server.url)
        audio = b"".join(client.text_to_speech.stream("voice123", text=text))  # default model
    assert audio == AUDIO
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.characters"] == 40
    assert attrs["llmobserve.usage.credits"] == 40  # eleven_multilingual_v2: 1 credit per character
    assert attrs["llmobserve.cost.usd"] == pytest.approx(40 * PER_CREDIT, abs=1e-12)  # $0.004


@pytest.mark.provider("elevenlabs")
def test_tts_error_is_not_billed_and_app_sees_the_error(spans):
    from elevenlabs.core.api_error import ApiError

    with WireServer([_tts(status=401)]) as server:
        map_host(server, "elevenlabs")
        client = ElevenLabs(api_key="xi-test-key", base_url=server.url)
        with pytest.raises(ApiError) as raised:
            b"".join(client.text_to_speech.convert("voice123", text="hi"))
    assert raised.value.status_code == 401
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 401
    assert "llmobserve.usage.characters" not in attrs
    assert "llmobserve.cost.usd" not in attrs
    assert spans.provider_calls()[0].status.status_code.name == "ERROR"


def _self_signed_tls(tmp_path, monkeypatch):
    """A TLS context for 127.0.0.1 whose certificate the client trusts (SSL_CERT_FILE): the SDK only speaks wss."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


class StreamInputServer:
    """A `websockets` server speaking ElevenLabs stream-input: audio per text chunk, `isFinal` at the end."""

    def __init__(self, tls) -> None:
        from websockets.sync.server import serve

        self.received: list[dict] = []
        self.paths: list[str] = []
        self._server = serve(self._handle, "127.0.0.1", 0, ssl=tls)
        self.port = self._server.socket.getsockname()[1]

    def _handle(self, ws) -> None:
        import base64
        import json

        self.paths.append(ws.request.path)
        for raw in ws:
            message = json.loads(raw)
            self.received.append(message)
            if message.get("text") == "":
                ws.send(
                    json.dumps(
                        {"audio": None, "isFinal": True, "normalizedAlignment": None, "alignment": None}
                    )
                )
                ws.close()
                return
            if message.get("text", " ") != " ":
                chunk = {
                    "audio": base64.b64encode(AUDIO).decode(),
                    "isFinal": None,
                    "normalizedAlignment": None,
                }
                ws.send(json.dumps(chunk))

    def __enter__(self):
        import threading

        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()


@pytest.mark.provider("elevenlabs")
def test_stream_input_websocket_characters_sent(spans, tmp_path, monkeypatch):
    chunks = ["Hello there, ", "this is streamed ", "text input."]
    text = "".join(chunks)
    assert len(text) == 41
    with StreamInputServer(_self_signed_tls(tmp_path, monkeypatch)) as server:
        map_host(f"127.0.0.1:{server.port}", "elevenlabs")
        client = ElevenLabs(api_key="xi-test-key", base_url=f"http://127.0.0.1:{server.port}")
        audio = b"".join(
            client.text_to_speech.convert_realtime(
                voice_id="voice123", text=iter(chunks), model_id="eleven_flash_v2_5"
            )
        )
    assert audio and set(audio.split(AUDIO)) == {b""}  # whole audio chunks, unchanged
    sent_text = "".join(m["text"] for m in server.received[1:])
    assert sent_text == text + " "  # the SDK's chunker ends the last chunk with a space: 42 characters sent
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "tts"
    assert attrs["gen_ai.request.model"] == "eleven_flash_v2_5"
    assert attrs["llmobserve.usage.characters"] == 42
    # Flash: 0.5 credit per character = 21 credits, at $0.10 per 1,000 credits
    assert attrs["llmobserve.usage.credits"] == 21
    assert attrs["llmobserve.cost.usd"] == pytest.approx(42 * 0.5 * PER_CREDIT, abs=1e-12)  # $0.0021
    assert attrs["url.full"] == f"wss://127.0.0.1:{server.port}/v1/text-to-speech/voice123/stream-input"
    assert "xi-test-key" not in repr(attrs)
