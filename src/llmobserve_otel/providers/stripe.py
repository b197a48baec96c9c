"""Stripe: PaymentIntents and Charges, billed as a percentage plus a fixed fee per successful payment.

Wire format: https://docs.stripe.com/api/payment_intents/object — `amount` / `amount_received` are
in the currency's smallest unit (cents for USD; zero-decimal currencies such as JPY have none).
Stripe charges its fee when a payment succeeds, not when an intent is created, so a call is billed
only when the object it returns is a successful live payment:

- a PaymentIntent (create with `confirm=true`, confirm, capture) with `status == "succeeded"`;
- a Charge (create, capture) with `status == "succeeded"` and `captured == true`.

Anything else (an intent awaiting a payment method, confirmation or capture; a test-mode object,
`livemode == false`) records `requests = 0`: a call that moved no money costs nothing. USD amounts
become `amount_usd` (dollars) plus `requests = 1`, priced from our data file; other currencies are
recorded as `amount_<currency>` in major units and left unpriced (no FX rate is guessed; a user's
`LLMOBSERVE_PRICING_FILE` may price them). When the response carries the actual fee (a Charge
expanded with `balance_transaction`, `expand[]=latest_charge.balance_transaction`), it is recorded
as `billed_usd`, which the pricing core takes over any rate.
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._paths import PathTable, match_path
from llmobserve_otel.providers._types import Route, Usage

NAME = "stripe"
HOSTS = ("api.stripe.com",)
TRANSPORTS = ("https",)
SDK = "stripe"
COVERAGE_NOTE = "USD only; billed when a live payment succeeds; tests on the httpx (sync, async) and default requests clients"

PAYMENT_INTENT = Route("payment", kind="payment")
CHARGE = Route("payment", kind="payment")
OPERATIONS = ("payment",)

# Billable paths: create / confirm / capture. `POST /v1/payment_intents/{id}` (update) moves no money.
_ROUTES: PathTable = (
    ("POST", re.compile(r"/v1/payment_intents(?:/[^/]+/(?:confirm|capture))?"), PAYMENT_INTENT),
    ("POST", re.compile(r"/v1/charges(?:/[^/]+/capture)?"), CHARGE),
)

# Decimal places of the smallest unit, where not 2 (https://docs.stripe.com/currencies).
_ZERO_DECIMAL = "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf"
_THREE_DECIMAL = "bhd jod kwd omr tnd"
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_ZERO_DECIMAL.split(), 0),
    **dict.fromkeys(_THREE_DECIMAL.split(), 3),
}


def match(method: str, path: str) -> Route | None:
    return match_path(_ROUTES, method, path)


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {}


def major_units(amount: int, currency: str) -> float:
    """`amount` in the smallest unit of `currency` -> major units (1999 usd -> 19.99)."""
    return amount / 10 ** CURRENCY_EXPONENTS.get(currency, 2)


def amount_units(amount: int, currency: str) -> dict[str, float]:
    """`amount_usd` plus one fixed fee for USD; `amount_<currency>` alone (unpriced) otherwise."""
    if currency == "usd":
        return {"amount_usd": major_units(amount, currency), "requests": 1}
    return {f"amount_{currency}": major_units(amount, currency)}


def _charged(body: dict[str, Any]) -> int | None:
    """The amount charged by this call in the smallest unit, or None when it charged nothing."""
    if body.get("livemode") is not True or body.get("status") != "succeeded":
        return None
    if body.get("object") == "payment_intent":
        return as_int(body.get("amount_received")) or as_int(body.get("amount"))
    if body.get("object") == "charge" and body.get("captured") is True:
        return as_int(body.get("amount_captured")) or as_int(body.get("amount"))
    return None


def _fee(body: dict[str, Any]) -> float | None:
    """Stripe's own fee in USD when the response carries the balance transaction (expanded)."""
    charge = body if body.get("object") == "charge" else body.get("latest_charge")
    transaction = dig(charge, "balance_transaction")
    fee = as_int(dig(transaction, "fee"))
    if fee is None or fee >= 10**17 or dig(transaction, "currency") != "usd":
        return None
    return major_units(fee, "usd")


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict) or body.get("object") not in ("payment_intent", "charge"):
        return None
    usage = Usage(response_id=as_str(body.get("id")))
    amount = _charged(body)
    currency = as_str(body.get("currency"))
    if amount is None or currency is None or amount >= 10**17:  # no real payment is that large
        usage.units = {"requests": 0}  # nothing charged (yet): priced at zero, not left unknown
        return usage
    usage.units = amount_units(amount, currency.lower())
    fee = _fee(body)
    if fee is not None:
        usage.units["billed_usd"] = fee
    return usage
