"""Contracts between provider modules and the capture mechanism: what a provider knows, as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)  # one per call: slots make it smaller and quicker to build and read
class Usage:
    """What one provider call consumed, normalised to GenAI semantic conventions.

    `input_tokens` includes cached tokens (read and written), as the semconv and genai-prices define it.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    input_audio_tokens: int | None = None
    output_audio_tokens: int | None = None
    model: str | None = None
    response_id: str | None = None
    finish_reasons: list[str] = field(default_factory=list)
    units: dict[str, float] = field(default_factory=dict)
    """Non-token usage, `llmobserve.usage.<unit>` -> amount (characters, seconds, read_units, ...)."""


PRICED_TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
)
"""The `Usage` token counts LLM prices are made of; genai-prices' `Usage` has fields of the same names."""


class StreamState(Protocol):
    """Incremental usage parser for one streamed response: fed each decoded event, asked once at the end."""

    done: bool
    """True once the provider's terminal event passed (the app may close the body before EOF)."""

    def feed(self, event: str | None, data: str) -> None: ...

    def finish(self) -> Usage | None: ...


@dataclass
class SessionEvent:
    """What one message received on a provider's WebSocket session means for billing."""

    response_id: str
    usage: Usage | None = None
    """None: a billed response started; a Usage: it ended, billed with this usage (one span each)."""
    route: Route | None = None
    """The operation billed, when it is not the session's (e.g. input transcription in a Realtime session)."""


class WsSession(Protocol):
    """Incremental usage parser for one WebSocket session (e.g. OpenAI Realtime), fed each received message.

    Optional: `sent(message) -> SessionEvent | None`, fed each text message the app sent (APIs billing
    what the client sends, e.g. ElevenLabs streamed text-to-speech); `route: Route`, the operation
    (default `Route("realtime")`).
    """

    def feed(self, message: str) -> SessionEvent | None: ...


@dataclass(frozen=True)
class Route:
    """A billable endpoint: how a request path maps to an operation."""

    operation: str
    """`llmobserve.operation` and, for LLMs, `gen_ai.operation.name` (`chat`, `embeddings`, ...)."""
    kind: str = "llm"
    """`llm` for token-billed GenAI calls, else the family (`vector_db`, `speech`, ...)."""
    model: str | None = None
    """The model when the path names it (Bedrock `/model/{id}/converse`, Gemini `models/{m}:generateContent`)."""


class ProviderModule(Protocol):
    """What each module in `providers/` exports.

    Optional, looked up with `getattr` by the capture:
    - `parse_headers(route, headers) -> dict[str, float] | Usage | None`: units from response headers
      (e.g. AWS Polly's `x-amzn-RequestCharacters`); merged under the body's usage. A `Usage` also
      carries tokens (Bedrock InvokeModel's token-count headers): the body's fields win where set.
    - `match_request(method, path, headers) -> Route | None`: used instead of `match` by the captures
      that pass request headers (urllib3), for APIs naming the operation in a header (AWS JSON 1.1
      `x-amz-target`); `headers` is a read-only mapping with lower-case names.
    - `new_stream(route) -> StreamState`: for APIs that answer with SSE or AWS event streams
      (`application/vnd.amazon.eventstream`: each frame is fed as (`:event-type`, payload text)).
    - `TRANSPORTS: tuple[str, ...]`: wire transports covered (default `("https",)`), for the coverage table.
    - `SDK: str | None`: the PyPI distribution the tests drive (None: raw HTTP), for the coverage table.
    - `match_grpc(method) -> Route | None`: the billable gRPC method (`/package.Service/Method`).
    - `parse_grpc(route, method, response_message) -> Usage | None`: usage from a decoded protobuf
      response (read with `getattr`, no protobuf import); on server streams, called per message
      and the units added up.
    - `grpc_request_units(route, method, request_message) -> dict[str, float]`: units known from a
      unary request (e.g. write units from its size); merged under the response's.
    - `match_command(name, args) -> Route | None` and `parse_command(route, args, reply) -> Usage | None`:
      the same for database commands (MongoDB via pymongo monitoring, Redis via redis-py).
    - `new_ws_session(path, params) -> WsSession | None`: for APIs billed over a WebSocket (handshake
      path, and its query parameters as a dict: read only what is needed, never keys). Looked up on
      the module, else on a companion module `providers/<module>_realtime.py` (so `openai.py` need not
      import the Realtime parser).
    """

    NAME: str
    HOSTS: tuple[str, ...]
    """Exact `host` or `host:port`, or `*.suffix` for every subdomain (`*.openai.azure.com`)."""

    def match(self, method: str, path: str) -> Route | None: ...

    def request_info(self, route: Route, body: Any) -> dict[str, Any]:
        """From the decoded request body (JSON or form fields as a dict; None when neither):
        `model`, `stream` (bool) and `units` (dict unit -> amount known from the request alone,
        e.g. TTS characters). Must not raise on unexpected shapes."""
        ...

    def parse_json(self, route: Route, body: Any) -> Usage | None: ...
