"""Our own price catalogue (`pricing/_catalogue.py`): schema errors, price history, the user's file,
the `requests` fee, the cached-token split, and the pricing core's use of it.

Figures are the shipped data files' (each cites its pricing page) or written in the test's own files.
"""

from __future__ import annotations

import logging
import sys
import textwrap
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from llmobserve_otel import pricing
from llmobserve_otel import semconv as sc
from llmobserve_otel.pricing._catalogue import (
    DATA_DIR,
    USER_FILE_ENV,
    Catalogue,
    PricingFileError,
    UnitPrice,
    _load_file,
    parse_entries,
    unit_cost,
)

M = 1_000_000


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def use(monkeypatch):
    """Make the pricing core use a given catalogue for the test."""

    def install(catalogue: Catalogue) -> Catalogue:
        monkeypatch.setattr(pricing, "catalogue", catalogue)
        return catalogue

    return install


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc)


# --- schema errors name the file and the entry ---------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ('[[prices]]\nsource = "s"\nrates = { x = "1" }', "prices.toml: prices[0]: no provider"),
        ('[[prices]]\nprovider = "p"\nsource = "s"', "prices.toml: prices[0]: expected `rates`"),
        ('[[prices]]\nprovider = "p"\nsource = "s"\nrates = {}', "prices.toml: prices[0]: expected `rates`"),
        ('[[prices]]\nprovider = "p"\nrates = { x = "1" }', "prices.toml: prices[0]: `source`"),
        (
            '[[prices]]\nprovider = "p"\nsource = "s"\nrates = { x = "one" }',
            "prices.toml: prices[0].rates.x: expected a number, got 'one'",
        ),
        (
            '[[prices]]\nprovider = "p"\nsource = "s"\nrates = { x = "-1" }',
            "prices.toml: prices[0].rates.x: expected a non-negative number",
        ),
        (
            '[[prices]]\nprovider = "p"\nsource = "s"\nrates = { x = true }',
            "prices.toml: prices[0].rates.x: expected a number, got True",
        ),
        (
            '[[prices]]\nprovider = "p"\nsource = "s"\nsince = "26/11/2026"\nrates = { x = 1 }',
            "prices.toml: prices[0].since: expected a date (YYYY-MM-DD), got '26/11/2026'",
        ),
        (
            '[[prices]]\nprovider = "p"\nsource = "s"\nread = 5\nrates = { x = 1 }',
            "prices.toml: prices[0].read: expected a date",
        ),
        (
            '[[prices]]\nprovider = "p"\nsource = "s"\nper = 0\nrates = { x = 1 }',
            "prices.toml: prices[0].per: must not be 0",
        ),
        ('prices = "none"', "prices.toml: expected a `prices` list of entries"),
        ("prices = [1]", "prices.toml: prices[0]: expected a table"),
    ],
)
def test_schema_errors_name_the_file_and_entry(tmp_path, entries, message):
    path = _write(tmp_path / "prices.toml", entries)
    with pytest.raises(PricingFileError) as raised:
        _load_file(path, str(path))
    assert message in str(raised.value)
    assert str(raised.value).startswith(str(tmp_path))


def test_error_names_the_second_entry_not_the_first(tmp_path):
    path = _write(
        tmp_path / "two.toml",
        """
        provider = "acme"
        [[prices]]
        source = "https://acme.example/pricing"
        rates = { requests = "0.01" }
        [[prices]]
        source = "https://acme.example/pricing"
        rates = { requests = "cheap" }
        """,
    )
    with pytest.raises(PricingFileError, match=r"two\.toml: prices\[1\]\.rates\.requests"):
        _load_file(path, str(path))


def test_a_broken_data_file_costs_only_its_provider(tmp_path, caplog):
    _write(
        tmp_path / "good.toml", 'provider = "good"\n[[prices]]\nsource = "s"\nrates = { requests = "0.5" }'
    )
    _write(tmp_path / "bad.toml", 'provider = "bad"\n[[prices]]\nrates = { requests = "0.5" }')
    with caplog.at_level(logging.WARNING, logger="llmobserve_otel.pricing._catalogue"):
        catalogue = Catalogue(data_dir=tmp_path, user_file="")
        assert catalogue.has("good") and not catalogue.has("bad")
    assert "bad.toml not loaded" in caplog.text and "prices[0]" in caplog.text


def test_every_shipped_data_file_loads_with_source_read_and_since():
    entries = [entry for path in sorted(DATA_DIR.glob("*.toml")) for entry in _load_file(path, "builtin")]
    assert entries
    for entry in entries:
        assert entry.source.startswith("https://"), entry
        assert entry.read is not None and entry.since <= entry.read, entry


# --- price history: a call is priced at its timestamp ------------------------------------------

HISTORY = """
provider = "acme"
[[prices]]
operation = "sms"
since = 2025-01-01
source = "https://acme.example/pricing/2025"
rates = { segments = "0.0079" }
[[prices]]
operation = "sms"
since = 2026-06-01
source = "https://acme.example/pricing/2026"
rates = { segments = "0.0083" }
"""


def test_price_history_picks_the_entry_in_force_on_the_call_date(tmp_path):
    _write(tmp_path / "acme.toml", HISTORY)
    catalogue = Catalogue(data_dir=tmp_path, user_file="")
    assert catalogue.find("acme", "sms", None, _at("2024-12-31T23:59:59")) is None  # before any price
    old = catalogue.find("acme", "sms", None, _at("2026-05-31T23:59:59"))
    new = catalogue.find("acme", "sms", None, _at("2026-06-01T00:00:00"))
    assert old is not None and old.rates == {"segments": Decimal("0.0079")}
    assert new is not None and new.rates == {"segments": Decimal("0.0083")}
    assert catalogue.find("acme", "email", None, _at("2026-07-01")) is None  # other operation


def test_a_span_is_priced_at_its_start_timestamp(tmp_path, use):
    _write(tmp_path / "acme.toml", HISTORY)
    use(Catalogue(data_dir=tmp_path, user_file=""))
    attrs = {sc.PROVIDER: "acme", sc.OPERATION: "sms", "llmobserve.usage.segments": 2}
    before = int(_at("2026-05-31T12:00:00").timestamp() * 1e9)
    after = int(_at("2026-06-02T12:00:00").timestamp() * 1e9)
    assert pricing.cost_attributes(attrs, source="sdk", timestamp_ns=before)[sc.COST_USD] == pytest.approx(
        2 * 0.0079, abs=1e-12
    )
    assert pricing.cost_attributes(attrs, source="sdk", timestamp_ns=after)[sc.COST_USD] == pytest.approx(
        2 * 0.0083, abs=1e-12
    )


# --- the user's file: overrides ours, adds private models ------------------------------------


def test_user_toml_overrides_a_builtin_entry(tmp_path, monkeypatch, use):
    user = _write(
        tmp_path / "negotiated.toml",
        """
        [[prices]]
        provider = "twilio"
        operation = "sms"
        since = 2026-01-01
        source = "our Twilio contract, 2026"
        rates = { segments = "0.0050" }
        """,
    )
    monkeypatch.setenv(USER_FILE_ENV, str(user))
    catalogue = use(Catalogue())  # builtin data dir, user file from the environment
    entry = catalogue.find("twilio", "sms", None, _at("2026-11-26"))
    assert entry is not None and entry.origin == str(user) and entry.rates == {"segments": Decimal("0.0050")}
    builtin = [e for e in catalogue.entries("twilio") if e.origin == "builtin"]
    assert [e.rates for e in builtin] == [{"segments": Decimal("0.0083")}]  # still listed, just outranked
    attrs = {sc.PROVIDER: "twilio", sc.OPERATION: "sms", "llmobserve.usage.segments": 3}
    assert pricing.price(attrs).cost_usd == Decimal("0.0150")  # 3 x $0.0050, not 3 x $0.0083


def test_user_file_adds_a_private_llm_models_token_prices(tmp_path, monkeypatch, use):
    user = _write(
        tmp_path / "private.toml",
        """
        provider = "openai"
        [[prices]]
        model = "acme-private-*"
        source = "internal chargeback rate"
        per = 1000000
        rates = { input_tokens = "1.00", cache_read_tokens = "0.10", output_tokens = "4.00" }
        """,
    )
    monkeypatch.setenv(USER_FILE_ENV, str(user))
    use(Catalogue())
    private = {
        sc.PROVIDER: "openai",
        sc.GEN_AI_OPERATION_NAME: "chat",
        sc.GEN_AI_RESPONSE_MODEL: "acme-private-70b",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 1000,  # includes the 400 cached
        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 400,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 500,
    }
    result = pricing.price(private)
    assert result.status == sc.STATUS_PRICED
    # 600 uncached x $1 + 400 cached x $0.10 + 500 x $4, per million
    assert result.cost_usd == Decimal(600 * 1 + 400 * Decimal("0.10") + 500 * 4) / M
    # A public model of the same provider still gets genai-prices' price (gpt-4o-mini: $0.15 in, $0.60 out).
    public = {**private, sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini"}
    del public[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]
    assert pricing.price(public).cost_usd == pytest.approx(Decimal(1000 * 0.15 + 500 * 0.60) / M)
    # The wire capture's shortcut defers to our entry, and takes genai-prices' price where none applies.
    now = 1_795_000_000 * 10**9
    counts = {"input_tokens": 1000, "cache_read_tokens": 400, "output_tokens": 500}
    assert pricing.token_cost_usd("openai", "chat", "acme-private-70b", counts, now) is None
    assert pricing.token_cost_usd("openai", "chat", "gpt-4o-mini", counts, now) == float(
        (600 * Decimal("0.15") + 400 * Decimal("0.075") + 500 * Decimal("0.60")) / M
    )


def test_the_wire_shortcut_follows_a_reloaded_catalogue(tmp_path, monkeypatch):
    """`token_cost_usd` remembers its answers per catalogue as loaded: `reset()` forgets them."""
    now = 1_795_000_000 * 10**9
    counts = {"input_tokens": 1000, "output_tokens": 500}
    # gpt-4o-mini in genai-prices: $0.15 in, $0.60 out per million
    public = float((1000 * Decimal("0.15") + 500 * Decimal("0.60")) / M)
    assert pricing.token_cost_usd("openai", "chat", "gpt-4o-mini", counts, now) == public
    user = _write(
        tmp_path / "negotiated.toml",
        """
        provider = "openai"
        [[prices]]
        model = "gpt-4o-mini"
        source = "negotiated rate"
        per = 1000000
        rates = { input_tokens = "0.10", output_tokens = "0.40" }
        """,
    )
    monkeypatch.setenv(USER_FILE_ENV, str(user))
    pricing.catalogue.reset()
    try:
        assert pricing.token_cost_usd("openai", "chat", "gpt-4o-mini", counts, now) is None
        attrs = {
            sc.PROVIDER: "openai",
            sc.OPERATION: "chat",
            sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
            sc.GEN_AI_USAGE_INPUT_TOKENS: 1000,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: 500,
        }
        added = pricing.cost_attributes(attrs, source="sdk", timestamp_ns=now)
        assert added[sc.COST_USD] == float((1000 * Decimal("0.10") + 500 * Decimal("0.40")) / M)
    finally:
        monkeypatch.delenv(USER_FILE_ENV)
        pricing.catalogue.reset()
    assert pricing.token_cost_usd("openai", "chat", "gpt-4o-mini", counts, now) == public


def test_user_yaml_file(tmp_path, monkeypatch):
    user = _write(
        tmp_path / "prices.yaml",
        """
        provider: sendgrid
        prices:
          - operation: email
            since: 2026-01-01
            source: our SendGrid Pro 100K plan
            per: 100000
            rates: {emails: "89.95"}
        """,
    )
    monkeypatch.setenv(USER_FILE_ENV, str(user))
    entry = Catalogue().find("sendgrid", "email", None, _at("2026-11-26"))
    assert entry is not None and entry.since == date(2026, 1, 1)
    assert entry.rates == {"emails": Decimal("89.95") / 100000}  # $0.0008995 an email
    assert entry.display_rates == {"emails": "89.95 per 100000"}


def test_yaml_without_pyyaml_says_what_to_install(tmp_path, monkeypatch, caplog):
    user = _write(tmp_path / "prices.yml", "prices: []\n")
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml -> ImportError
    with pytest.raises(
        PricingFileError, match=r"prices\.yml: YAML price files need PyYAML \(pip install pyyaml\)"
    ):
        _load_file(user, str(user))
    # Through the catalogue: logged, the builtin prices still load.
    monkeypatch.setenv(USER_FILE_ENV, str(user))
    with caplog.at_level(logging.WARNING, logger="llmobserve_otel.pricing._catalogue"):
        catalogue = Catalogue()
        assert catalogue.has("stripe")
    assert "need PyYAML" in caplog.text


def test_more_specific_entry_wins_and_user_wins_ties(tmp_path):
    _write(
        tmp_path / "acme.toml",
        """
        provider = "acme"
        [[prices]]
        source = "any"
        rates = { characters = "1" }
        [[prices]]
        operation = "tts"
        source = "operation"
        rates = { characters = "2" }
        [[prices]]
        operation = "tts"
        model = "voice-*"
        source = "glob"
        rates = { characters = "3" }
        [[prices]]
        operation = "tts"
        model = "voice-2"
        source = "exact"
        rates = { characters = "4" }
        """,
    )
    user = _write(
        tmp_path / "user.toml",
        '[[prices]]\nprovider = "acme"\noperation = "tts"\nmodel = "voice-*"\nsource = "user glob"\nrates = { characters = "5" }',
    )
    catalogue = Catalogue(data_dir=tmp_path, user_file=str(user))
    pick = lambda operation, model: catalogue.find("acme", operation, model).source  # noqa: E731
    assert pick("stt", None) == "any"
    assert pick("tts", None) == "operation"
    assert pick("tts", "voice-1") == "user glob"  # user beats builtin at equal specificity
    assert pick("tts", "voice-2") == "exact"  # an exact model beats any glob, even the user's


# --- the `requests` fee and the cached-token split -----------------------------------------------


def _entry(**rates: str) -> UnitPrice:
    (entry,) = parse_entries({"prices": [{"provider": "p", "source": "s", "rates": rates}]}, "test")
    return entry


def test_requests_fee_semantics():
    stripe = _entry(amount_usd="0.029", requests="0.30")
    # The fixed fee is counted once alongside a priced amount: $20 x 2.9% + $0.30.
    assert unit_cost(stripe, {"amount_usd": 20}) == Decimal("0.88")
    assert unit_cost(stripe, {"amount_usd": 20, "requests": 1}) == Decimal("0.88")
    assert unit_cost(stripe, {"amount_usd": 20, "requests": 2}) == Decimal("1.18")  # two captures
    assert unit_cost(stripe, {"requests": 0}) == Decimal(0)  # nothing charged: priced at zero
    assert unit_cost(stripe, {"amount_eur": 10}) is None  # no unit it prices: unknown, not zero
    per_call = _entry(requests="0.005")
    assert unit_cost(per_call, {}) == Decimal("0.005")  # a per-call fee alone needs no usage
    assert unit_cost(per_call, {"requests": 3}) == Decimal("0.015")


def test_requests_fee_through_the_pricing_core_on_shipped_stripe_data():
    attrs = {sc.PROVIDER: "stripe", sc.OPERATION: "payment", "llmobserve.usage.amount_usd": 19.99}
    # $19.99 x 2.9% + $0.30 = $0.87971 (https://stripe.com/pricing)
    assert pricing.price(attrs).cost_usd == Decimal("0.87971")
    eur = {sc.PROVIDER: "stripe", sc.OPERATION: "payment", "llmobserve.usage.amount_eur": 10.5}
    result = pricing.price(eur)
    assert result.status == sc.STATUS_NO_USAGE and "amount_usd, requests" in result.reason


def test_cached_tokens_are_split_out_only_when_the_entry_prices_them(tmp_path, use):
    _write(
        tmp_path / "acme.toml",
        """
        provider = "acme"
        [[prices]]
        model = "with-cache"
        source = "s"
        per = 1000000
        rates = { input_tokens = "2", cache_read_tokens = "0.5", cache_write_tokens = "3", output_tokens = "8" }
        [[prices]]
        model = "no-cache"
        source = "s"
        per = 1000000
        rates = { input_tokens = "2", output_tokens = "8" }
        """,
    )
    use(Catalogue(data_dir=tmp_path, user_file=""))
    tokens = {
        sc.PROVIDER: "acme",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 1000,  # 300 read from cache and 100 written to it included
        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 300,
        sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 100,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 50,
    }
    with_cache = pricing.price({**tokens, sc.GEN_AI_RESPONSE_MODEL: "with-cache"})
    assert with_cache.cost_usd == Decimal(600 * 2 + 300 * Decimal("0.5") + 100 * 3 + 50 * 8) / M
    no_cache = pricing.price({**tokens, sc.GEN_AI_RESPONSE_MODEL: "no-cache"})
    assert no_cache.cost_usd == Decimal(1000 * 2 + 50 * 8) / M  # all input at the input rate


def test_billed_usd_from_the_provider_wins_over_rates():
    attrs = {
        sc.PROVIDER: "twilio",
        sc.OPERATION: "sms",
        "llmobserve.usage.segments": 2,
        "llmobserve.usage.billed_usd": 0.0158,
    }
    assert pricing.price(attrs).cost_usd == Decimal("0.0158")  # not 2 x $0.0083
    assert pricing.price({**attrs, "llmobserve.usage.billed_usd": "0.0158"}).cost_usd == Decimal("0.0166")


def test_catalogue_is_not_loaded_at_import():
    import subprocess

    code = (
        "import llmobserve_otel, llmobserve_otel.pricing as p; "
        "assert p.catalogue._by_provider is None; print('lazy')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "lazy"


def test_a_refused_call_is_not_charged_a_per_call_fee(tmp_path, use):
    _write(
        tmp_path / "acme.toml",
        'provider = "acme"\n[[prices]]\noperation = "query"\nsource = "s"\nrates = { requests = "0.004" }',
    )
    use(Catalogue(data_dir=tmp_path, user_file=""))
    call = {sc.PROVIDER: "acme", sc.OPERATION: "query", sc.HTTP_RESPONSE_STATUS_CODE: 200}
    assert pricing.price(call).cost_usd == Decimal("0.004")
    refused = pricing.price({**call, sc.HTTP_RESPONSE_STATUS_CODE: 429})
    assert refused.cost_usd is None and refused.status == sc.STATUS_NO_USAGE
