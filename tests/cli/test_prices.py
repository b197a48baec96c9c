"""`llmobserve-otel prices`: both catalogues, with sources and dates, filters, JSON, and `--at` (history).

Expected figures are those of the shipped data files (each citing its pricing page) and of
genai-prices (gpt-4o: $2.50 input, $1.25 cached input, $10 output per million tokens).
"""

from __future__ import annotations

import json
import textwrap

import pytest

from llmobserve_otel import pricing
from llmobserve_otel.cli import main
from llmobserve_otel.pricing._catalogue import Catalogue


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["prices", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def rows(capsys, *argv: str) -> list[dict]:
    code, out, _ = run(capsys, *argv, "--format", "json")
    assert code == 0
    return json.loads(out)


def test_our_entry_with_rates_source_and_dates(capsys):
    (stripe,) = rows(capsys, "stripe")
    assert stripe["note"].startswith("Standard: '2.9% + 30¢ per successful transaction for domestic cards'")
    assert [stripe] == [
        {
            "catalogue": "llmobserve",
            "provider": "stripe",
            "operation": "payment",
            "model": None,
            "rates": {"amount_usd": "0.029", "requests": "0.30"},
            "usd_per_unit": {"amount_usd": "0.029", "requests": "0.3"},
            "since": "2026-09-20",
            "read": "2026-11-26",
            "source": "https://stripe.com/pricing",
            "note": stripe["note"],
            "origin": "builtin",
        }
    ]


def test_per_n_units_is_shown_as_written_and_per_unit(capsys):
    (sendgrid,) = rows(capsys, "sendgrid")
    assert sendgrid["rates"] == {"emails": "19.95 per 50000"}
    assert sendgrid["usd_per_unit"] == {"emails": "0.000399"}  # $19.95 / 50,000
    algolia = {r["operation"]: r["usd_per_unit"] for r in rows(capsys, "algolia")}
    assert algolia == {"index": {"records": "0.0004"}, "search": {"search_requests": "0.0005"}}


def test_table_lists_both_catalogues_with_source(capsys, tmp_path, monkeypatch):
    path = tmp_path / "batch.toml"
    path.write_text(
        'provider = "openai"\n[[prices]]\noperation = "batch"\nsince = 2026-01-01\n'
        'source = "https://example.com/contract"\nrates = { requests = "0.001" }\n'
    )
    monkeypatch.setattr(pricing, "catalogue", Catalogue(user_file=str(path)))
    code, out, err = run(capsys, "openai", "gpt-4o")
    assert code == 0
    ours, theirs = out.split("\n\n")
    assert ours.splitlines()[0].split() == [
        "provider",
        "operation",
        "model",
        "USD",
        "per",
        "unit",
        "since",
        "read",
        "origin",
        "source",
    ]
    assert all(line.split()[-1].startswith("https://") for line in ours.splitlines()[1:])  # a source each
    (model,) = theirs.splitlines()[1:]
    assert model.split()[:6] == ["openai", "gpt-4o", "2.5", "1.25", "-", "10"]
    assert model.split()[-2] == "genai-prices"
    assert "genai-prices model(s)" in err


def test_genai_prices_rows_as_before(capsys):
    (row,) = [r for r in rows(capsys, "openai", "gpt-4o") if r["catalogue"] == "genai-prices"]
    assert (row["provider"], row["model"], row["input_mtok"], row["cache_read_mtok"], row["output_mtok"]) == (
        "openai",
        "gpt-4o",
        "2.5",
        "1.25",
        "10",
    )
    assert row["source"].startswith("genai-prices ")


def test_our_provider_ids_map_to_genai_prices_ones(capsys):
    found = rows(capsys, "gemini")
    assert found and {r["provider"] for r in found if r["catalogue"] == "genai-prices"} == {"google"}


def test_model_filter_keeps_entries_whose_model_or_glob_matches(capsys, tmp_path, monkeypatch):
    path = tmp_path / "models.toml"
    path.write_text(
        textwrap.dedent(
            """
            provider = "acme"
            [[prices]]
            model = "voice-*"
            source = "glob"
            rates = { characters = "0.0001" }
            [[prices]]
            model = "voice-2"
            source = "exact"
            rates = { characters = "0.0002" }
            [[prices]]
            model = "other"
            source = "other"
            rates = { characters = "0.0003" }
            [[prices]]
            source = "any model"
            rates = { requests = "0.01" }
            """
        )
    )
    monkeypatch.setattr(pricing, "catalogue", Catalogue(user_file=str(path)))
    assert [r["source"] for r in rows(capsys, "acme", "voice-2")] == ["any model", "glob", "exact"]
    assert [r["source"] for r in rows(capsys, "acme")] == ["any model", "other", "glob", "exact"]


HISTORY = """
provider = "twilio"
[[prices]]
operation = "sms"
since = 2025-01-01
read = 2025-01-02
source = "our 2025 contract"
rates = { segments = "0.0060" }
[[prices]]
operation = "sms"
since = 2026-06-01
read = 2026-06-02
source = "our 2026 contract"
rates = { segments = "0.0050" }
"""


@pytest.fixture
def user_file(tmp_path, monkeypatch):
    path = tmp_path / "contract.toml"
    path.write_text(textwrap.dedent(HISTORY))
    monkeypatch.setattr(pricing, "catalogue", Catalogue(user_file=str(path)))
    return str(path)


def test_history_and_user_file_origin(capsys, user_file):
    listed = [(r["since"], r["usd_per_unit"]["segments"], r["origin"]) for r in rows(capsys, "twilio")]
    assert listed == [
        ("2025-01-01", "0.006", user_file),
        ("2026-06-01", "0.005", user_file),
        ("2026-10-01", "0.0083", "builtin"),
    ]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2024-12-31", []),  # before any price
        ("2025-06-01", [("our 2025 contract", "0.006")]),
        ("2026-06-01", [("our 2026 contract", "0.005")]),  # the switch day
        ("2026-11-26", [("our 2026 contract", "0.005")]),  # the user's file wins over ours (0.0083)
    ],
)
def test_at_shows_the_price_in_force(capsys, user_file, at, expected):
    code, out, err = run(capsys, "twilio", "--at", at, "--format", "json")
    if not expected:
        assert code == 1 and "no prices for twilio" in err
        return
    assert [(r["source"], r["usd_per_unit"]["segments"]) for r in json.loads(out)] == expected


def test_at_for_builtin_prices(capsys):
    code, _, err = run(capsys, "twilio", "--at", "2026-09-30")
    assert code == 1 and "no prices for twilio" in err  # our Twilio rate applies from 2026-10-01
    (row,) = rows(capsys, "twilio", "--at", "2026-10-01")
    assert row["usd_per_unit"] == {"segments": "0.0083"}


def test_unknown_provider_and_bad_date(capsys):
    code, out, err = run(capsys, "no-such-provider")
    assert (code, out) == (1, "")
    assert "unknown provider 'no-such-provider'" in err
    with pytest.raises(SystemExit) as raised:
        main(["prices", "--at", "26/11/2026"])
    assert raised.value.code == 2
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err


def test_at_picks_genai_prices_history(capsys):
    # genai-prices: claude-sonnet-4-6 had a >200K-token input tier ($6) until it went flat on 2026-03-13.
    def input_price(at: str) -> str:
        (row,) = [
            r
            for r in rows(capsys, "anthropic", "claude-sonnet-4-6", "--at", at)
            if r["catalogue"] == "genai-prices"
        ]
        return row["input_mtok"]

    assert input_price("2026-03-12") == "3 (>200000: 6)"
    assert input_price("2026-03-13") == "3"
