"""Twilio Programmable Messaging: SMS billed per segment, at the price Twilio reports when it has one.

Wire format: https://www.twilio.com/docs/messaging/api/message-resource — `POST
/2010-04-01/Accounts/{AccountSid}/Messages.json` (form-encoded) answers 201 with the Message:
`num_segments` (a numeric string), `price` (a negative decimal string in `price_unit`, or null) and
`status`. The price is usually null right after create (Twilio fills it in once the carrier answers;
a later fetch shows it, and fetches are not billed calls), so the usual cost is `segments` times our
per-segment rate; when the response does carry a USD price it is recorded as `billed_usd`, which the
pricing core takes over the rate. MMS (billed per message) is not distinguished yet.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from llmobserve_otel.providers._json import as_int, as_str
from llmobserve_otel.providers._types import Route, Usage

NAME = "twilio"
HOSTS = ("api.twilio.com",)
TRANSPORTS = ("https",)
SDK = "twilio"
COVERAGE_NOTE = "SMS only (MMS not told apart); tests use the SDK's requests client with api.twilio.com mapped to the local server"

SMS = Route("sms", kind="messaging")
OPERATIONS = ("sms",)

_CREATE = re.compile(r"/2010-04-01/Accounts/[^/]+/Messages\.json")


def match(method: str, path: str) -> Route | None:
    return SMS if method == "POST" and _CREATE.fullmatch(path) else None


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {}


def _segments(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return as_int(value)


def _price_usd(price: Any, unit: Any) -> float | None:
    """Twilio's price as a positive USD amount (it reports charges as negative numbers)."""
    if not isinstance(price, (str, int, float)) or isinstance(price, bool) or str(unit).upper() != "USD":
        return None
    try:
        value = abs(Decimal(str(price)))
    except InvalidOperation:
        return None
    return float(value) if value.is_finite() else None


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    segments = _segments(body.get("num_segments"))
    if segments is None:
        return None
    usage = Usage(response_id=as_str(body.get("sid")))
    usage.units = {"segments": segments}
    price = _price_usd(body.get("price"), body.get("price_unit"))
    if price is not None:
        usage.units["billed_usd"] = price
    return usage
