"""LLM token prices from genai-prices, with a fast exact path for the common case.

genai-prices' own `ModelPrice.calc_price` costs ~60 µs a call (unit registry, decomposition,
validation): too much for every span on the app's thread. Without tiers a price is linear in the
usage counts, so the cost is `fee + sum(coefficient[k] * usage[k])`; the coefficients are read
once per model price from genai-prices itself (one call at a base point, one per count), so the
catalogue stays the single source of truth. Tiered prices above their first threshold, or any
price this cannot linearise, go through genai-prices' full calculation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from llmobserve_otel.providers._types import PRICED_TOKEN_FIELDS as USAGE_KEYS

# An interior point of the usage space (every part below its total, below any tier threshold),
# around which coefficients are measured by adding one token at a time.
_BASE = {
    "input_tokens": 1000,
    "output_tokens": 1000,
    "cache_read_tokens": 100,
    "cache_write_tokens": 100,
    "input_audio_tokens": 100,
    "output_audio_tokens": 100,
}


class UnknownModelError(LookupError):
    """genai-prices has no price for this provider and model."""


@dataclass(frozen=True)
class LlmPrice:
    """A resolved price: catalogue ids plus the linear form when it is exact."""

    provider_id: str
    model_id: str
    model_price: Any
    coefficients: tuple[Decimal, ...] | None
    fee: Decimal
    linear_below: int | None
    """Input-token count from which a tier applies (None: no tiers)."""
    terms: tuple[tuple[str, Decimal], ...] = ()
    """(usage key, coefficient) for the non-zero coefficients: what the linear cost sums."""
    scaled: tuple[int, tuple[tuple[str, int], ...], int] | None = None
    """The linear form in integers: (fee, terms, 10**n) with every Decimal multiplied by 10**n."""


class LlmPricer:
    """Resolves (provider, model) once and prices usage, thread-safe and lazily loaded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[tuple[str | None, str], tuple[Any, Any] | None] = {}
        self._resolved: dict[int, LlmPrice] = {}
        """Resolved prices by `id(model_price)` (genai-prices keeps its price objects alive)."""

    def _find(self, provider: str | None, model: str) -> tuple[Any, Any]:
        key = (provider, model)
        try:
            found = self._models[key]
        except KeyError:
            from genai_prices import data_snapshot  # the catalogue loads on first use, not at import

            try:
                found = data_snapshot.get_snapshot().find_provider_model(model, None, provider, None)
            except LookupError:
                found = None
            with self._lock:
                if len(self._models) > 10_000:  # bound memory against a stream of junk model names
                    self._models.clear()
                self._models[key] = found
        if found is None:
            where = f" for provider {provider!r}" if provider else ""
            raise UnknownModelError(f"no price for model {model!r}{where} in genai-prices")
        return found

    def resolve(self, provider: str | None, model: str, when: datetime) -> LlmPrice:
        provider_info, model_info = self._find(provider, model)
        model_price = model_info.get_prices(when)  # per call: prices can depend on the date and time of day
        resolved = self._resolved.get(id(model_price))
        if (
            resolved is None
            or resolved.model_price is not model_price
            or resolved.model_id != model_info.id
            or resolved.provider_id != provider_info.id
        ):
            coefficients, fee, linear_below = _linearise(model_price)
            terms = tuple((k, c) for k, c in zip(USAGE_KEYS, coefficients or (), strict=False) if c)
            resolved = LlmPrice(
                provider_info.id,
                model_info.id,
                model_price,
                coefficients,
                fee,
                linear_below,
                terms,
                _scaled(fee, terms) if coefficients is not None else None,
            )
            with self._lock:
                self._resolved[id(model_price)] = resolved
        return resolved

    def daily(self, provider: str | None, model: str, when: datetime) -> LlmPrice | None:
        """The model's price on `when`'s UTC day when it holds all that day: a single price, or prices
        that start on given dates (genai-prices compares UTC dates). None for time-of-day prices
        (DeepSeek's off-peak hours), and for a model genai-prices does not know."""
        try:
            _, model_info = self._find(provider, model)
        except UnknownModelError:
            return None
        if isinstance(model_info.prices, list):  # ConditionalPrice entries: which applies depends on when
            from genai_prices.types import StartDateConstraint

            for conditional in model_info.prices:
                if (
                    conditional.constraint is not None
                    and type(conditional.constraint) is not StartDateConstraint
                ):
                    return None
        return self.resolve(provider, model, when)

    def cost(self, price: LlmPrice, usage: dict[str, int]) -> Decimal:
        """USD cost of `usage` (genai-prices Usage field names) at `price`."""
        if price.coefficients is not None and _linear_for(price, usage):
            total = price.fee
            for key, coefficient in price.terms:
                count = usage.get(key)
                if count:
                    total += coefficient * count
            return total
        return _full_cost(price.model_price, usage)


def linear_cost_usd(price: LlmPrice, counts: dict[str, int]) -> float | None:
    """`float(LlmPricer.cost(price, counts))` for a price in integer form below its first tier (else
    None), in integer arithmetic: a correctly rounded int division gives the same float as the
    correctly rounded Decimal conversion, at a fraction of Decimal's cost."""
    scaled = price.scaled
    if scaled is None or not _linear_for(price, counts):
        return None
    total, terms, denominator = scaled
    for key, coefficient in terms:
        count = counts.get(key)
        if count:
            total += coefficient * count
    return total / denominator


def _linear_for(price: LlmPrice, usage: dict[str, int]) -> bool:
    """Whether the price's linear form holds for `usage`: below its first tier, and no cached audio
    (OpenAI Realtime), which genai-prices' full calculation alone prices."""
    return "cache_audio_read_tokens" not in usage and (
        price.linear_below is None or usage.get("input_tokens", 0) < price.linear_below
    )


def _scaled(
    fee: Decimal, terms: tuple[tuple[str, Decimal], ...]
) -> tuple[int, tuple[tuple[str, int], ...], int] | None:
    """`fee` and `terms` as exact integers over one power of ten; None when one is not finite."""
    values = (fee, *(coefficient for _, coefficient in terms))
    if not all(value.is_finite() for value in values):
        return None
    digits = max(0, *(-int(value.as_tuple().exponent) for value in values))
    if digits > 40:  # no price needs that many decimals: leave it to Decimal
        return None

    def exact(value: Decimal) -> int:
        sign, figures, exponent = value.as_tuple()
        number = int("".join(map(str, figures))) * 10 ** (int(exponent) + digits)
        return -number if sign else number

    return exact(fee), tuple((key, exact(coefficient)) for key, coefficient in terms), 10**digits


def _full_cost(model_price: Any, usage: dict[str, int]) -> Decimal:
    from genai_prices import Usage

    return model_price.calc_price(Usage(**usage))["total_price"]  # type: ignore[no-any-return]


def _linearise(model_price: Any) -> tuple[tuple[Decimal, ...] | None, Decimal, int | None]:
    """Coefficients per usage key, the per-request fee, and the first tier threshold."""
    from genai_prices.types import TieredPrices

    thresholds = [
        tier.start
        for value in vars(model_price).values()
        if isinstance(value, TieredPrices)
        for tier in value.tiers
    ]
    linear_below = min(thresholds) if thresholds else None
    if linear_below is not None and linear_below <= 2 * _BASE["input_tokens"]:
        return None, Decimal(0), linear_below
    try:
        base = _full_cost(model_price, _BASE)
        coefficients = tuple(
            _full_cost(model_price, {**_BASE, key: _BASE[key] + 1}) - base for key in USAGE_KEYS
        )
    except Exception:  # a price shape this cannot measure: always take the full calculation
        return None, Decimal(0), linear_below
    fee = base - sum((c * _BASE[k] for c, k in zip(coefficients, USAGE_KEYS, strict=True)), Decimal(0))
    return coefficients, fee, linear_below
