"""Azure OpenAI: the OpenAI wire format under `/openai/deployments/{deployment}/...` or `/openai/v1/...`.

A deployment name (in the path, and in the body's `model` for the v1 API) is the customer's own
label, not a model: the model is read from the response body's `model` only, so a deployment
named like another model never prices the call as that model. Prices: genai-prices provider
`azure` (global deployments; data-zone and regional deployments cost more, see
https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/).
"""

from __future__ import annotations

from typing import Any

from llmobserve_otel.providers import openai
from llmobserve_otel.providers._types import Route
from llmobserve_otel.providers.openai import new_stream, parse_json

__all__ = ("HOSTS", "NAME", "ROUTES", "match", "new_stream", "parse_json", "request_info")

NAME = "azure_openai"
HOSTS = ("*.openai.azure.com", "*.cognitiveservices.azure.com")
TRANSPORTS = ("https",)
SDK = "openai"
COVERAGE_NOTE = "model from the response (deployment names are not models); global-deployment prices"

ROUTES = openai.ROUTES


def match(method: str, path: str) -> Route | None:
    return openai.match_routes(ROUTES, method, path)


def request_info(route: Route, body: Any) -> dict[str, Any]:
    info = openai.request_info(route, body)
    info["model"] = None  # a deployment name, not a model (see the module docstring)
    return info
