"""Stripe PaymentIntents and Charges through the real `stripe` SDK against a local server.

Price (https://stripe.com/pricing, Standard): 2.9% + 30¢ per successful transaction for domestic
cards. Billed only when the returned object is a successful live payment (see providers/stripe.py).
Most tests use the SDK's httpx client (`stripe.HTTPXClient`, a documented option: the httpx
capture); the last one uses its default `requests` client (the urllib3 capture).
"""

from __future__ import annotations

import pytest
import stripe
from wire import On, Reply, WireServer, map_host


def payment_intent(**overrides):
    """A PaymentIntent as https://docs.stripe.com/api/payment_intents/object documents it."""
    body = {
        "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
        "object": "payment_intent",
        "amount": 2000,
        "amount_capturable": 0,
        "amount_received": 2000,
        "capture_method": "automatic",
        "client_secret": "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH",
        "confirmation_method": "automatic",
        "created": 1680800504,
        "currency": "usd",
        "latest_charge": "ch_3MtwBwLkdIwHu7ix28a3tqPa",
        "livemode": True,
        "metadata": {},
        "payment_method": "pm_1MtwBwLkdIwHu7ixxYgD7hNx",
        "payment_method_types": ["card"],
        "status": "succeeded",
    }
    body.update(overrides)
    return body


def _client(server: WireServer) -> stripe.StripeClient:
    map_host(server, "stripe")
    return stripe.StripeClient(
        "sk_live_dummy_key_for_tests",
        base_addresses={"api": server.url},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=0,
    )


@pytest.mark.provider("stripe")
def test_payment_intent_create_confirmed_usd_is_priced_at_2_9_percent_plus_30_cents(spans):
    with WireServer([On("POST", r"/v1/payment_intents", lambda r: Reply.json(payment_intent()))]) as server:
        intent = _client(server).v1.payment_intents.create(
            params={"amount": 2000, "currency": "usd", "confirm": True, "payment_method": "pm_card_visa"}
        )
        sent = server.requests[0].body.decode()
    assert intent.status == "succeeded" and intent.amount == 2000
    assert "amount=2000" in sent and "confirm=true" in sent
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "stripe"
    assert attrs["llmobserve.operation"] == "payment"
    assert attrs["llmobserve.usage.amount_usd"] == 20.0
    assert attrs["llmobserve.usage.requests"] == 1
    # $20.00 x 2.9% + $0.30 = $0.58 + $0.30 = $0.88
    assert attrs["llmobserve.cost.usd"] == pytest.approx(20.00 * 0.029 + 0.30, abs=1e-12)
    assert "sk_live_dummy_key_for_tests" not in repr(attrs)


@pytest.mark.provider("stripe")
def test_payment_intent_awaiting_confirmation_costs_nothing_then_confirm_is_priced(spans):
    pending = payment_intent(amount=1999, amount_received=0, status="requires_confirmation")
    done = payment_intent(amount=1999, amount_received=1999)
    routes = [
        On("POST", r"/v1/payment_intents", lambda r: Reply.json(pending)),
        On("POST", r"/v1/payment_intents/[^/]+/confirm", lambda r: Reply.json(done)),
    ]
    with WireServer(routes) as server:
        client = _client(server)
        created = client.v1.payment_intents.create(params={"amount": 1999, "currency": "usd"})
        client.v1.payment_intents.confirm(created.id)
    first, second = (dict(s.attributes or {}) for s in spans.provider_calls())
    assert first["llmobserve.usage.requests"] == 0  # an intent is not a charge
    assert "llmobserve.usage.amount_usd" not in first
    assert first["llmobserve.cost.usd"] == 0.0
    assert second["llmobserve.usage.amount_usd"] == 19.99
    # $19.99 x 2.9% + $0.30 = $0.57971 + $0.30 = $0.87971
    assert second["llmobserve.cost.usd"] == pytest.approx(19.99 * 0.029 + 0.30, abs=1e-12)


@pytest.mark.provider("stripe")
def test_non_usd_amount_is_recorded_in_major_units_and_not_priced(spans):
    eur = payment_intent(amount=1050, amount_received=1050, currency="eur")
    jpy = payment_intent(amount=500, amount_received=500, currency="jpy")
    replies = iter([eur, jpy])
    with WireServer([On("POST", r"/v1/payment_intents", lambda r: Reply.json(next(replies)))]) as server:
        client = _client(server)
        client.v1.payment_intents.create(params={"amount": 1050, "currency": "eur", "confirm": True})
        client.v1.payment_intents.create(params={"amount": 500, "currency": "jpy", "confirm": True})
    first, second = (dict(s.attributes or {}) for s in spans.provider_calls())
    assert first["llmobserve.usage.amount_eur"] == 10.5
    assert second["llmobserve.usage.amount_jpy"] == 500  # zero-decimal currency
    for attrs in (first, second):
        assert "llmobserve.cost.usd" not in attrs
        assert attrs["llmobserve.cost.status"] == "no_usage"
        assert "amount_usd" in attrs["llmobserve.cost.reason"]


@pytest.mark.provider("stripe")
def test_test_mode_payment_costs_nothing(spans):
    body = payment_intent(livemode=False)
    with WireServer([On("POST", r"/v1/payment_intents", lambda r: Reply.json(body))]) as server:
        _client(server).v1.payment_intents.create(params={"amount": 2000, "currency": "usd", "confirm": True})
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.requests"] == 0
    assert attrs["llmobserve.cost.usd"] == 0.0


@pytest.mark.provider("stripe")
def test_expanded_balance_transaction_fee_is_the_cost(spans):
    # Stripe's own fee for this charge (a negotiated rate, say): 2.5% of $40.00 + 30¢ = 130 cents.
    charge = {
        "id": "ch_3MtwBwLkdIwHu7ix28a3tqPa",
        "object": "charge",
        "amount": 4000,
        "amount_captured": 4000,
        "balance_transaction": {
            "id": "txn_1",
            "object": "balance_transaction",
            "fee": 130,
            "currency": "usd",
        },
        "captured": True,
        "currency": "usd",
        "livemode": True,
        "paid": True,
        "status": "succeeded",
    }
    body = payment_intent(amount=4000, amount_received=4000, latest_charge=charge)
    with WireServer([On("POST", r"/v1/payment_intents", lambda r: Reply.json(body))]) as server:
        _client(server).v1.payment_intents.create(
            params={
                "amount": 4000,
                "currency": "usd",
                "confirm": True,
                "expand": ["latest_charge.balance_transaction"],
            }
        )
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.amount_usd"] == 40.0
    assert attrs["llmobserve.usage.billed_usd"] == 1.30
    assert attrs["llmobserve.cost.usd"] == pytest.approx(1.30, abs=1e-12)  # not 40 x 2.9% + 0.30 = 1.46


@pytest.mark.provider("stripe")
def test_charge_capture_is_priced(spans):
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 5000,
        "amount_captured": 5000,
        "captured": True,
        "currency": "usd",
        "livemode": True,
        "paid": True,
        "status": "succeeded",
    }
    with WireServer([On("POST", r"/v1/charges/ch_1/capture", lambda r: Reply.json(charge))]) as server:
        _client(server).v1.charges.capture("ch_1")
    attrs = spans.one_call()
    # $50.00 x 2.9% + $0.30 = $1.45 + $0.30 = $1.75
    assert attrs["llmobserve.cost.usd"] == pytest.approx(50.00 * 0.029 + 0.30, abs=1e-12)


@pytest.mark.provider("stripe")
def test_card_declined_error_is_not_billed_and_app_sees_the_error(spans):
    error = {
        "error": {
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
            "type": "card_error",
        }
    }
    decline = On("POST", r"/v1/payment_intents", lambda r: Reply.json(error, 402))
    with WireServer([decline]) as server, pytest.raises(stripe.CardError) as raised:
        _client(server).v1.payment_intents.create(params={"amount": 2000, "currency": "usd", "confirm": True})
    assert raised.value.code == "card_declined"
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 402
    assert "llmobserve.cost.usd" not in attrs
    assert spans.provider_calls()[0].status.status_code.name == "ERROR"


@pytest.mark.provider("stripe")
def test_malformed_body_reaches_the_app_untouched_and_marks_the_span(spans):
    with (
        WireServer(
            [
                On(
                    "POST",
                    r"/v1/payment_intents",
                    lambda r: Reply(200, b"{not json", {"content-type": "application/json"}),
                )
            ]
        ) as server,
        pytest.raises(stripe.APIError),
    ):
        _client(server).v1.payment_intents.create(params={"amount": 2000, "currency": "usd"})
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "malformed JSON body"
    assert "llmobserve.cost.usd" not in attrs


@pytest.mark.provider("stripe")
def test_default_requests_transport_is_captured_too(spans):
    with WireServer([On("POST", r"/v1/payment_intents", lambda r: Reply.json(payment_intent()))]) as server:
        map_host(server, "stripe")
        client = stripe.StripeClient(
            "sk_live_dummy", base_addresses={"api": server.url}, max_network_retries=0
        )
        assert type(client._requestor._client).__name__ == "RequestsClient"
        client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd", "confirm": True})
    attrs = spans.one_call()
    assert attrs["llmobserve.cost.usd"] == pytest.approx(20.00 * 0.029 + 0.30, abs=1e-12)  # $0.88


@pytest.mark.provider("stripe")
async def test_async_httpx_client(spans):
    with WireServer([On("POST", r"/v1/payment_intents", lambda r: Reply.json(payment_intent()))]) as server:
        map_host(server, "stripe")
        client = stripe.StripeClient(
            "sk_live_dummy",
            base_addresses={"api": server.url},
            http_client=stripe.HTTPXClient(),
            max_network_retries=0,
        )
        intent = await client.v1.payment_intents.create_async(
            params={"amount": 2000, "currency": "usd", "confirm": True}
        )
    assert intent.status == "succeeded"
    attrs = spans.one_call()
    assert attrs["llmobserve.cost.usd"] == pytest.approx(20.00 * 0.029 + 0.30, abs=1e-12)  # $0.88


@pytest.mark.parametrize(
    ("method", "path", "billable"),
    [
        ("POST", "/v1/payment_intents", True),
        ("POST", "/v1/payment_intents/pi_1/confirm", True),
        ("POST", "/v1/payment_intents/pi_1/capture", True),
        ("POST", "/v1/charges", True),
        ("POST", "/v1/charges/ch_1/capture", True),
        ("POST", "/v1/payment_intents/pi_1", False),  # update: moves no money
        ("POST", "/v1/payment_intents/pi_1/cancel", False),
        ("GET", "/v1/payment_intents/pi_1", False),
        ("POST", "/v1/refunds", False),
    ],
)
def test_billable_routes(method, path, billable):
    from llmobserve_otel.providers import stripe as module

    assert (module.match(method, path) is not None) == billable
