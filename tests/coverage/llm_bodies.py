"""Documented OpenAI-shaped chat bodies shared by the OpenAI-compatible providers' coverage tests."""

from __future__ import annotations

import json
from typing import Any


def chat_body(model: str, prompt: int, completion: int, **usage_extra: Any) -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            **usage_extra,
        },
    }


def chat_chunks(model: str, usage: dict[str, Any] | None, **last: Any) -> list[tuple[None, dict[str, Any]]]:
    """Stream chunks: role, content, a finish chunk; `usage` on the final chunk (or under `last`)."""
    base = {"id": "cmpl-s", "object": "chat.completion.chunk", "created": 1_764_000_000, "model": model}
    chunks = [
        {
            **base,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
        },
        {**base, "choices": [{"index": 0, "delta": {"content": "Paris."}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], **last},
    ]
    if usage is not None:
        chunks[-1]["usage"] = usage
    return [(None, chunk) for chunk in chunks]


def usage_at_every_split(provider: Any, route: Any, body: bytes, *, stream: bool) -> list[Any]:
    """The usage parsed from `body` cut in two at every byte offset, as a capture sees it arrive."""
    from llmobserve_otel.capture._body import BodyObserver

    results = []
    for cut in range(len(body) + 1):
        observer = BodyObserver(provider, route, stream=stream, encoding=None, limit=1 << 20)
        observer.feed(body[:cut])
        observer.feed(body[cut:])
        results.append(observer.result())
    return results


def sse_bytes(events: list[tuple[str | None, Any]], newline: str = "\n") -> bytes:
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        prefix = f"event: {name}{newline}" if name else ""
        out.append(f"{prefix}data: {text}{newline}{newline}")
    return "".join(out).encode()
