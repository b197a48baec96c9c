"""The pricing core: span attributes in, cost attributes out.

One function serves every place cost is computed (the SDK span processor, the local collector,
the proxy and the collector-side processor): `cost_attributes(attributes, source=...)`. It reads
usage in GenAI semconv terms (either spelling seen in the wild), prices LLM tokens with
genai-prices at the call's timestamp, and every other unit (characters, read units, payment
amounts, ...) from our own price data (`_catalogue`), which also carries the user's overrides.
It never raises: an unknown model gives a status and a reason, not a guess. Nothing here touches
the network; both catalogues load on first use. A span carrying `llmobserve.usage.billed_usd` (the
charge the provider itself reported in its response: Twilio's `price`, PayPal's `paypal_fee`) is
priced at that figure, over any rate.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from llmobserve_otel import semconv as sc
from llmobserve_otel.pricing._catalogue import Catalogue, UnitPrice, unit_cost
from llmobserve_otel.pricing._llm import LlmPrice, LlmPricer, UnknownModelError, linear_cost_usd

__all__ = (
    "TOKEN_COUNT_ATTRIBUTES",
    "Price",
    "catalogue",
    "cost_attributes",
    "price",
    "priced_model",
    "provider_id",
    "token_cost_usd",
)

_log = logging.getLogger(__name__)
_pricer = LlmPricer()
catalogue = Catalogue()
"""Our own price data plus `LLMOBSERVE_PRICING_FILE`; consulted before genai-prices."""
_warned: set[tuple[str | None, str]] = set()
_BILLED_USD = f"{sc.USAGE_PREFIX}billed_usd"

# Our provider ids and GenAI semconv provider names -> genai-prices provider ids.
_GENAI_PRICES_PROVIDER: Mapping[str, str] = {
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure_openai": "azure",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "gcp.vertex_ai": "google",
    "gemini": "google",
    "groq": "groq",
    "mistral_ai": "mistral",
    "mistral": "mistral",
    "openai": "openai",
    "perplexity": "perplexity",
    "together": "together",
    "x_ai": "x-ai",
}

# attribute -> genai-prices usage key; the first attribute present for a key wins.
_TOKEN_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    (sc.GEN_AI_USAGE_INPUT_TOKENS, "input_tokens"),
    (sc.GEN_AI_USAGE_PROMPT_TOKENS, "input_tokens"),
    (sc.GEN_AI_USAGE_OUTPUT_TOKENS, "output_tokens"),
    (sc.GEN_AI_USAGE_COMPLETION_TOKENS, "output_tokens"),
    (sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, "cache_read_tokens"),
    (sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, "cache_write_tokens"),
    (sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, "cache_write_tokens"),
    (sc.USAGE_INPUT_AUDIO_TOKENS, "input_audio_tokens"),
    (sc.USAGE_OUTPUT_AUDIO_TOKENS, "output_audio_tokens"),
    (sc.USAGE_CACHE_AUDIO_READ_TOKENS, "cache_audio_read_tokens"),
)
TOKEN_COUNT_ATTRIBUTES = sc.TOKEN_COUNT_ATTRIBUTES  # the input and output spellings above


@dataclass(frozen=True)
class Price:
    """The outcome of pricing one span."""

    status: str
    """`priced`, `unknown_model`, `no_usage` or `error` (see `semconv.STATUS_*`)."""
    cost_usd: Decimal | None = None
    reason: str | None = None
    model_id: str | None = None
    """The catalogue's model id the call was matched to."""


_Outcome = tuple[str, Decimal | None, str | None, str | None]
"""`Price` fields in order: status, cost_usd, reason, model_id."""


def provider_id(attributes: Mapping[str, Any]) -> str | None:
    """The provider of a span: ours, else the GenAI semconv name (new, then old spelling)."""
    for key in (sc.PROVIDER, sc.GEN_AI_PROVIDER_NAME, sc.GEN_AI_SYSTEM):
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return value.lower()
    return None


def priced_model(attributes: Mapping[str, Any]) -> str | None:
    """The model a span is priced by: the response's, else the request's."""
    for key in (sc.GEN_AI_RESPONSE_MODEL, sc.GEN_AI_REQUEST_MODEL):
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _usage(attributes: Mapping[str, Any]) -> dict[str, int]:
    usage: dict[str, int] = {}
    get = attributes.get
    for attribute, key in _TOKEN_ATTRIBUTES:
        value = get(attribute)
        if value is None or key in usage:  # most of these attributes are absent
            continue
        if type(value) is not int:  # bools are not counts; integral floats are
            if isinstance(value, bool):
                continue
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            elif not isinstance(value, int):
                continue
        if value >= 0:
            usage[key] = value
    return usage


def _catalogue_units(
    entry: UnitPrice, attributes: Mapping[str, Any], usage: dict[str, int]
) -> dict[str, float]:
    """The amounts of the entry's units; `input_tokens` excludes cached tokens the entry prices apart."""
    usage = dict(usage)
    if "input_tokens" in usage:
        for cached in ("cache_read_tokens", "cache_write_tokens"):
            if cached in entry.rates:
                usage["input_tokens"] = max(0, usage["input_tokens"] - usage.get(cached, 0))
    units: dict[str, float] = {}
    for unit in entry.rates:
        value = usage.get(unit) if unit in usage else attributes.get(f"{sc.USAGE_PREFIX}{unit}")
        if _is_number(value) and value >= 0:
            units[unit] = value
    return units


def _price_from_catalogue(
    provider: str, attributes: Mapping[str, Any], usage: dict[str, int], when: datetime
) -> _Outcome | None:
    """Price from our data / the user's file; None when no entry applies (genai-prices may)."""
    operation = attributes.get(sc.OPERATION) or attributes.get(sc.GEN_AI_OPERATION_NAME)
    model = priced_model(attributes)
    entry = catalogue.find(provider, operation if isinstance(operation, str) else None, model, when)
    if entry is None:
        return None
    units = _catalogue_units(entry, attributes, usage)
    status = attributes.get(sc.HTTP_RESPONSE_STATUS_CODE)
    if not units and isinstance(status, int) and status >= 400:  # no implicit per-call fee on a refusal
        return (sc.STATUS_NO_USAGE, None, f"HTTP {status}: the call was refused, nothing billed", None)
    cost = unit_cost(entry, units)
    if cost is None:
        units = ", ".join(sorted(entry.rates))
        return (sc.STATUS_NO_USAGE, None, f"no usage in the units {provider} is priced by ({units})", None)
    return (sc.STATUS_PRICED, cost, None, entry.model or model)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _has_units(attributes: Mapping[str, Any]) -> bool:
    """Whether the span carries any `llmobserve.usage.<unit>` amount (without one it has no usage to price)."""
    return any(key.startswith(sc.USAGE_PREFIX) and _is_number(value) for key, value in attributes.items())


def price(attributes: Mapping[str, Any], timestamp: datetime | None = None) -> Price | None:
    """Price a span from its attributes; None when it is not a priceable call (no usage at all)."""
    outcome = _price(attributes, timestamp)
    return None if outcome is None else Price(*outcome)


def _price(attributes: Mapping[str, Any], timestamp: datetime | None) -> _Outcome | None:
    """`price` as a plain tuple: a frozen dataclass costs more to build than the rest of pricing a call."""
    usage = _usage(attributes)
    provider = provider_id(attributes)
    billed = attributes.get(_BILLED_USD)
    if _is_number(billed) and 0 <= billed < float("inf"):
        return (sc.STATUS_PRICED, Decimal(str(billed)), None, None)  # the provider's own figure
    when = timestamp or datetime.now(timezone.utc)
    has_tokens = "input_tokens" in usage or "output_tokens" in usage
    if provider is not None and catalogue.has(provider):
        try:
            found = _price_from_catalogue(provider, attributes, usage, when)
        except Exception as exc:  # pricing must never break the caller
            _log.warning("llmobserve: pricing %s failed: %r", provider, exc)
            return (sc.STATUS_ERROR, None, f"{type(exc).__name__}: {exc}", None)
        if found is not None:
            return found
        if not has_tokens and _has_units(attributes):
            operation = attributes.get(sc.OPERATION)
            return (
                sc.STATUS_UNKNOWN_MODEL,
                None,
                f"no price for {provider} {operation} {priced_model(attributes)}",
                None,
            )
    if not has_tokens:
        if provider is None:
            return None
        return (sc.STATUS_NO_USAGE, None, "the response carried no usage", None)
    model = priced_model(attributes)
    if model is None:
        return (sc.STATUS_UNKNOWN_MODEL, None, "no gen_ai.response.model or gen_ai.request.model", None)
    catalogue_provider = _GENAI_PRICES_PROVIDER.get(provider, provider) if provider else None
    try:
        resolved = _pricer.resolve(catalogue_provider, model, when)
        cost = _pricer.cost(resolved, usage)
    except UnknownModelError as exc:
        _warn_once(catalogue_provider, model, str(exc))
        return (sc.STATUS_UNKNOWN_MODEL, None, str(exc), None)
    except Exception as exc:  # pricing must never break the caller
        _log.warning("llmobserve: pricing %s/%s failed: %r", provider, model, exc)
        return (sc.STATUS_ERROR, None, f"{type(exc).__name__}: {exc}", None)
    return (sc.STATUS_PRICED, cost, None, resolved.model_id)


def cost_attributes(
    attributes: Mapping[str, Any], *, source: str, timestamp_ns: int | None = None
) -> dict[str, Any]:
    """The attributes to add to a span so it carries its cost; empty when it needs none.

    A span that already has a cost keeps it (its source becomes `caller` if unset); a span
    marked `duplicate` (its call was priced on another span) and a span with no usage and no
    provider are left alone. Never raises.
    """
    try:
        if sc.COST_USD in attributes:
            return {} if sc.COST_SOURCE in attributes else {sc.COST_SOURCE: sc.SOURCE_CALLER}
        if attributes.get(sc.COST_STATUS) == sc.STATUS_DUPLICATE:
            return {}
        when = datetime.fromtimestamp(timestamp_ns / 1e9, timezone.utc) if timestamp_ns else None
        outcome = _price(attributes, when)
        if outcome is None:
            return {}
        status, cost, reason, _ = outcome
        if cost is None:
            _count_unpriced(status)
            return {sc.COST_STATUS: status, sc.COST_REASON: reason or status}
        return {
            sc.COST_USD: float(cost),
            sc.COST_SOURCE: source,
            sc.COST_STATUS: sc.STATUS_PRICED,
        }
    except Exception as exc:  # pragma: no cover - defensive; price() already guards
        _log.warning("llmobserve: cost_attributes failed: %r", exc)
        return {sc.COST_STATUS: sc.STATUS_ERROR, sc.COST_REASON: repr(exc)}


_NS_PER_DAY = 86_400 * 10**9
_plain_prices: tuple[object, dict[tuple[str, str | None, str, int], LlmPrice | None]] = (None, {})
"""(catalogue as loaded, {(provider, operation, model, UTC day): the genai-prices price that alone
prices such a call, or None}): a reloaded catalogue (`catalogue.reset()`) starts afresh."""


def token_cost_usd(
    provider: str, operation: str | None, model: str, counts: dict[str, int], timestamp_ns: int
) -> float | None:
    """The cost `cost_attributes` gives a call with these token counts and nothing else to price, in the
    common case: no entry of ours or the user's for it that day, a genai-prices price that holds all
    day (no time-of-day prices), below its first tier. None otherwise: price it with `cost_attributes`.

    `counts`: genai-prices usage keys (`input_tokens`, ...) to non-negative ints, with `input_tokens`
    or `output_tokens`. The wire capture prices every call it can this way: the general path scans
    the attributes and builds dates and Decimals, several times the cost on the app's thread.
    """
    global _plain_prices
    try:
        loaded, memo = _plain_prices
        if loaded is not catalogue.loaded():
            memo = {}
            _plain_prices = (catalogue.loaded(), memo)
        key = (provider, operation, model, timestamp_ns // _NS_PER_DAY)
        try:
            found = memo[key]
        except KeyError:
            found = _plain_price(provider, operation, model, timestamp_ns)
            if len(memo) >= 10_000:  # bound memory against a stream of junk model names
                memo.clear()
            memo[key] = found
        return None if found is None else linear_cost_usd(found, counts)
    except Exception:  # never raises: the general path prices the call, and reports what failed
        return None


def _plain_price(provider: str, operation: str | None, model: str, timestamp_ns: int) -> LlmPrice | None:
    provider = provider.lower()
    when = datetime.fromtimestamp(timestamp_ns / 1e9, timezone.utc)
    if catalogue.has(provider) and catalogue.find(provider, operation, model, when) is not None:
        return None
    return _pricer.daily(_GENAI_PRICES_PROVIDER.get(provider, provider), model, when)


def _warn_once(provider: str | None, model: str, message: str) -> None:
    if (provider, model) not in _warned and len(_warned) < 1000:
        _warned.add((provider, model))
        _log.warning("llmobserve: %s; the call is recorded without a cost", message)


_unpriced_counter: Any = None


def _count_unpriced(status: str) -> None:
    """Count calls left without a cost (metric `llmobserve.cost.unpriced`), by status."""
    global _unpriced_counter
    if _unpriced_counter is None:
        from opentelemetry import metrics

        _unpriced_counter = metrics.get_meter("llmobserve_otel").create_counter(
            "llmobserve.cost.unpriced", unit="{call}", description="Provider calls recorded without a cost"
        )
    _unpriced_counter.add(1, {sc.COST_STATUS: status})
