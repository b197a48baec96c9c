"""The pricing core against published prices (per million tokens, as in genai-prices' data and the
providers' pricing pages), and its fast path against genai-prices' own calculation."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from llmobserve_otel import semconv as sc
from llmobserve_otel.pricing import _TOKEN_ATTRIBUTES, _pricer, cost_attributes, price, token_cost_usd

M = 1_000_000


def llm(provider: str, model: str, **tokens: int) -> dict:
    attrs = {sc.PROVIDER: provider, sc.GEN_AI_REQUEST_MODEL: model}
    names = {
        "input": sc.GEN_AI_USAGE_INPUT_TOKENS,
        "output": sc.GEN_AI_USAGE_OUTPUT_TOKENS,
        "cache_read": sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        "cache_creation": sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    }
    attrs.update({names[k]: v for k, v in tokens.items()})
    return attrs


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        # gpt-4o: $2.50 in, $1.25 cached, $10 out
        (
            llm("openai", "gpt-4o", input=1000, output=500, cache_read=200),
            (800 * 2.5 + 200 * 1.25 + 500 * 10) / M,
        ),
        # gpt-4o-mini: $0.15 in, $0.60 out
        (llm("openai", "gpt-4o-mini", input=10_000, output=2_000), (10_000 * 0.15 + 2_000 * 0.60) / M),
        # text-embedding-3-small: $0.02 in
        (llm("openai", "text-embedding-3-small", input=123_456), 123_456 * 0.02 / M),
        # claude-sonnet-4-5: $3 in, $0.30 cache read, $3.75 cache write, $15 out
        (
            llm(
                "anthropic", "claude-sonnet-4-5", input=3500, output=300, cache_read=2000, cache_creation=500
            ),
            (1000 * 3 + 2000 * 0.30 + 500 * 3.75 + 300 * 15) / M,
        ),
        # claude-sonnet-4-5 above 200K input tokens: $6 in, $0.60 cache read, $7.50 cache write, $22.50 out
        (
            llm(
                "anthropic",
                "claude-sonnet-4-5",
                input=300_000,
                output=500,
                cache_read=200,
                cache_creation=100,
            ),
            (299_700 * 6 + 200 * 0.60 + 100 * 7.50 + 500 * 22.50) / M,
        ),
    ],
)
def test_published_prices(attrs, expected):
    added = cost_attributes(attrs, source="sdk")
    assert added[sc.COST_USD] == pytest.approx(expected, abs=1e-12)
    assert added[sc.COST_SOURCE] == "sdk"
    assert added[sc.COST_STATUS] == "priced"


def test_priced_at_the_call_timestamp():
    # claude-opus-4-6: long-context tier ($10 in, $37.50 out above 200K) until 2026-03-13; then flat $5 / $25.
    attrs = llm("anthropic", "claude-opus-4-6", input=300_000, output=1000)
    before = int(datetime(2026, 2, 1, tzinfo=timezone.utc).timestamp() * 1e9)
    after = int(datetime(2026, 6, 1, tzinfo=timezone.utc).timestamp() * 1e9)
    assert cost_attributes(attrs, source="sdk", timestamp_ns=before)[sc.COST_USD] == pytest.approx(
        (300_000 * 10 + 1000 * 37.5) / M
    )
    assert cost_attributes(attrs, source="sdk", timestamp_ns=after)[sc.COST_USD] == pytest.approx(
        (300_000 * 5 + 1000 * 25) / M
    )


def test_semconv_provider_names_and_old_spellings():
    attrs = {
        sc.GEN_AI_SYSTEM: "openai",
        sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-2024-08-06",
        sc.GEN_AI_USAGE_PROMPT_TOKENS: 1000,
        sc.GEN_AI_USAGE_COMPLETION_TOKENS: 100,
    }
    assert cost_attributes(attrs, source="collector")[sc.COST_USD] == pytest.approx(
        (1000 * 2.5 + 100 * 10) / M
    )
    # the anthropic SDK's spelling of cache writes
    attrs = {
        sc.GEN_AI_PROVIDER_NAME: "anthropic",
        sc.GEN_AI_REQUEST_MODEL: "claude-sonnet-4-5",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 1000,
        sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 1000,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 0,
    }
    assert cost_attributes(attrs, source="sdk")[sc.COST_USD] == pytest.approx(1000 * 3.75 / M)


def test_existing_cost_is_kept_as_caller():
    assert cost_attributes({sc.COST_USD: 0.5, **llm("openai", "gpt-4o", input=1)}, source="sdk") == {
        sc.COST_SOURCE: "caller"
    }
    assert cost_attributes({sc.COST_USD: 0.5, sc.COST_SOURCE: "proxy"}, source="sdk") == {}


def test_duplicate_and_non_calls_are_left_alone():
    assert (
        cost_attributes({sc.COST_STATUS: "duplicate", **llm("openai", "gpt-4o", input=5)}, source="sdk") == {}
    )
    assert cost_attributes({"http.request.method": "GET"}, source="sdk") == {}


def test_unknown_model_and_missing_usage_are_explained_not_guessed():
    unknown = cost_attributes(llm("openai", "gpt-nonexistent", input=5, output=5), source="sdk")
    assert unknown[sc.COST_STATUS] == "unknown_model"
    assert "gpt-nonexistent" in unknown[sc.COST_REASON]
    assert sc.COST_USD not in unknown
    assert (
        cost_attributes({sc.PROVIDER: "openai", sc.GEN_AI_REQUEST_MODEL: "gpt-4o"}, source="sdk")[
            sc.COST_STATUS
        ]
        == "no_usage"
    )


def test_wrong_types_never_raise():
    attrs = {sc.PROVIDER: "openai", sc.GEN_AI_REQUEST_MODEL: "gpt-4o", sc.GEN_AI_USAGE_INPUT_TOKENS: "12"}
    assert cost_attributes(attrs, source="sdk")[sc.COST_STATUS] == "no_usage"
    attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] = -3
    assert cost_attributes(attrs, source="sdk")[sc.COST_STATUS] == "no_usage"


_USAGES = [
    {"input_tokens": 1, "output_tokens": 0},
    {"input_tokens": 12_345, "output_tokens": 678, "cache_read_tokens": 2_000},
    {
        "input_tokens": 150_000,
        "output_tokens": 9_000,
        "cache_read_tokens": 50_000,
        "cache_write_tokens": 10_000,
    },
    {"input_tokens": 5_000, "output_tokens": 100, "input_audio_tokens": 1_000, "output_audio_tokens": 50},
    {"input_tokens": 400_000, "output_tokens": 2_000},  # above most long-context tiers: full calculation
]


def test_fast_path_equals_genai_prices_for_the_whole_catalogue():
    """Every model price in the catalogue, at several usages: our linear form equals genai-prices' own."""
    from genai_prices import Usage, data_snapshot

    now = datetime.now(timezone.utc)
    checked = 0
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            try:
                resolved = _pricer.resolve(provider.id, model.id, now)
            except LookupError:
                continue  # an id its own match rules do not match; nothing to compare
            if resolved.model_id != model.id:
                continue
            for usage in _USAGES:
                try:
                    reference = model.get_prices(now).calc_price(Usage(**usage))["total_price"]
                except Exception:
                    continue  # genai-prices itself cannot price this usage for this model
                assert _pricer.cost(resolved, usage) == reference, (provider.id, model.id, usage)
                checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    "day", [datetime(2025, 6, 1, 23, 59), datetime(2026, 2, 1), datetime(2026, 11, 27, 12)]
)
def test_token_cost_usd_equals_cost_attributes_for_the_whole_catalogue(day):
    """The wire capture's shortcut gives the very float the general path gives, or defers to it, on
    days either side of the catalogue's dated price changes."""
    from genai_prices import data_snapshot

    now_ns = int(day.replace(tzinfo=timezone.utc).timestamp() * 1e9)
    attribute = {}
    for name, key in _TOKEN_ATTRIBUTES:
        attribute.setdefault(key, name)
    fast = deferred = 0
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            for usage in _USAGES:
                cost = token_cost_usd(provider.id, "chat", model.id, usage, now_ns)
                if cost is None:
                    deferred += 1
                    continue
                attrs = {sc.PROVIDER: provider.id, sc.OPERATION: "chat", sc.GEN_AI_REQUEST_MODEL: model.id}
                attrs.update({attribute[key]: count for key, count in usage.items()})
                general = cost_attributes(attrs, source="sdk", timestamp_ns=now_ns)
                assert general[sc.COST_USD] == cost, (provider.id, model.id, usage)
                fast += 1
    assert fast > 1000 and deferred > 100  # deferred: dated prices, tiers reached, ids matched elsewhere


def test_token_cost_usd_defers_where_the_price_depends_on_more_than_the_counts():
    day = int(datetime(2026, 6, 1, tzinfo=timezone.utc).timestamp() * 1e9)
    # claude-opus-4-6: $10 in / $37.50 out above 200K input tokens until 2026-03-13, then flat $5 / $25.
    # Prices that change by date hold all day: the day's price; a tier reached: genai-prices' to apply.
    long_context = {"input_tokens": 300_000, "output_tokens": 1000}
    assert token_cost_usd("anthropic", "chat", "claude-opus-4-6", long_context, day) == float(
        (300_000 * 5 + 1000 * 25) / Decimal(M)
    )
    february = int(datetime(2026, 2, 1, tzinfo=timezone.utc).timestamp() * 1e9)
    assert token_cost_usd("anthropic", "chat", "claude-opus-4-6", long_context, february) is None
    # deepseek-chat has off-peak prices by the time of day: priced per call.
    assert token_cost_usd("deepseek", "chat", "deepseek-chat", {"input_tokens": 10}, day) is None
    # gemini-1.5-pro: $1.25 in up to 128K tokens, $2.50 above: the tier is genai-prices' to apply.
    assert token_cost_usd("gemini", "chat", "gemini-1.5-pro", {"input_tokens": 200_000}, day) is None
    assert token_cost_usd("gemini", "chat", "gemini-1.5-pro", {"input_tokens": 100_000}, day) == float(
        100_000 * Decimal("1.25") / M
    )
    assert token_cost_usd("openai", "chat", "no-such-model", {"input_tokens": 10}, day) is None
    # gpt-4o: $2.50 in, $1.25 cached, $10 out, per million
    cost = token_cost_usd(
        "openai",
        "chat",
        "gpt-4o",
        {"input_tokens": 1000, "cache_read_tokens": 200, "output_tokens": 500},
        day,
    )
    assert cost == float((800 * Decimal("2.5") + 200 * Decimal("1.25") + 500 * 10) / M)


def test_price_returns_catalogue_model_id():
    result = price(llm("openai", "gpt-4o-2024-08-06", input=10, output=1))
    assert result is not None and result.model_id == "gpt-4o"
    assert result.cost_usd == Decimal("0.000035")


def test_token_count_attributes_are_the_priced_input_and_output_spellings():
    from llmobserve_otel.pricing import _TOKEN_ATTRIBUTES

    spellings = {
        attribute for attribute, key in _TOKEN_ATTRIBUTES if key in ("input_tokens", "output_tokens")
    }
    assert (
        set(sc.TOKEN_COUNT_ATTRIBUTES)
        == spellings
        == {
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.prompt_tokens",
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
        }
    )


def test_token_cost_usd_never_raises(monkeypatch):
    """A failure inside the shortcut leaves the call to the general path (which reports it)."""
    from llmobserve_otel import pricing

    class Broken:
        def loaded(self) -> object:
            raise RuntimeError("catalogue bug")

    monkeypatch.setattr(pricing, "catalogue", Broken())
    assert token_cost_usd("openai", "chat", "gpt-4o", {"input_tokens": 10}, 1_795_000_000 * 10**9) is None
