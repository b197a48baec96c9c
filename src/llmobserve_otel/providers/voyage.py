"""Voyage AI (voyageai SDK): embeddings, contextualized and multimodal embeddings, rerank; billed per token.

Wire format: https://docs.voyageai.com/reference/embeddings-api — `usage.total_tokens` on every
answer (multimodal: `text_tokens` and `image_pixels` too). The sync client sends through `requests`
(captured at urllib3); the async client through aiohttp. Keys starting `al-` go to MongoDB's
`ai.mongodb.com/v1`, same API. Prices: pricing/data/voyage.toml (genai-prices has no Voyage).
"""

from __future__ import annotations

from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._types import Route, Usage

NAME = "voyage"
HOSTS = ("api.voyageai.com", "ai.mongodb.com")
TRANSPORTS = ("https",)
SDK = "voyageai"

EMBEDDINGS = Route("embeddings")
CONTEXTUALIZED = Route("embeddings")
MULTIMODAL = Route("embeddings")
RERANK = Route("rerank")
ROUTES: tuple[tuple[str, Route], ...] = (
    ("/contextualizedembeddings", CONTEXTUALIZED),
    ("/multimodalembeddings", MULTIMODAL),
    ("/embeddings", EMBEDDINGS),
    ("/rerank", RERANK),
)


def match(method: str, path: str) -> Route | None:
    if method != "POST":
        return None
    path = path.rstrip("/")
    return next((route for suffix, route in ROUTES if path.endswith(suffix)), None)


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {"model": as_str(dig(body, "model"))}


def parse_json(route: Route, body: Any) -> Usage | None:
    usage = dig(body, "usage")
    if not isinstance(usage, dict):
        return None
    tokens = as_int(usage.get("text_tokens")) if route is MULTIMODAL else None
    result = Usage(
        input_tokens=tokens if tokens is not None else as_int(usage.get("total_tokens")),
        output_tokens=0,
        model=as_str(dig(body, "model")),
    )
    if route is MULTIMODAL:
        if (pixels := as_int(usage.get("image_pixels"))) is not None:
            result.units["pixels"] = pixels
        if video := as_int(usage.get("video_pixels")):  # recorded; not priced (no published rate found)
            result.units["video_pixels"] = video
    return result
