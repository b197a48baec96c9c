"""SendGrid Mail Send: billed per email, one per recipient.

Wire format: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send — `POST
/v3/mail/send` answers 202 Accepted with an empty body, so usage comes from the request: every
address in `personalizations[].to`, `.cc` and `.bcc` is one email sent (and counted against the plan,
bounces included). A request with `mail_settings.sandbox_mode.enable` is only validated (200 OK) and
"No Credits will be consumed" (https://docs.sendgrid.com/for-developers/sending-email/sandbox-mode):
it records 0 emails.
"""

from __future__ import annotations

from typing import Any

from llmobserve_otel.providers._json import dig
from llmobserve_otel.providers._types import Route, Usage

NAME = "sendgrid"
HOSTS = ("api.sendgrid.com",)
TRANSPORTS = ("https",)
SDK = "sendgrid"
COVERAGE_NOTE = "stdlib urllib transport (capture/urllib.py); recipients counted from the request"

EMAIL = Route("email", kind="messaging")
OPERATIONS = ("email",)

_RECIPIENT_FIELDS = ("to", "cc", "bcc")


def match(method: str, path: str) -> Route | None:
    return EMAIL if method == "POST" and path.rstrip("/") == "/v3/mail/send" else None


def recipients(body: Any) -> int | None:
    """Addresses across every personalization, or None when the body is not a Mail Send request."""
    personalizations = body.get("personalizations") if isinstance(body, dict) else None
    if not isinstance(personalizations, list):
        return None
    return sum(
        len(addresses)
        for personalization in personalizations
        if isinstance(personalization, dict)
        for field in _RECIPIENT_FIELDS
        if isinstance(addresses := personalization.get(field), list)
    )


def request_info(route: Route, body: Any) -> dict[str, Any]:
    count = recipients(body)
    if count is None:
        return {}
    sandbox = dig(body, "mail_settings", "sandbox_mode", "enable") is True
    return {"units": {"emails": 0 if sandbox else count}}


def parse_json(route: Route, body: Any) -> Usage | None:
    return Usage()  # success bodies are empty; the count came from the request
