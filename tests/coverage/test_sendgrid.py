"""SendGrid Mail Send through the real `sendgrid` SDK (python_http_client on stdlib urllib) against a local server.

Price (https://www.twilio.com/en-us/products/email-api/pricing, read 2026-08-13 as transcribed in
api-evangelist/sendgrid): Essentials, $19.95 a month for 50,000 emails -> $19.95 / 50,000 =
$0.000399 per email. `POST /v3/mail/send` answers 202 Accepted with an empty body
(https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send), so each address in
personalizations[].to/cc/bcc is counted from the request.
"""

from __future__ import annotations

import pytest
from python_http_client.exceptions import UnauthorizedError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Bcc, Cc, Mail, Personalization, To
from wire import On, Reply, WireServer, map_host

PER_EMAIL = 19.95 / 50_000
ACCEPTED = Reply(202, b"", {"x-message-id": "W5f9SAPHQWWmS2Yi1S3tVw"})


def _client(server: WireServer) -> SendGridAPIClient:
    map_host(server, "sendgrid")
    return SendGridAPIClient(api_key="SG.dummy-key-for-tests", host=server.url)


@pytest.mark.provider("sendgrid")
def test_mail_send_counts_every_recipient_and_prices_per_email(spans):
    mail = Mail(from_email="billing@example.com", subject="Your invoice", plain_text_content="Hello")
    first = Personalization()
    first.add_to(To("ana@example.com"))
    first.add_to(To("bo@example.com"))
    first.add_cc(Cc("carla@example.com"))
    second = Personalization()
    second.add_to(To("dev@example.com"))
    second.add_bcc(Bcc("audit@example.com"))
    mail.add_personalization(first)
    mail.add_personalization(second)
    with WireServer([On("POST", r"/v3/mail/send", lambda r: ACCEPTED)]) as server:
        response = _client(server).send(mail)
        sent = server.requests[0].json()
    assert response.status_code == 202
    assert response.body == b""
    assert response.headers["x-message-id"] == "W5f9SAPHQWWmS2Yi1S3tVw"
    counts = [
        len(p.get("to", [])) + len(p.get("cc", [])) + len(p.get("bcc", [])) for p in sent["personalizations"]
    ]
    assert sorted(counts) == [2, 3]
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "sendgrid"
    assert attrs["llmobserve.operation"] == "email"
    assert attrs["llmobserve.usage.emails"] == 5
    assert "llmobserve.usage.status" not in attrs
    # 5 emails x $19.95 / 50,000 = 5 x $0.000399 = $0.001995
    assert attrs["llmobserve.cost.usd"] == pytest.approx(5 * PER_EMAIL, abs=1e-12)
    assert "SG.dummy-key-for-tests" not in repr(attrs)


@pytest.mark.provider("sendgrid")
def test_raw_mail_send_dict_one_recipient(spans):
    payload = {
        "personalizations": [{"to": [{"email": "ana@example.com"}]}],
        "from": {"email": "billing@example.com"},
        "subject": "Hi",
        "content": [{"type": "text/plain", "value": "Hello"}],
    }
    with WireServer([On("POST", r"/v3/mail/send", lambda r: ACCEPTED)]) as server:
        response = _client(server).client.mail.send.post(request_body=payload)
    assert response.status_code == 202
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.emails"] == 1
    assert attrs["llmobserve.cost.usd"] == pytest.approx(PER_EMAIL, abs=1e-12)  # $0.000399


@pytest.mark.provider("sendgrid")
def test_refused_send_is_not_billed_and_app_sees_the_error(spans):
    error = {
        "errors": [
            {"field": None, "message": "The provided authorization grant is invalid, expired, or revoked"}
        ]
    }
    mail = Mail("billing@example.com", "ana@example.com", "Hi", "Hello")
    refuse = On("POST", r"/v3/mail/send", lambda r: Reply.json(error, 401))
    with WireServer([refuse]) as server, pytest.raises(UnauthorizedError) as raised:
        _client(server).send(mail)
    assert raised.value.status_code == 401
    assert b"authorization grant is invalid" in raised.value.body
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 401
    assert "llmobserve.usage.emails" not in attrs
    assert "llmobserve.cost.usd" not in attrs
    assert spans.provider_calls()[0].status.status_code.name == "ERROR"


@pytest.mark.provider("sendgrid")
def test_sandbox_mode_consumes_no_credits(spans):
    from sendgrid.helpers.mail import MailSettings, SandBoxMode

    mail = Mail("billing@example.com", ["ana@example.com", "bo@example.com"], "Hi", "Hello")
    mail.mail_settings = MailSettings(sandbox_mode=SandBoxMode(True))
    with WireServer([On("POST", r"/v3/mail/send", lambda r: Reply(200, b""))]) as server:
        response = _client(server).send(mail)
        assert server.requests[0].json()["mail_settings"] == {"sandbox_mode": {"enable": True}}
    assert response.status_code == 200  # sandbox answers 200, not 202
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.emails"] == 0
    assert attrs["llmobserve.cost.usd"] == 0.0
