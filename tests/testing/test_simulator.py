"""The provider simulator, driven by the real openai and anthropic SDKs (no instrumentation)."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from llmobserve_otel.testing import ProviderSimulator, RecordedRequest

PROMPT = "What does a span cost today?"
USER = [{"role": "user", "content": PROMPT}]
REPLY = f"This is a simulated reply to: {PROMPT}"
CLAUDE = "claude-sonnet-4-5-20250929"

OPENAI_USAGE = {
    "input_tokens": 1200,
    "output_tokens": 300,
    "cached_tokens": 1000,
    "reasoning_tokens": 120,
    "audio_input_tokens": 7,
    "audio_output_tokens": 9,
}
ANTHROPIC_USAGE = {
    "input_tokens": 25,
    "output_tokens": 40,
    "cache_creation_input_tokens": 500,
    "cache_read_input_tokens": 2000,
}


@pytest.fixture(scope="module")
def running() -> Iterator[ProviderSimulator]:
    with ProviderSimulator() as simulator:
        yield simulator


@pytest.fixture
def sim(running: ProviderSimulator) -> ProviderSimulator:
    running.clear()
    return running


@pytest.fixture
def oai(sim: ProviderSimulator) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture
def claude(sim: ProviderSimulator) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=sim.url, api_key="sk-ant-test", max_retries=0) as client:
        yield client


def headers(usage: dict[str, int] | None = None, **extra: str) -> dict[str, str]:
    result = {name.replace("_", "-"): value for name, value in extra.items()}
    if usage is not None:
        result["x-sim-usage"] = json.dumps(usage)
    return result


def fault(name: str) -> dict[str, str]:
    return {"x-sim-fault": name}


def raw_post(
    sim: ProviderSimulator, path: str, body: dict[str, Any], extra: dict[str, str] | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(sim.host_port, timeout=5)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **(extra or {})})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def sse_data(payload: bytes) -> list[str]:
    return [line[len("data: ") :] for line in payload.decode().splitlines() if line.startswith("data: ")]


# ---------------------------------------------------------------------------------------------
# Lifecycle and plumbing
# ---------------------------------------------------------------------------------------------


def test_lifecycle_url_and_restart() -> None:
    simulator = ProviderSimulator()
    with pytest.raises(RuntimeError):
        _ = simulator.url
    assert simulator.start() is simulator
    assert simulator.start() is simulator  # idempotent
    host, port = simulator.host_port.split(":")
    assert host == "127.0.0.1" and int(port) > 0
    assert simulator.url == f"http://127.0.0.1:{port}"
    response, _ = raw_post(simulator, "/v1/chat/completions", {"model": "m", "messages": USER})
    assert response.status == 200
    simulator.stop()
    simulator.stop()  # idempotent
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", int(port), timeout=1).connect()


def test_keep_alive_reuses_one_connection_for_json_and_streams(sim: ProviderSimulator) -> None:
    conn = http.client.HTTPConnection(sim.host_port, timeout=5)
    conn.connect()
    sock = conn.sock
    bodies = [
        {"model": "gpt-4o", "messages": USER},
        {"model": "gpt-4o", "messages": USER, "stream": True},
        {"model": CLAUDE, "max_tokens": 5, "messages": USER, "stream": True},
    ]
    for body in bodies * 2:
        path = "/v1/messages" if body["model"] == CLAUDE else "/v1/chat/completions"
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200
        assert response.read()
        assert conn.sock is sock
    conn.close()
    assert len(sim.requests) == 6


def test_records_requests_with_headers_and_body(
    sim: ProviderSimulator, oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    oai.chat.completions.create(model="gpt-4o", messages=USER, extra_headers={"x-custom": "yes"})
    claude.messages.create(model=CLAUDE, max_tokens=10, messages=USER, extra_headers={"baggage": "a=b"})
    first, second = sim.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path) == ("POST", "/v1/chat/completions")
    assert first.headers["authorization"] == "Bearer sk-test"
    assert first.headers["x-custom"] == "yes"
    assert first.json == {"model": "gpt-4o", "messages": USER}
    assert json.loads(first.body) == first.json
    assert (second.method, second.path) == ("POST", "/v1/messages")
    # anthropic 2.x sends the key as a bearer token, 0.x as x-api-key
    assert "sk-ant-test" in (second.headers.get("x-api-key"), second.headers.get("authorization", "")[7:])
    assert "anthropic-version" in second.headers
    assert second.headers["baggage"] == "a=b"
    assert second.json["max_tokens"] == 10
    sim.clear()
    assert sim.requests == []


def test_concurrent_requests_are_all_recorded(sim: ProviderSimulator) -> None:
    def work() -> None:
        for _ in range(10):
            response, _ = raw_post(sim, "/v1/embeddings", {"model": "e", "input": "x"})
            assert response.status == 200

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sim.requests) == 80


def test_unknown_routes_answer_404_in_the_provider_shape(sim: ProviderSimulator, oai: openai.OpenAI) -> None:
    response, body = raw_post(sim, "/v1/nope", {"model": "m"})
    assert response.status == 404
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert response.getheader("x-request-id")

    response, body = raw_post(sim, "/v1/nope", {"model": "m"}, {"anthropic-version": "2023-06-01"})
    assert response.status == 404
    data = json.loads(body)
    assert data["type"] == "error" and data["error"]["type"] == "not_found_error"
    assert data["request_id"] == response.getheader("request-id")

    with pytest.raises(openai.NotFoundError):
        oai.models.list()


def test_bad_control_headers_answer_400(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="x-sim-usage"):
        oai.chat.completions.create(model="gpt-4o", messages=USER, extra_headers={"x-sim-usage": "{bad"})
    with pytest.raises(openai.BadRequestError, match="unknown key"):
        oai.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=headers({"input": 1}))
    with pytest.raises(openai.BadRequestError, match="unknown fault"):
        oai.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=fault("explode"))


# ---------------------------------------------------------------------------------------------
# OpenAI Chat Completions
# ---------------------------------------------------------------------------------------------


def test_chat_completion_reports_requested_usage_and_model(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        extra_headers=headers(OPENAI_USAGE, x_sim_response_model="gpt-4o-2024-08-06"),
    )
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-2024-08-06"
    choice = completion.choices[0]
    assert (choice.message.role, choice.message.content, choice.message.refusal) == ("assistant", REPLY, None)
    assert choice.finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1200, 300, 1500)
    assert usage.prompt_tokens_details is not None and usage.completion_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 1000
    assert usage.prompt_tokens_details.audio_tokens == 7
    assert usage.completion_tokens_details.reasoning_tokens == 120
    assert usage.completion_tokens_details.audio_tokens == 9
    assert usage.completion_tokens_details.accepted_prediction_tokens == 0


def test_default_usage_counts_words(oai: openai.OpenAI) -> None:
    messages = [{"role": "system", "content": "Be brief."}, *USER]
    usage = oai.chat.completions.create(model="gpt-4o", messages=messages).usage
    assert usage is not None
    assert usage.prompt_tokens == 2 + len(PROMPT.split())
    assert usage.completion_tokens == len(REPLY.split())
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 0


def test_chat_stream_with_include_usage(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers=headers(OPENAI_USAGE),
    )
    chunks = list(stream)
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(deltas) == REPLY
    assert len(deltas) == 5
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks[:-1])
    final = chunks[-1]
    assert final.choices == []
    assert final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (1200, 300)
    assert final.usage.prompt_tokens_details is not None
    assert final.usage.prompt_tokens_details.cached_tokens == 1000


def test_chat_stream_without_include_usage_has_no_usage(sim: ProviderSimulator) -> None:
    response, payload = raw_post(
        sim, "/v1/chat/completions", {"model": "gpt-4o", "messages": USER, "stream": True}
    )
    assert response.getheader("content-type").startswith("text/event-stream")
    assert response.getheader("transfer-encoding") == "chunked"
    events = sse_data(payload)
    assert events[-1] == "[DONE]"
    assert all("usage" not in json.loads(event) for event in events[:-1])


def test_events_header_controls_stream_length(oai: openai.OpenAI) -> None:
    extra = {"x-sim-events": "40"}
    stream = oai.chat.completions.create(model="gpt-4o", messages=USER, stream=True, extra_headers=extra)
    deltas = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert len(deltas) == 40
    text = "".join(deltas)
    assert text.startswith(REPLY) and len(text.split()) == 40
    plain = oai.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=extra)
    assert plain.choices[0].message.content == text
    assert plain.usage is not None and plain.usage.completion_tokens == 40


# ---------------------------------------------------------------------------------------------
# OpenAI Responses and Embeddings
# ---------------------------------------------------------------------------------------------


def test_responses_create(oai: openai.OpenAI) -> None:
    response = oai.responses.create(
        model="gpt-4o",
        input=PROMPT,
        extra_headers=headers(OPENAI_USAGE, x_sim_response_model="gpt-4o-2024-08-06"),
    )
    assert (response.object, response.status, response.model) == (
        "response",
        "completed",
        "gpt-4o-2024-08-06",
    )
    assert response.output_text == REPLY
    usage = response.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (1200, 300, 1500)
    assert usage.input_tokens_details.cached_tokens == 1000
    assert usage.output_tokens_details.reasoning_tokens == 120


def test_responses_stream_helper(oai: openai.OpenAI) -> None:
    with oai.responses.stream(model="gpt-4o", input=USER, extra_headers=headers(OPENAI_USAGE)) as stream:
        events = list(stream)
        final = stream.get_final_response()
    types = [event.type for event in events]
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 5,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == REPLY
    assert final.output_text == REPLY
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (1200, 300)


def test_embeddings_base64_default_matches_float(sim: ProviderSimulator, oai: openai.OpenAI) -> None:
    inputs = ["first text here", "second", "third one"]
    default = oai.embeddings.create(model="text-embedding-3-small", input=inputs)
    assert sim.requests[-1].json["encoding_format"] == "base64"
    floats = oai.embeddings.create(model="text-embedding-3-small", input=inputs, encoding_format="float")
    assert [d.index for d in default.data] == [0, 1, 2]
    assert [d.embedding for d in default.data] == [d.embedding for d in floats.data]
    assert all(len(d.embedding) == 16 for d in default.data)
    assert default.data[0].embedding != default.data[1].embedding
    assert (default.usage.prompt_tokens, default.usage.total_tokens) == (6, 6)
    sized = oai.embeddings.create(
        model="text-embedding-3-small", input="x", dimensions=4, extra_headers=headers({"input_tokens": 9})
    )
    assert len(sized.data) == 1 and len(sized.data[0].embedding) == 4
    assert sized.usage.prompt_tokens == 9


def test_embeddings_base64_wire_format(sim: ProviderSimulator) -> None:
    body = {"model": "e", "input": [[1, 2, 3], [4]], "encoding_format": "base64", "dimensions": 3}
    _, payload = raw_post(sim, "/v1/embeddings", body)
    data = json.loads(payload)
    assert data["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    vector = struct.unpack("<3f", base64.b64decode(data["data"][0]["embedding"]))
    assert all(-1.0 <= value < 1.0 for value in vector)


# ---------------------------------------------------------------------------------------------
# Anthropic Messages
# ---------------------------------------------------------------------------------------------


def test_anthropic_message_reports_requested_usage(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(
        model=CLAUDE,
        max_tokens=100,
        messages=USER,
        extra_headers=headers(ANTHROPIC_USAGE, x_sim_response_model="claude-sonnet-4-5-20250929-sim"),
    )
    assert (message.type, message.role, message.model) == (
        "message",
        "assistant",
        "claude-sonnet-4-5-20250929-sim",
    )
    assert message.content[0].type == "text" and message.content[0].text == REPLY
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    usage = message.usage
    assert (usage.input_tokens, usage.output_tokens) == (25, 40)
    assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (500, 2000)


def test_anthropic_stream_final_message(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model=CLAUDE, max_tokens=100, messages=USER, extra_headers=headers(ANTHROPIC_USAGE)
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) == 5 and "".join(pieces) == REPLY
    assert final.content[0].type == "text" and final.content[0].text == REPLY
    assert final.stop_reason == "end_turn"
    usage = final.usage
    assert (usage.input_tokens, usage.output_tokens) == (25, 40)
    assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (500, 2000)


def test_anthropic_stream_wire_events(sim: ProviderSimulator) -> None:
    body = {"model": CLAUDE, "max_tokens": 5, "messages": USER, "stream": True}
    _, payload = raw_post(sim, "/v1/messages", body, headers(ANTHROPIC_USAGE, x_sim_events="2"))
    names = [line[len("event: ") :] for line in payload.decode().splitlines() if line.startswith("event: ")]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    data = [json.loads(item) for item in sse_data(payload)]
    assert data[0]["message"]["usage"]["output_tokens"] == 1
    assert data[0]["message"]["usage"]["input_tokens"] == 25
    assert data[6]["usage"] == {"output_tokens": 40}


async def test_async_clients(sim: ProviderSimulator) -> None:
    async with openai.AsyncOpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0) as oai:
        stream = await oai.chat.completions.create(
            model="gpt-4o",
            messages=USER,
            stream=True,
            stream_options={"include_usage": True},
            extra_headers=headers(OPENAI_USAGE),
        )
        chunks = [chunk async for chunk in stream]
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 300
    async with anthropic.AsyncAnthropic(base_url=sim.url, api_key="sk-ant-test", max_retries=0) as claude:
        async with claude.messages.stream(
            model=CLAUDE, max_tokens=10, messages=USER, extra_headers=headers(ANTHROPIC_USAGE)
        ) as astream:
            final = await astream.get_final_message()
        assert final.usage.output_tokens == 40
        assert final.usage.cache_read_input_tokens == 2000


# ---------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, openai.InternalServerError), (429, openai.RateLimitError), (401, openai.AuthenticationError)],
)
def test_openai_status_faults(oai: openai.OpenAI, status: int, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        oai.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=fault(f"status:{status}"))
    body = caught.value.body  # type: ignore[attr-defined]
    assert set(body) == {"message", "type", "param", "code"}


@pytest.mark.parametrize(
    ("status", "error", "error_type"),
    [
        (529, anthropic.OverloadedError, "overloaded_error"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
    ],
)
def test_anthropic_status_faults(
    claude: anthropic.Anthropic, status: int, error: type[Exception], error_type: str
) -> None:
    with pytest.raises(error) as caught:
        claude.messages.create(
            model=CLAUDE, max_tokens=5, messages=USER, extra_headers=fault(f"status:{status}")
        )
    body = caught.value.body  # type: ignore[attr-defined]
    assert body["type"] == "error" and body["error"]["type"] == error_type


def test_reset_raises_connection_error(
    sim: ProviderSimulator, oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    with pytest.raises(openai.APIConnectionError):
        oai.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=fault("reset"))
    with pytest.raises(anthropic.APIConnectionError):
        claude.messages.create(model=CLAUDE, max_tokens=5, messages=USER, extra_headers=fault("reset"))
    assert len(sim.requests) == 2  # recorded before the fault


def test_reset_mid_stream(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        stream = oai.chat.completions.create(
            model="gpt-4o", messages=USER, stream=True, extra_headers=fault("reset_mid_stream")
        )
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert received and "".join(received) != REPLY
    # The anthropic SDK does not wrap transport errors raised while iterating a stream.
    with (
        pytest.raises((anthropic.APIConnectionError, httpx2.TransportError)),
        claude.messages.stream(
            model=CLAUDE, max_tokens=5, messages=USER, extra_headers=fault("reset_mid_stream")
        ) as astream,
    ):
        astream.get_final_message()


def test_truncated_json(sim: ProviderSimulator, oai: openai.OpenAI) -> None:
    _, full = raw_post(sim, "/v1/chat/completions", {"model": "gpt-4o", "messages": USER})
    response, cut = raw_post(
        sim, "/v1/chat/completions", {"model": "gpt-4o", "messages": USER}, fault("truncated_json")
    )
    assert response.status == 200
    assert int(response.getheader("content-length")) == len(cut) == len(full) // 2
    with pytest.raises(ValueError):
        json.loads(cut)
    with pytest.raises(ValueError):
        oai.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=fault("truncated_json"))


def test_empty_body(sim: ProviderSimulator, claude: anthropic.Anthropic) -> None:
    response, body = raw_post(sim, "/v1/messages", {"model": CLAUDE, "messages": USER}, fault("empty"))
    assert (response.status, body, response.getheader("content-length")) == (200, b"", "0")
    with pytest.raises(ValueError):
        claude.messages.create(model=CLAUDE, max_tokens=5, messages=USER, extra_headers=fault("empty"))


def test_gzip(sim: ProviderSimulator, oai: openai.OpenAI) -> None:
    response, body = raw_post(sim, "/v1/responses", {"model": "gpt-4o", "input": PROMPT}, fault("gzip"))
    assert response.getheader("content-encoding") == "gzip"
    assert json.loads(gzip.decompress(body))["output"][0]["content"][0]["text"] == REPLY
    extra = {**fault("gzip"), **headers(OPENAI_USAGE)}
    assert oai.responses.create(model="gpt-4o", input=PROMPT, extra_headers=extra).output_text == REPLY
    with oai.responses.stream(model="gpt-4o", input=PROMPT, extra_headers=extra) as stream:
        final = stream.get_final_response()
    assert final.output_text == REPLY
    assert final.usage is not None and final.usage.output_tokens == 300


def test_wrong_types_still_parse_with_broken_usage(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    usage = oai.chat.completions.create(
        model="gpt-4o", messages=USER, extra_headers={**fault("wrong_types"), **headers(OPENAI_USAGE)}
    ).usage
    assert usage is not None
    assert usage.prompt_tokens == "1200"  # type: ignore[comparison-overlap]
    assert usage.completion_tokens is None
    assert usage.total_tokens == [1500]  # type: ignore[comparison-overlap]
    assert isinstance(usage.prompt_tokens_details, str)
    message = claude.messages.create(
        model=CLAUDE,
        max_tokens=5,
        messages=USER,
        extra_headers={**fault("wrong_types"), **headers(ANTHROPIC_USAGE)},
    )
    assert message.usage.input_tokens == "25"  # type: ignore[comparison-overlap]
    assert message.content[0].type == "text" and message.content[0].text == REPLY


def test_broken_sse(sim: ProviderSimulator, oai: openai.OpenAI) -> None:
    body = {"model": "gpt-4o", "messages": USER, "stream": True, "stream_options": {"include_usage": True}}
    _, payload = raw_post(sim, "/v1/chat/completions", body, fault("broken_sse"))
    events = sse_data(payload)
    assert events[-1] == "[DONE]"
    invalid = []
    for index, event in enumerate(events[:-1]):
        try:
            parsed = json.loads(event)
        except ValueError:
            invalid.append(index)
            continue
        assert parsed["choices"], "no usage chunk"
    assert invalid == [2]  # the second content delta; the stream goes on after it
    with pytest.raises(ValueError):
        list(
            oai.chat.completions.create(
                model="gpt-4o", messages=USER, stream=True, extra_headers=fault("broken_sse")
            )
        )


def test_broken_sse_anthropic_ends_without_message_delta(sim: ProviderSimulator) -> None:
    body = {"model": CLAUDE, "max_tokens": 5, "messages": USER, "stream": True}
    _, payload = raw_post(sim, "/v1/messages", body, fault("broken_sse"))
    assert b"event: message_delta" not in payload
    assert payload.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')


def test_slow_stream(oai: openai.OpenAI) -> None:
    extra = {"x-sim-fault": "slow_stream:30", "x-sim-events": "3"}
    started = time.perf_counter()
    stream = oai.chat.completions.create(model="gpt-4o", messages=USER, stream=True, extra_headers=extra)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == REPLY
    # role + 3 deltas + finish + [DONE] = 6 events, so 5 pauses
    assert time.perf_counter() - started >= 0.14
