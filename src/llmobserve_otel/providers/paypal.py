"""PayPal: order and authorization captures, billed as a percentage plus a fixed fee per capture.

Wire format: https://developer.paypal.com/docs/api/orders/v2/#orders_capture — the order's
`purchase_units[].payments.captures[]`, each with `status`, `amount {currency_code, value}` (a decimal
string in major units) and, when PayPal computed it, `seller_receivable_breakdown.paypal_fee`.
`POST /v2/payments/authorizations/{id}/capture` answers with one such capture. Creating an order
moves no money; a capture does, so only captures are billed, and only those `COMPLETED`.

Each completed USD capture adds its amount to `amount_usd` and one fixed fee (`requests`); other
currencies go to `amount_<currency>` unpriced (no FX rate is guessed). When every completed capture
carries PayPal's own fee in USD, the sum is recorded as `billed_usd`, which the pricing core takes
over our rates. With `Prefer: return=minimal` (PayPal's default) the captures may be absent: the
span then says no usage was read; ask for `return=representation` to have them.
Sandbox hosts are not listed (nothing is billed there); map them with LLMOBSERVE_PROVIDER_HOSTS.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from llmobserve_otel.providers._json import as_str, dig
from llmobserve_otel.providers._paths import PathTable, match_path
from llmobserve_otel.providers._types import Route, Usage

NAME = "paypal"
HOSTS = ("api-m.paypal.com", "api.paypal.com")
TRANSPORTS = ("https",)
SDK = "paypal-server-sdk"
COVERAGE_NOTE = "USD only; completed captures; the SDK has no base-URL option, so tests point its environment table at the local server"

ORDER_CAPTURE = Route("payment", kind="payment")
AUTHORIZATION_CAPTURE = Route("payment", kind="payment")
OPERATIONS = ("payment",)

_ROUTES: PathTable = (
    ("POST", re.compile(r"/v2/checkout/orders/[^/]+/capture"), ORDER_CAPTURE),
    ("POST", re.compile(r"/v2/payments/authorizations/[^/]+/capture"), AUTHORIZATION_CAPTURE),
)


def match(method: str, path: str) -> Route | None:
    return match_path(_ROUTES, method, path)


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {}


def _money(value: Any) -> tuple[str, Decimal] | None:
    """A PayPal Money object -> (lowercase currency, amount), or None."""
    currency = as_str(dig(value, "currency_code"))
    amount = as_str(dig(value, "value"))
    if currency is None or amount is None:
        return None
    try:
        number = Decimal(amount)
    except InvalidOperation:
        return None
    # Bounded: a float attribute must stay finite (no real payment is near 1e15).
    return (currency.lower(), number) if number.is_finite() and 0 <= number < 10**15 else None


def _captures(route: Route, body: dict[str, Any]) -> list[Any]:
    if route is AUTHORIZATION_CAPTURE:
        return [body]
    units = body.get("purchase_units")
    return [
        capture
        for unit in (units if isinstance(units, list) else [])
        for capture in (dig(unit, "payments", "captures") or [])
    ]


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    amounts: dict[str, Decimal] = {}
    fixed_fees = 0
    fees: list[Decimal] = []
    completed = 0
    for capture in _captures(route, body):
        money = _money(dig(capture, "amount"))
        if dig(capture, "status") != "COMPLETED" or money is None:
            continue
        completed += 1
        currency, amount = money
        amounts[currency] = amounts.get(currency, Decimal(0)) + amount
        fixed_fees += currency == "usd"
        fee = _money(dig(capture, "seller_receivable_breakdown", "paypal_fee"))
        if fee is not None and fee[0] == "usd":
            fees.append(fee[1])
    if not completed and not isinstance(body.get("purchase_units"), list) and route is ORDER_CAPTURE:
        return None  # a minimal response: no captures to read
    usage = Usage(response_id=as_str(body.get("id")))
    usage.units = {f"amount_{currency}": float(amount) for currency, amount in amounts.items()}
    if fixed_fees or not amounts:  # nothing captured costs 0; a non-USD capture alone stays unpriced
        usage.units["requests"] = fixed_fees
    if fees and len(fees) == completed:
        usage.units["billed_usd"] = float(sum(fees, Decimal(0)))
    return usage
