"""Provider parsers on documented response bodies (shapes from the providers' API references)."""

from __future__ import annotations

import json

from llmobserve_otel.providers import Registry, anthropic, openai

OPENAI_CHAT = {
    "id": "chatcmpl-123",
    "object": "chat.completion",
    "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
    "usage": {
        "prompt_tokens": 19,
        "completion_tokens": 10,
        "total_tokens": 29,
        "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 2},
        "completion_tokens_details": {"reasoning_tokens": 3, "audio_tokens": 1},
    },
}


def test_openai_chat_json():
    usage = openai.parse_json(openai.CHAT, OPENAI_CHAT)
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (19, 10, 4)
    assert (usage.reasoning_tokens, usage.input_audio_tokens, usage.output_audio_tokens) == (3, 2, 1)
    assert usage.model == "gpt-4o-2024-08-06" and usage.finish_reasons == ["stop"]


def test_openai_chat_stream_usage_chunk():
    state = openai.new_stream(openai.CHAT)
    state.feed(
        None, json.dumps({"id": "c", "model": "gpt-4o", "choices": [{"delta": {"role": "assistant"}}]})
    )
    state.feed(None, '{"id":"c","choices":[{"delta":{"content":"x"},"finish_reason":null}],"usage":null}')
    state.feed(None, '{"id":"c","choices":[{"delta":{},"finish_reason":"length"}],"usage":null}')
    state.feed(None, '{"id":"c","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}')
    state.feed(None, "[DONE]")
    usage = state.finish()
    assert state.done
    assert (usage.input_tokens, usage.output_tokens, usage.model, usage.finish_reasons) == (
        7,
        3,
        "gpt-4o",
        ["length"],
    )


def test_openai_responses_stream_completed():
    state = openai.new_stream(openai.RESPONSES)
    state.feed("response.created", '{"type":"response.created","response":{"model":"gpt-4o-mini"}}')
    state.feed("response.output_text.delta", '{"type":"response.output_text.delta","delta":"x"}')
    state.feed(
        "response.completed",
        json.dumps(
            {
                "type": "response.completed",
                "response": {
                    "id": "resp_1",
                    "model": "gpt-4o-mini",
                    "status": "completed",
                    "usage": {
                        "input_tokens": 36,
                        "input_tokens_details": {"cached_tokens": 6},
                        "output_tokens": 87,
                        "output_tokens_details": {"reasoning_tokens": 20},
                    },
                },
            }
        ),
    )
    usage = state.finish()
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens, usage.reasoning_tokens) == (
        36,
        6,
        87,
        20,
    )
    assert state.done


def test_anthropic_normalises_cached_input():
    body = {
        "id": "msg_1",
        "model": "claude-sonnet-4-5",
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 200,
            "cache_read_input_tokens": 3000,
            "output_tokens": 50,
        },
    }
    usage = anthropic.parse_json(anthropic.MESSAGES, body)
    assert (usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens, usage.output_tokens) == (
        3210,
        3000,
        200,
        50,
    )


def test_anthropic_stream_cumulative_output():
    state = anthropic.new_stream(anthropic.MESSAGES)
    state.feed(
        "message_start",
        '{"type":"message_start","message":{"id":"m","model":"claude-sonnet-4-5",'
        '"usage":{"input_tokens":5,"cache_read_input_tokens":100,"output_tokens":1}}}',
    )
    state.feed(
        "message_delta",
        '{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":42}}',
    )
    state.feed("message_stop", '{"type":"message_stop"}')
    usage = state.finish()
    assert (usage.input_tokens, usage.output_tokens, usage.finish_reasons) == (105, 42, ["max_tokens"])
    assert state.done


def test_routes():
    assert openai.match("POST", "/v1/chat/completions") is openai.CHAT
    assert openai.match("POST", "/openai/v1/responses") is openai.RESPONSES
    assert openai.match("GET", "/v1/responses/resp_1") is None
    assert anthropic.match("POST", "/v1/messages") is anthropic.MESSAGES
    assert anthropic.match("POST", "/v1/messages/count_tokens") is None


def test_registry_host_mappings(caplog):
    registry = Registry("127.0.0.1:8001=openai, my-gw.internal=anthropic, bad-entry, x=unknownprovider")
    assert registry.lookup("api.openai.com").NAME == "openai"
    assert registry.lookup("127.0.0.1", 8001).NAME == "openai"
    assert registry.lookup("127.0.0.1", 8002) is None
    assert registry.lookup("MY-GW.internal", 443).NAME == "anthropic"
    assert "bad-entry" in caplog.text and "unknownprovider" in caplog.text
