"""PayPal order captures through the real `paypal-server-sdk` (apimatic on `requests`) against a local server.

Price (https://www.paypal.com/us/business/paypal-business-fees, US): PayPal Checkout 3.49% + the
fixed fee for USD, 0.49 USD, per transaction. PayPal's own fee in the capture
(`seller_receivable_breakdown.paypal_fee`) wins when present. Response shape:
https://developer.paypal.com/docs/api/orders/v2/#orders_capture (201 with the order).
The SDK knows only PayPal's two hosts, so the test points its configuration's base URI at the
local server (`environments`), and the OAuth token endpoint is served too (not a billed call).
"""

from __future__ import annotations

import pytest
from paypalserversdk.configuration import Environment, Server
from paypalserversdk.exceptions.error_exception import ErrorException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient
from wire import On, Reply, WireServer, map_host

ORDER_ID = "5O190127TN364715T"
CAPTURE = rf"/v2/checkout/orders/{ORDER_ID}/capture"
TOKEN = On(
    "POST",
    r"/v1/oauth2/token",
    lambda r: Reply.json(
        {
            "access_token": "A21AAFEpH4PsADK7qSS7pSRsgzfENtu-Q1ysgEDVDESseMHBYXVJYE8ovjj68elIDy8nF26AwPhfXTIeWAZHSLIsQkSYz9ifg",
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": 31668,
            "nonce": "2026-11-26T23:00:00Z",
        }
    ),
)


def capture(value: str, currency: str = "USD", fee: str | None = None, status: str = "COMPLETED") -> dict:
    body = {
        "id": "3C679366HH908993F",
        "status": status,
        "amount": {"currency_code": currency, "value": value},
        "final_capture": True,
        "create_time": "2026-11-26T23:00:00Z",
        "update_time": "2026-11-26T23:00:00Z",
    }
    if fee is not None:
        body["seller_receivable_breakdown"] = {
            "gross_amount": {"currency_code": currency, "value": value},
            "paypal_fee": {"currency_code": currency, "value": fee},
            "net_amount": {"currency_code": currency, "value": "0.00"},
        }
    return body


def order(*captures: dict) -> dict:
    return {
        "id": ORDER_ID,
        "status": "COMPLETED",
        "payment_source": {
            "paypal": {
                "name": {"given_name": "John", "surname": "Doe"},
                "email_address": "customer@example.com",
            }
        },
        "purchase_units": [
            {"reference_id": "d9f80740-38f0-11e8-b467-0ed5f89f718b", "payments": {"captures": list(captures)}}
        ],
        "links": [
            {
                "href": f"https://api-m.paypal.com/v2/checkout/orders/{ORDER_ID}",
                "rel": "self",
                "method": "GET",
            }
        ],
    }


def _client(server: WireServer) -> PaypalServersdkClient:
    map_host(server, "paypal")
    client = PaypalServersdkClient(
        client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
            "client-id", "client-secret-dummy"
        ),
        environment=Environment.PRODUCTION,
    )
    client.config.environments = {Environment.PRODUCTION: {Server.DEFAULT: server.url}}
    return client


def _capture_order(server: WireServer):
    return _client(server).orders.capture_order({"id": ORDER_ID, "prefer": "return=representation"})


@pytest.mark.provider("paypal")
def test_order_capture_priced_at_3_49_percent_plus_49_cents(spans):
    with WireServer(
        [TOKEN, On("POST", CAPTURE, lambda r: Reply.json(order(capture("100.00")), 201))]
    ) as server:
        result = _capture_order(server)
        assert server.requests[1].headers["prefer"] == "return=representation"
    assert result.status_code == 201
    assert result.body.purchase_units[0].payments.captures[0].amount.value == "100.00"
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "paypal"
    assert attrs["llmobserve.operation"] == "payment"
    assert attrs["llmobserve.usage.amount_usd"] == 100.0
    assert attrs["llmobserve.usage.requests"] == 1
    # $100.00 x 3.49% + $0.49 = $3.49 + $0.49 = $3.98
    assert attrs["llmobserve.cost.usd"] == pytest.approx(100.00 * 0.0349 + 0.49, abs=1e-12)
    assert "client-secret-dummy" not in repr(attrs)


@pytest.mark.provider("paypal")
def test_paypal_fee_in_the_response_wins_over_the_rate(spans):
    body = order(capture("10.00", fee="0.84"), capture("5.00", fee="0.66"))
    with WireServer([TOKEN, On("POST", CAPTURE, lambda r: Reply.json(body, 201))]) as server:
        _capture_order(server)
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.amount_usd"] == 15.0
    assert attrs["llmobserve.usage.requests"] == 2
    assert attrs["llmobserve.usage.billed_usd"] == 1.5
    assert attrs["llmobserve.cost.usd"] == pytest.approx(0.84 + 0.66, abs=1e-12)


@pytest.mark.provider("paypal")
def test_declined_and_non_usd_captures(spans):
    body = order(capture("20.00", status="DECLINED"), capture("12.50", currency="EUR"))
    with WireServer([TOKEN, On("POST", CAPTURE, lambda r: Reply.json(body, 201))]) as server:
        _capture_order(server)
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.amount_eur"] == 12.5
    assert "llmobserve.usage.requests" not in attrs  # no USD fixed fee: the EUR one is not guessed
    assert "llmobserve.usage.amount_usd" not in attrs
    assert attrs["llmobserve.cost.status"] == "no_usage"


@pytest.mark.provider("paypal")
def test_unprocessable_capture_is_not_billed_and_app_sees_the_error(spans):
    error = {
        "name": "UNPROCESSABLE_ENTITY",
        "details": [
            {
                "issue": "INSTRUMENT_DECLINED",
                "description": "The instrument presented was either declined by the processor or bank.",
            }
        ],
        "message": "The requested action could not be performed, semantically incorrect, or failed business validation.",
        "debug_id": "c9a75b43fc807",
    }
    refuse = On("POST", CAPTURE, lambda r: Reply.json(error, 422))
    with WireServer([TOKEN, refuse]) as server, pytest.raises(ErrorException) as raised:
        _capture_order(server)
    assert raised.value.response_code == 422
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 422
    assert "llmobserve.cost.usd" not in attrs
    assert spans.provider_calls()[0].status.status_code.name == "ERROR"


@pytest.mark.provider("paypal")
def test_minimal_response_records_no_usage(spans):
    minimal = {"id": ORDER_ID, "status": "COMPLETED", "links": []}
    with WireServer([TOKEN, On("POST", CAPTURE, lambda r: Reply.json(minimal, 201))]) as server:
        result = _capture_order(server)
    assert result.body.status == "COMPLETED"
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "no usage in response"
    assert "llmobserve.cost.usd" not in attrs


@pytest.mark.provider("paypal")
def test_authorization_capture_is_one_capture(spans):
    body = {**capture("42.00"), "links": []}
    route = On(
        "POST", r"/v2/payments/authorizations/0VF52814937998046/capture", lambda r: Reply.json(body, 201)
    )
    with WireServer([TOKEN, route]) as server:
        result = _client(server).payments.capture_authorized_payment(
            {"authorization_id": "0VF52814937998046", "prefer": "return=representation"}
        )
    assert result.body.status == "COMPLETED"
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.amount_usd"] == 42.0
    # $42.00 x 3.49% + $0.49 = $1.4658 + $0.49 = $1.9558
    assert attrs["llmobserve.cost.usd"] == pytest.approx(42.00 * 0.0349 + 0.49, abs=1e-12)


@pytest.mark.provider("paypal")
def test_all_captures_declined_costs_nothing(spans):
    body = order(capture("20.00", status="DECLINED"))
    with WireServer([TOKEN, On("POST", CAPTURE, lambda r: Reply.json(body, 201))]) as server:
        _capture_order(server)
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.requests"] == 0
    assert attrs["llmobserve.cost.usd"] == 0.0
