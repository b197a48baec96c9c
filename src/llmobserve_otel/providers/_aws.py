"""Shared AWS wire knowledge: endpoint host patterns and JSON 1.1 operations named by `X-Amz-Target`.

Services on the AWS JSON 1.1 protocol (Rekognition, Transcribe) POST every operation to `/` and name
it in the `X-Amz-Target: <Prefix>.<Operation>` header, so their modules define
`match_request(method, path, headers)` (see `_types.ProviderModule`) and read it with `target`.
REST services (Bedrock Runtime, Polly) name the operation in the path and use plain `match`.
"""

from __future__ import annotations

from collections.abc import Mapping

from llmobserve_otel.providers._types import Route


def hosts(prefix: str) -> tuple[str, ...]:
    """Regional endpoint patterns of a service: `<prefix>.<region>.amazonaws.com`, FIPS and China."""
    return (
        f"{prefix}.*.amazonaws.com",
        f"{prefix}-fips.*.amazonaws.com",
        f"{prefix}.*.amazonaws.com.cn",
    )


def target(headers: Mapping[str, str], prefix: str) -> str | None:
    """The operation named by `X-Amz-Target` when it belongs to `prefix` (`RekognitionService`), else None."""
    value = headers.get("x-amz-target")
    if not value:
        return None
    service, _, operation = value.partition(".")
    return operation or None if service == prefix else None


def target_route(
    method: str, headers: Mapping[str, str], prefix: str, routes: Mapping[str, Route]
) -> Route | None:
    """A JSON 1.1 service's `match_request`: the route of the `X-Amz-Target` operation, for POSTs."""
    if method != "POST":
        return None
    operation = target(headers, prefix)
    return routes.get(operation) if operation else None
