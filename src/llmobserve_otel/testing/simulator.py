"""Local provider simulator: a real HTTP server that answers like the OpenAI and Anthropic APIs.

It needs no API keys and no network. The test suite, the benchmarks and the demo use it.
It is stdlib only, so it works in any install.

Usage::

    with ProviderSimulator() as sim:
        client = openai.OpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0)
        anthropic_client = anthropic.Anthropic(base_url=sim.url, api_key="sk-ant-test", max_retries=0)
        ...
        sim.requests[-1].headers["authorization"]

Standalone (until Ctrl-C or SIGTERM; prints the URL to stderr)::

    python -m llmobserve_otel.testing.simulator --port 8001

Routes (any other method or path answers 404 with the provider's error JSON)
------------------------------------------------------------------------------
``POST /v1/chat/completions``
    OpenAI Chat Completions. ``"stream": true`` sends ``chat.completion.chunk`` SSE events: a role
    chunk, the content deltas, a ``finish_reason`` chunk, then, only when
    ``stream_options.include_usage`` is true, a chunk with ``choices: []`` and the usage (the other
    chunks then carry ``"usage": null``, as OpenAI's do), then ``data: [DONE]``.
``POST /v1/responses``
    OpenAI Responses API. Streams send ``event: NAME`` + ``data: {"type": NAME,
    "sequence_number": n, ...}`` from ``response.created`` to ``response.completed`` (which holds
    the full response with usage). No ``[DONE]``, as in the real API.
``POST /v1/embeddings``
    One embedding per input item (a string, a list of strings, a token list or a list of token
    lists). ``dimensions`` defaults to 16. ``encoding_format: "base64"`` (the openai SDK's default)
    returns base64 of little-endian float32. The values are multiples of 1/128, so float32
    represents them exactly and both formats decode to the same numbers.
``POST /v1/messages``
    Anthropic Messages. Streams send ``message_start`` (usage with ``output_tokens: 1``),
    ``content_block_start``, ``ping``, the ``content_block_delta`` events, ``content_block_stop``,
    ``message_delta`` (``usage: {"output_tokens": FINAL}`` only) and ``message_stop``.

Errors use the provider's documented shapes: OpenAI ``{"error": {"message", "type", "param",
"code"}}`` and Anthropic ``{"type": "error", "error": {"type", "message"}, "request_id"}``. A path
under ``/v1/messages``, or a request with an ``anthropic-version`` header, gets the Anthropic shape.
Every response has a request id header (``x-request-id`` for OpenAI, ``request-id`` for Anthropic).

Request headers that control the simulator
------------------------------------------
``x-sim-usage``
    A JSON object with any of ``input_tokens``, ``output_tokens``, ``cached_tokens``,
    ``reasoning_tokens``, ``audio_input_tokens``, ``audio_output_tokens``,
    ``cache_creation_input_tokens`` and ``cache_read_input_tokens`` (non-negative integers). They
    are reported exactly as given and are never reconciled with each other. OpenAI semantics:
    ``cached_tokens`` and ``audio_input_tokens`` are parts of ``input_tokens``, and
    ``reasoning_tokens`` and ``audio_output_tokens`` are parts of ``output_tokens``. Anthropic
    semantics: the cache fields are reported separately and are not part of ``input_tokens``.
    ``total_tokens`` is always ``input_tokens + output_tokens``. Defaults when a key is missing:

    * ``input_tokens``: the number of whitespace-separated words in all the prompt text (messages,
      ``system``, ``input``, ``instructions``), at least 1. For embeddings it is the words of all
      the string inputs plus the length of every token list.
    * ``output_tokens``: the number of words in the reply text (0 for embeddings).
    * everything else: 0.
``x-sim-response-model``
    The model reported in the response. The request's ``model`` is the default, but OpenAI
    answers with a dated snapshot name such as ``gpt-4o-2024-08-06``.
``x-sim-events``
    The number of content delta events in a stream (default 5). The reply is padded with filler
    words until it has at least that many words, so the non-stream reply matches the stream.
``x-sim-fault``
    A comma-separated list of:

    * ``status:NNN``: answer NNN with the provider's error JSON. The SDKs retry 429 and 5xx (and
      connection errors) by default, so tests should pass ``max_retries=0``.
    * ``reset``: close the connection with a TCP RST before sending anything.
    * ``reset_mid_stream``: send the headers and the first half of the SSE events (or of the JSON
      body), then close the connection with a TCP RST, without the terminating chunk.
    * ``truncated_json``: 200 with the first half of the JSON body (Content-Length of the cut body).
      Non-stream only; ``broken_sse`` is its stream counterpart.
    * ``empty``: 200 with an empty body.
    * ``gzip``: ``Content-Encoding: gzip``. A non-stream body is compressed whole; a stream is
      compressed as it goes, with a sync flush after every event.
    * ``wrong_types``: every usage object keeps its keys but integers become, in turn, a string,
      null and a list, and nested objects become strings. This applies to streams, too.
    * ``broken_sse``: the data of the second content delta event is cut in half (invalid JSON), the
      stream continues, and it ends without usage: no usage chunk (chat), ``"usage": null`` in
      ``response.completed`` (responses), no ``message_delta`` (messages).
    * ``slow_stream:MS``: sleep MS milliseconds between SSE events.

A malformed ``x-sim-*`` header or request body answers 400 with the provider's error JSON.

The reply text is deterministic and readable: ``"This is a simulated reply to: <the first 12 words
of the last user message>"``, padded as described under ``x-sim-events``.

Every request is recorded in ``ProviderSimulator.requests`` after its body is read, before any
fault applies.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import itertools
import json
import signal
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, Literal

__all__ = ["ProviderSimulator", "RecordedRequest"]

Provider = Literal["openai", "anthropic"]

DEFAULT_STREAM_EVENTS = 5
DEFAULT_EMBEDDING_DIMENSIONS = 16
_MAX_STREAM_EVENTS = 1_000_000
_SNIPPET_WORDS = 12
_FILLER_WORDS = ("lorem", "ipsum", "dolor", "sit", "amet")
_BOOLEAN_FAULTS = (
    "reset",
    "reset_mid_stream",
    "truncated_json",
    "empty",
    "gzip",
    "wrong_types",
    "broken_sse",
)
_ids = itertools.count(1)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the simulator received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any


class _BadRequest(Exception):
    """A request the simulator refuses with a 400 (bad control header or body)."""


@dataclass(frozen=True)
class _Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @classmethod
    def from_header(cls, raw: str | None, *, input_tokens: int, output_tokens: int) -> _Usage:
        values: dict[str, int] = {"input_tokens": input_tokens, "output_tokens": output_tokens}
        if raw:
            try:
                requested = json.loads(raw)
            except ValueError as exc:
                raise _BadRequest(f"x-sim-usage is not valid JSON: {exc}") from exc
            if not isinstance(requested, dict):
                raise _BadRequest("x-sim-usage must be a JSON object")
            known = {f.name for f in fields(cls)}
            for key, value in requested.items():
                if key not in known:
                    raise _BadRequest(f"x-sim-usage: unknown key {key!r}; known: {sorted(known)}")
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise _BadRequest(f"x-sim-usage: {key} must be a non-negative integer")
                values[key] = value
        return cls(**values)


@dataclass(frozen=True)
class _Faults:
    status: int | None = None
    slow_ms: int = 0
    reset: bool = False
    reset_mid_stream: bool = False
    truncated_json: bool = False
    empty: bool = False
    gzip: bool = False
    wrong_types: bool = False
    broken_sse: bool = False

    @classmethod
    def parse(cls, raw: str | None) -> _Faults:
        values: dict[str, Any] = {}
        for item in (raw or "").split(","):
            name, _, arg = item.strip().partition(":")
            if not name:
                continue
            if name in _BOOLEAN_FAULTS and not arg:
                values[name] = True
            elif name == "status":
                values["status"] = _int_arg(name, arg, 100, 599)
            elif name == "slow_stream":
                values["slow_ms"] = _int_arg(name, arg, 0, 60_000)
            else:
                raise _BadRequest(f"x-sim-fault: unknown fault {item.strip()!r}")
        return cls(**values)


def _int_arg(name: str, arg: str, low: int, high: int) -> int:
    try:
        value = int(arg)
    except ValueError:
        raise _BadRequest(f"x-sim-fault: {name} needs an integer argument, got {arg!r}") from None
    if not low <= value <= high:
        raise _BadRequest(f"x-sim-fault: {name} argument must be in [{low}, {high}]")
    return value


@dataclass(frozen=True)
class _Call:
    """A parsed provider request plus the simulator's control headers."""

    body: dict[str, Any]
    model: str
    usage: _Usage
    faults: _Faults
    text: str
    pieces: list[str]

    @property
    def stream(self) -> bool:
        return self.body.get("stream") is True


@dataclass(frozen=True)
class _Event:
    """One SSE event; ``data`` is a JSON object or a raw string such as ``[DONE]``."""

    name: str | None
    data: dict[str, Any] | str
    is_delta: bool = False


# ---------------------------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------------------------


def _texts(value: Any) -> list[str]:
    """All the text in a content value: a string, a list of parts, or message-like dicts."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            return [value["text"]]
        return _texts(value.get("content"))
    return []


def _word_count(texts: list[str]) -> int:
    return sum(len(text.split()) for text in texts)


def _prompt_texts(body: dict[str, Any]) -> list[str]:
    return [
        *_texts(body.get("system")),
        *_texts(body.get("instructions")),
        *_texts(body.get("messages")),
        *_texts(body.get("input")),
    ]


def _last_user_text(body: dict[str, Any]) -> str:
    conversation = body.get("messages", body.get("input"))
    if isinstance(conversation, str):
        return conversation
    if isinstance(conversation, list):
        for message in reversed(conversation):
            if isinstance(message, dict) and message.get("role") == "user":
                return " ".join(_texts(message.get("content")))
    return ""


def _reply_pieces(body: dict[str, Any], events: int) -> list[str]:
    words = _last_user_text(body).split()
    snippet = " ".join(words[:_SNIPPET_WORDS]) + (" ..." if len(words) > _SNIPPET_WORDS else "")
    reply = f"This is a simulated reply to: {snippet or '(no user message)'}".split()
    reply.extend(itertools.islice(itertools.cycle(_FILLER_WORDS), max(0, events - len(reply))))
    return _split_words(reply, events)


def _split_words(words: list[str], parts: int) -> list[str]:
    """Split words into ``parts`` non-empty pieces that join back to the space-separated text."""
    size, extra = divmod(len(words), parts)
    pieces: list[str] = []
    start = 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        prefix = " " if start else ""
        pieces.append(prefix + " ".join(words[start:end]))
        start = end
    return pieces


# ---------------------------------------------------------------------------------------------
# Usage payloads
# ---------------------------------------------------------------------------------------------


def _chat_usage(usage: _Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_tokens,
            "audio_tokens": usage.audio_input_tokens,
        },
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": usage.audio_output_tokens,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _responses_usage(usage: _Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def _anthropic_usage(usage: _Usage, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.cache_creation_input_tokens,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _embeddings_usage(usage: _Usage) -> dict[str, Any]:
    return {"prompt_tokens": usage.input_tokens, "total_tokens": usage.input_tokens}


def _wrong_types(usage: dict[str, Any]) -> dict[str, Any]:
    """Keep the keys, break the types: ints cycle through str / null / list, objects become str."""
    broken: dict[str, Any] = {}
    for index, (key, value) in enumerate(usage.items()):
        if isinstance(value, dict):
            broken[key] = json.dumps(value)
        elif isinstance(value, int):
            broken[key] = (str(value), None, [value])[index % 3]
        else:
            broken[key] = value
    return broken


def _usage_payload(call: _Call, build: Callable[[_Usage], dict[str, Any]]) -> dict[str, Any]:
    payload = build(call.usage)
    return _wrong_types(payload) if call.faults.wrong_types else payload


def _new_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):08d}"


# ---------------------------------------------------------------------------------------------
# OpenAI Chat Completions
# ---------------------------------------------------------------------------------------------


def _chat_completions(call: _Call) -> dict[str, Any] | list[_Event]:
    base: dict[str, Any] = {
        "id": _new_id("chatcmpl-sim"),
        "created": int(time.time()),
        "model": call.model,
        "service_tier": "default",
        "system_fingerprint": "fp_sim",
    }
    if not call.stream:
        message = {"role": "assistant", "content": call.text, "refusal": None, "annotations": []}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        return {
            **base,
            "object": "chat.completion",
            "choices": [choice],
            "usage": _usage_payload(call, _chat_usage),
        }
    return _chat_stream(call, base)


def _chat_stream(call: _Call, base: dict[str, Any]) -> list[_Event]:
    options = call.body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    base = {**base, "object": "chat.completion.chunk"}
    if include_usage:
        base["usage"] = None

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**base, "choices": [choice]}

    events = [_Event(None, chunk({"role": "assistant", "content": "", "refusal": None}))]
    events += [_Event(None, chunk({"content": piece}), is_delta=True) for piece in call.pieces]
    events.append(_Event(None, chunk({}, "stop")))
    if include_usage and not call.faults.broken_sse:
        events.append(_Event(None, {**base, "choices": [], "usage": _usage_payload(call, _chat_usage)}))
    events.append(_Event(None, "[DONE]"))
    return events


# ---------------------------------------------------------------------------------------------
# OpenAI Responses
# ---------------------------------------------------------------------------------------------


def _response_object(call: _Call, response_id: str, created_at: int) -> dict[str, Any]:
    """The ``response`` object as it is while generating; completed fields are set by the caller."""
    body = call.body
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": "in_progress",
        "background": False,
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": call.model,
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": {},
    }


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _output_message(item_id: str, status: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "message", "id": item_id, "status": status, "role": "assistant", "content": content}


def _responses(call: _Call) -> dict[str, Any] | list[_Event]:
    response_id, item_id, created_at = _new_id("resp_sim"), _new_id("msg_sim"), int(time.time())
    in_progress = _response_object(call, response_id, created_at)
    done_item = _output_message(item_id, "completed", [_output_text(call.text)])
    usage = None if call.faults.broken_sse and call.stream else _usage_payload(call, _responses_usage)
    completed = {
        **in_progress,
        "status": "completed",
        "completed_at": created_at,
        "output": [done_item],
        "usage": usage,
    }
    if not call.stream:
        return completed
    return _responses_stream(call, in_progress, completed, item_id)


def _responses_stream(
    call: _Call, in_progress: dict[str, Any], completed: dict[str, Any], item_id: str
) -> list[_Event]:
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    specs: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": in_progress}),
        ("response.in_progress", {"response": in_progress}),
        (
            "response.output_item.added",
            {"output_index": 0, "item": _output_message(item_id, "in_progress", [])},
        ),
        ("response.content_part.added", {**where, "part": _output_text("")}),
        *(("response.output_text.delta", {**where, "delta": p, "logprobs": []}) for p in call.pieces),
        ("response.output_text.done", {**where, "text": call.text, "logprobs": []}),
        ("response.content_part.done", {**where, "part": _output_text(call.text)}),
        ("response.output_item.done", {"output_index": 0, "item": completed["output"][0]}),
        ("response.completed", {"response": completed}),
    ]
    return [
        _Event(name, {"type": name, "sequence_number": seq, **data}, is_delta=name.endswith(".delta"))
        for seq, (name, data) in enumerate(specs)
    ]


# ---------------------------------------------------------------------------------------------
# OpenAI Embeddings
# ---------------------------------------------------------------------------------------------


def _embedding_inputs(value: Any) -> list[Any]:
    if isinstance(value, list) and value and all(isinstance(item, (str, list)) for item in value):
        return value
    return [value]


def _embedding_input_tokens(inputs: list[Any]) -> int:
    return sum(len(item) if isinstance(item, list) else len(str(item).split()) for item in inputs)


def _embedding_vector(item: Any, dimensions: int) -> list[float]:
    digest = hashlib.sha256(json.dumps(item).encode()).digest()
    return [digest[i % len(digest)] / 128.0 - 1.0 for i in range(dimensions)]


def _embeddings(call: _Call) -> dict[str, Any] | list[_Event]:
    dimensions = call.body.get("dimensions") or DEFAULT_EMBEDDING_DIMENSIONS
    if not isinstance(dimensions, int) or isinstance(dimensions, bool) or not 0 < dimensions <= 65_536:
        raise _BadRequest("dimensions must be a positive integer")
    as_base64 = call.body.get("encoding_format") == "base64"
    data = []
    for index, item in enumerate(_embedding_inputs(call.body.get("input"))):
        vector = _embedding_vector(item, dimensions)
        encoded: list[float] | str = (
            base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode() if as_base64 else vector
        )
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    return {
        "object": "list",
        "data": data,
        "model": call.model,
        "usage": _usage_payload(call, _embeddings_usage),
    }


# ---------------------------------------------------------------------------------------------
# Anthropic Messages
# ---------------------------------------------------------------------------------------------


def _messages(call: _Call) -> dict[str, Any] | list[_Event]:
    message: dict[str, Any] = {
        "id": _new_id("msg_sim"),
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": [{"type": "text", "text": call.text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": _usage_payload(call, lambda u: _anthropic_usage(u, u.output_tokens)),
    }
    if not call.stream:
        return message
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": _usage_payload(call, lambda u: _anthropic_usage(u, 1)),
    }
    final_usage = _usage_payload(call, lambda u: {"output_tokens": u.output_tokens})
    events = [
        _Event("message_start", {"type": "message_start", "message": start}),
        _Event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        _Event("ping", {"type": "ping"}),
    ]
    for piece in call.pieces:
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
        events.append(_Event("content_block_delta", delta, is_delta=True))
    events.append(_Event("content_block_stop", {"type": "content_block_stop", "index": 0}))
    if not call.faults.broken_sse:
        delta = {"stop_reason": "end_turn", "stop_sequence": None}
        events.append(
            _Event("message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage})
        )
    events.append(_Event("message_stop", {"type": "message_stop"}))
    return events


# ---------------------------------------------------------------------------------------------
# Routing, errors and wire encoding
# ---------------------------------------------------------------------------------------------

_ROUTES: dict[str, tuple[Provider, Callable[[_Call], dict[str, Any] | list[_Event]]]] = {
    "/v1/chat/completions": ("openai", _chat_completions),
    "/v1/responses": ("openai", _responses),
    "/v1/embeddings": ("openai", _embeddings),
    "/v1/messages": ("anthropic", _messages),
}

_OPENAI_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}
_ANTHROPIC_ERRORS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def _provider_for(path: str, headers: dict[str, str]) -> Provider:
    if path.startswith("/v1/messages") or "anthropic-version" in headers:
        return "anthropic"
    return "openai"


def _error_body(provider: Provider, status: int, message: str, request_id: str) -> dict[str, Any]:
    if provider == "anthropic":
        default = "api_error" if status >= 500 else "invalid_request_error"
        error = {"type": _ANTHROPIC_ERRORS.get(status, default), "message": message}
        return {"type": "error", "error": error, "request_id": request_id}
    default_type = "server_error" if status >= 500 else "invalid_request_error"
    error_type, code = _OPENAI_ERRORS.get(status, (default_type, None))
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


def _request_id_header(provider: Provider) -> str:
    return "request-id" if provider == "anthropic" else "x-request-id"


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _encode_event(event: _Event, *, cut: bool = False) -> bytes:
    data = event.data if isinstance(event.data, str) else _dumps(event.data).decode()
    if cut:
        data = data[: len(data) // 2]
    head = f"event: {event.name}\n" if event.name else ""
    return f"{head}data: {data}\n\n".encode()


def _encode_stream(events: list[_Event], faults: _Faults) -> list[bytes]:
    deltas = [index for index, event in enumerate(events) if event.is_delta]
    broken = deltas[min(1, len(deltas) - 1)] if faults.broken_sse and deltas else -1
    return [_encode_event(event, cut=index == broken) for index, event in enumerate(events)]


def _parse_events_header(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_STREAM_EVENTS
    try:
        events = int(raw)
    except ValueError:
        raise _BadRequest(f"x-sim-events must be an integer, got {raw!r}") from None
    if not 1 <= events <= _MAX_STREAM_EVENTS:
        raise _BadRequest(f"x-sim-events must be in [1, {_MAX_STREAM_EVENTS}]")
    return events


def _build_call(path: str, body: dict[str, Any], headers: dict[str, str], faults: _Faults) -> _Call:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _BadRequest("you must provide a model parameter")
    pieces = _reply_pieces(body, _parse_events_header(headers.get("x-sim-events")))
    text = "".join(pieces)
    if path == "/v1/embeddings":
        input_tokens = _embedding_input_tokens(_embedding_inputs(body.get("input")))
        output_tokens = 0
    else:
        input_tokens = max(1, _word_count(_prompt_texts(body)))
        output_tokens = len(text.split())
    usage = _Usage.from_header(
        headers.get("x-sim-usage"), input_tokens=input_tokens, output_tokens=output_tokens
    )
    response_model = headers.get("x-sim-response-model") or model
    return _Call(body=body, model=response_model, usage=usage, faults=faults, text=text, pieces=pieces)


# ---------------------------------------------------------------------------------------------
# HTTP server
# ---------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return "llmobserve-provider-simulator/1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a benchmark makes thousands of requests."""

    def do_POST(self) -> None:
        self._handle()

    do_GET = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_POST

    def _handle(self) -> None:
        body = self._read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        path = self.path.split("?", 1)[0]
        provider = _provider_for(path, headers)
        parsed = _parse_json(body)
        self.server.simulator._record(RecordedRequest(self.command, self.path, headers, body, parsed))
        try:
            faults = _Faults.parse(headers.get("x-sim-fault"))
            if faults.reset:
                self._abort()
                return
            if faults.status is not None:
                self._send_error(
                    provider, faults.status, f"Simulated error (x-sim-fault: status:{faults.status})"
                )
                return
            route = _ROUTES.get(path) if self.command == "POST" else None
            if route is None:
                self._send_error(provider, 404, f"Invalid URL ({self.command} {path})")
                return
            if not isinstance(parsed, dict):
                raise _BadRequest("the request body must be a JSON object")
            call = _build_call(path, parsed, headers, faults)
            result = route[1](call)
        except _BadRequest as exc:
            self._send_error(provider, 400, str(exc))
            return
        if isinstance(result, dict):
            self._send_json(provider, result, faults)
        else:
            self._send_stream(provider, _encode_stream(result, faults), faults)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _start(
        self, provider: Provider, status: int, headers: dict[str, str], request_id: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header(_request_id_header(provider), request_id or _new_id("req_sim"))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send_error(self, provider: Provider, status: int, message: str) -> None:
        request_id = _new_id("req_sim")
        body = _dumps(_error_body(provider, status, message, request_id))
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        self._start(provider, status, headers, request_id)
        self.wfile.write(body)

    def _send_json(self, provider: Provider, data: dict[str, Any], faults: _Faults) -> None:
        body = b"" if faults.empty else _dumps(data)
        if faults.truncated_json:
            body = body[: len(body) // 2]
        headers = {"Content-Type": "application/json"}
        if faults.gzip:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Length"] = str(len(body))
        self._start(provider, 200, headers)
        if faults.reset_mid_stream:
            self.wfile.write(body[: len(body) // 2])
            self._abort()
            return
        self.wfile.write(body)

    def _send_stream(self, provider: Provider, frames: list[bytes], faults: _Faults) -> None:
        headers = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        if faults.empty:
            self._start(provider, 200, {**headers, "Content-Length": "0"})
            return
        headers["Transfer-Encoding"] = "chunked"
        compressor = zlib.compressobj(wbits=31) if faults.gzip else None
        if compressor is not None:
            headers["Content-Encoding"] = "gzip"
        self._start(provider, 200, headers)
        cut = len(frames) // 2 if faults.reset_mid_stream else len(frames)
        for index, frame in enumerate(frames[:cut]):
            if index and faults.slow_ms:
                time.sleep(faults.slow_ms / 1000)
            if compressor is not None:
                frame = compressor.compress(frame) + compressor.flush(zlib.Z_SYNC_FLUSH)
            self._write_chunk(frame)
        if faults.reset_mid_stream:
            self._abort()
            return
        if compressor is not None:
            self._write_chunk(compressor.flush())
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, data: bytes) -> None:
        # One write per event so every event leaves in its own segment (TCP_NODELAY is on).
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))

    def _abort(self) -> None:
        """Close with a TCP RST (SO_LINGER 0) instead of an orderly FIN."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.server.mark_aborted(self.connection)


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], simulator: ProviderSimulator) -> None:
        self.simulator = simulator
        self._connections_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._aborted: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a reverse DNS lookup that can stall offline.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def mark_aborted(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._aborted.add(connection)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
            aborted = request in self._aborted
            self._aborted.discard(request)
        if aborted:
            # Skip the SHUT_WR of the default: it would send a FIN before the RST.
            self.close_request(request)
        else:
            super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away mid-response: normal for cancelled streams
        super().handle_error(request, client_address)


class ProviderSimulator:
    """A local HTTP server that answers like the OpenAI and Anthropic APIs (see the module doc)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()

    def start(self) -> ProviderSimulator:
        if self._server is not None:
            return self
        self._server = _Server(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"provider-simulator-{self._server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> ProviderSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def host_port(self) -> str:
        if self._server is None:
            raise RuntimeError("ProviderSimulator is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.host_port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first."""
        with self._requests_lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._requests_lock:
            self._requests.append(request)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m llmobserve_otel.testing.simulator",
        description="Run the local OpenAI / Anthropic provider simulator until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    simulator = ProviderSimulator(args.host, args.port)
    try:
        simulator.start()
        print(
            f"provider simulator listening on {simulator.url} "
            f"(OpenAI base_url {simulator.url}/v1, Anthropic base_url {simulator.url}); Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
