"""Chat stream chunks dropped undecoded (`ChatStream.skips`) are exactly those `feed` would ignore."""

from __future__ import annotations

import json

import pytest

from llmobserve_otel.capture._body import BodyObserver
from llmobserve_otel.providers import groq, openai
from llmobserve_otel.providers._sse import SSEDecoder


def event(**chunk: object) -> bytes:
    return (
        b"data: "
        + json.dumps(
            {"id": "c1", "model": "gpt-4o", **chunk}, separators=(",", ":"), ensure_ascii=False
        ).encode()
        + b"\n\n"
    )


def content(text: str, **extra: object) -> bytes:
    choice = {"index": 0, "delta": {"content": text}, "finish_reason": None}
    return event(choices=[choice], usage=None, **extra)


FIRST = content("")
FINISH = event(choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}], usage=None)
USAGE = event(choices=[], usage={"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12})
DONE = b"data: [DONE]\n\n"


def started() -> openai.ChatStream:
    state = openai.ChatStream()
    state.feed(None, FIRST.decode()[6:-2])
    return state


@pytest.mark.parametrize(
    ("text", "skipped"),
    [
        (content("hi"), True),
        (content("hi") + content(" there"), False),  # each key twice: decoded (feed ignores them)
        (content('say "usage":{ and "finish_reason":"x"'), True),  # inside a string: escaped quotes
        (content("naïve café ✓ 日本"), True),  # UTF-8 text, not JSON escapes
        (FINISH, False),
        (USAGE, False),
        (content("hi") + FINISH, False),
        (DONE, False),
        (content("hi").replace(b'"usage":null', b'"usage" : {"prompt_tokens":1}'), False),  # spaces
        (content("hi", x_groq={"usage": {"prompt_tokens": 1}}), False),  # a second usage key
        (content("hi").replace(b'"finish_reason":null', b'"finish_reason":\n"stop"'), False),
    ],
)
def test_skips(text: bytes, skipped: bool) -> None:
    assert started().skips(text.decode()) is skipped


def test_the_first_chunk_is_never_skipped() -> None:
    assert openai.ChatStream().skips(content("hi").decode()) is False


def observed(module, chunks: list[bytes], *, skip: bool):  # type: ignore[no-untyped-def]
    observer = BodyObserver(module, openai.CHAT, stream=True, encoding=None, limit=1 << 20)
    if not skip:
        observer._sse = SSEDecoder()  # the same decoder without the state's screen
    for chunk in chunks:
        observer.feed(chunk)
    return observer.result()


BODY = FIRST + content("a") + content("b") + FINISH + USAGE + DONE
UNICODE_BODY = FIRST + content("naïve ") + content("café ✓") + FINISH + USAGE + DONE
GROQ_BODY = (
    FIRST + content("a") + content("b", x_groq={"usage": {"prompt_tokens": 4, "completion_tokens": 2}}) + DONE
)


@pytest.mark.parametrize(
    ("module", "body"),
    [(openai, BODY), (openai, UNICODE_BODY), (groq, GROQ_BODY)],
    ids=["openai", "unicode", "groq"],
)
def test_same_usage_at_every_split_point(module, body: bytes) -> None:  # type: ignore[no-untyped-def]
    whole = observed(module, [body], skip=False)
    assert whole is not None and whole.input_tokens in (9, 4)
    for i in range(len(body) + 1):
        assert observed(module, [body[:i], body[i:]], skip=True) == whole, i
    events = [e + b"\n\n" for e in body.split(b"\n\n") if e]
    assert observed(module, events, skip=True) == whole
    assert observed(module, events, skip=False) == whole
