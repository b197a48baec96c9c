"""Twilio Programmable Messaging through the real `twilio` SDK (its default `requests` client) against a local server.

Price (https://www.twilio.com/en-us/sms/pricing/us, "current as of October 2026"): outbound SMS
$0.0083 per segment. A USD `price` in the Message (negative: a charge) wins over the rate.
Message shape: https://www.twilio.com/docs/messaging/api/message-resource (create answers 201).
"""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from wire import On, Reply, WireServer, map_host

ACCOUNT = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
CREATE = rf"/2010-04-01/Accounts/{ACCOUNT}/Messages\.json"
PER_SEGMENT = 0.0083


def message(**overrides):
    body = {
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "body": "Your order has shipped",
        "date_created": "Thu, 26 Nov 2026 23:00:00 +0000",
        "date_sent": None,
        "date_updated": "Thu, 26 Nov 2026 23:00:00 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": "+14155552345",
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": "SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "status": "queued",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/SMXX/Media.json"},
        "to": "+14155552345",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/SMXX.json",
    }
    body.update(overrides)
    return body


class _LocalClient(TwilioHttpClient):
    """The SDK's own requests-based client, its absolute api.twilio.com URLs sent to the local server."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        return super().request(method, url.replace("https://api.twilio.com", self.base_url), *args, **kwargs)


def _client(server: WireServer) -> Client:
    map_host(server, "twilio")
    return Client(ACCOUNT, "dummy_auth_token", http_client=_LocalClient(server.url))


def _send(server: WireServer, body: str = "Your order has shipped"):
    return _client(server).messages.create(to="+14155552345", from_="+14155552345", body=body)


@pytest.mark.provider("twilio")
def test_sms_create_priced_by_segments_when_price_is_null(spans):
    long_text = "x" * 400  # 400 GSM-7 characters: 3 segments of 153
    reply = message(body=long_text, num_segments="3")
    with WireServer([On("POST", CREATE, lambda r: Reply.json(reply, 201))]) as server:
        sent = _send(server, long_text)
        form = server.requests[0].body.decode()
    assert sent.sid == "SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX" and sent.num_segments == "3"
    assert "Body=xxx" in form
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "twilio"
    assert attrs["llmobserve.operation"] == "sms"
    assert attrs["llmobserve.usage.segments"] == 3
    assert "llmobserve.usage.billed_usd" not in attrs
    # 3 segments x $0.0083 = $0.0249
    assert attrs["llmobserve.cost.usd"] == pytest.approx(3 * PER_SEGMENT, abs=1e-12)
    assert "dummy_auth_token" not in repr(attrs)


@pytest.mark.provider("twilio")
def test_price_returned_by_the_api_wins_over_the_rate(spans):
    reply = message(num_segments="2", price="-0.01580", status="sent")
    with WireServer([On("POST", CREATE, lambda r: Reply.json(reply, 201))]) as server:
        _send(server)
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.segments"] == 2
    assert attrs["llmobserve.usage.billed_usd"] == 0.0158
    assert attrs["llmobserve.cost.usd"] == pytest.approx(0.0158, abs=1e-12)  # not 2 x $0.0083 = $0.0166


@pytest.mark.provider("twilio")
def test_non_usd_price_is_not_taken_as_dollars(spans):
    reply = message(num_segments="1", price="-0.0700", price_unit="EUR")
    with WireServer([On("POST", CREATE, lambda r: Reply.json(reply, 201))]) as server:
        _send(server)
    attrs = spans.one_call()
    assert "llmobserve.usage.billed_usd" not in attrs
    assert attrs["llmobserve.cost.usd"] == pytest.approx(PER_SEGMENT, abs=1e-12)


@pytest.mark.provider("twilio")
def test_refused_message_is_not_billed_and_app_sees_the_error(spans):
    error = {
        "code": 21211,
        "message": "The 'To' number +1555 is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    refuse = On("POST", CREATE, lambda r: Reply.json(error, 400))
    with WireServer([refuse]) as server, pytest.raises(TwilioRestException) as raised:
        _send(server)
    assert raised.value.code == 21211
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 400
    assert "llmobserve.usage.segments" not in attrs
    assert "llmobserve.cost.usd" not in attrs
    assert spans.provider_calls()[0].status.status_code.name == "ERROR"


@pytest.mark.provider("twilio")
def test_malformed_body_reaches_the_app_and_marks_the_span(spans):
    broken = On(
        "POST",
        CREATE,
        lambda r: Reply(201, b'{"sid": "SM1", "num_segm', {"content-type": "application/json"}),
    )
    with WireServer([broken]) as server, pytest.raises(ValueError):
        _send(server)  # the SDK's own json.loads fails on the same bytes
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "malformed JSON body"
    assert "llmobserve.cost.usd" not in attrs
