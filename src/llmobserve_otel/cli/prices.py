"""`llmobserve-otel prices [PROVIDER] [MODEL]`: what the pricing core knows, and where it comes from.

Two catalogues: our own price data (`pricing/data/*.toml` plus `LLMOBSERVE_PRICING_FILE`; every
non-token API, each price with its source, the date it was read and the date it applies from) and
genai-prices (LLM token prices). Without `--at`, our entries are listed with their whole history;
with `--at DATE`, only the price in force on that date (what a call made that day is priced at).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timezone
from typing import Any

_KEYS = (
    "input_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "output_mtok",
    "input_audio_mtok",
    "output_audio_mtok",
)
OURS = "llmobserve"
GENAI_PRICES = "genai-prices"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "prices", help="list known prices, with their sources and dates", description=cmd.__doc__
    )
    parser.add_argument("provider", nargs="?", help="provider id, e.g. openai, stripe, twilio")
    parser.add_argument("model", nargs="?", help="model name as the API returns it, e.g. gpt-4o-2024-08-06")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--at", type=_date, metavar="DATE", help="only the prices in force on DATE (YYYY-MM-DD, UTC)"
    )
    parser.set_defaults(func=cmd)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _value(price: Any) -> str | None:
    if price is None:
        return None
    base = getattr(price, "base", price)
    tiers = getattr(price, "tiers", None)
    text = f"{base}"
    if tiers:
        text += "".join(f" (>{t.start}: {t.price})" for t in tiers)
    return text


def _our_rows(provider: str | None, model: str | None, at: date | None) -> list[dict[str, Any]]:
    """Our catalogue's entries (history, or the one in force `at`) for `provider` / `model`."""
    from fnmatch import fnmatchcase

    from llmobserve_otel.pricing import catalogue

    entries = [
        e
        for e in catalogue.entries(provider)
        if model is None or e.model is None or e.model == model or fnmatchcase(model, e.model)
    ]
    if at is not None:
        in_force: dict[tuple[Any, ...], Any] = {}
        for entry in entries:
            if entry.since > at:
                continue
            key = (entry.provider, entry.operation, entry.model)
            rank = (entry.origin != "builtin", entry.since)  # as the pricing core picks: user, then latest
            current = in_force.get(key)
            if current is None or rank > (current.origin != "builtin", current.since):
                in_force[key] = entry
        entries = list(in_force.values())
    entries.sort(key=lambda e: (e.provider, e.operation or "", e.model or "", e.since, e.origin != "builtin"))
    return [
        {
            "catalogue": OURS,
            "provider": e.provider,
            "operation": e.operation,
            "model": e.model,
            "rates": dict(e.display_rates),
            "usd_per_unit": {unit: f"{rate.normalize():f}" for unit, rate in e.rates.items()},
            "since": e.since.isoformat(),
            "read": e.read.isoformat() if e.read else None,
            "source": e.source,
            "note": e.note,
            "origin": e.origin,
        }
        for e in entries
    ]


def _genai_rows(
    provider: str | None, model: str | None, at: date | None
) -> tuple[list[dict[str, Any]], str | None]:
    """genai-prices' token prices; (rows, why there are none) for a filter it does not know."""
    from genai_prices import __version__ as catalogue_version
    from genai_prices import data_snapshot

    from llmobserve_otel.pricing import _GENAI_PRICES_PROVIDER

    snapshot = data_snapshot.get_snapshot()
    when = (
        datetime.now(timezone.utc) if at is None else datetime(at.year, at.month, at.day, tzinfo=timezone.utc)
    )
    provider_id = _GENAI_PRICES_PROVIDER.get(provider, provider) if provider else None
    if model:
        try:
            found, found_model = snapshot.find_provider_model(model, None, provider_id, None)
        except LookupError as exc:
            return [], str(exc)
        pairs = [(found, found_model)]
    else:
        providers = [p for p in snapshot.providers if provider_id in (None, p.id)]
        if not providers:
            return [], f"unknown provider {provider!r}"
        pairs = [(p, m) for p in providers for m in p.models]
    rows = []
    for found, found_model in pairs:
        price = found_model.get_prices(when)
        row: dict[str, Any] = {"catalogue": GENAI_PRICES, "provider": found.id, "model": found_model.id}
        row.update({key: _value(getattr(price, key, None)) for key in _KEYS})
        row["source"] = f"genai-prices {catalogue_version}"
        rows.append(row)
    return rows, None


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _rates_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{unit} {rate}" for unit, rate in row["rates"].items())


def cmd(args: argparse.Namespace) -> int:
    """List the prices the pricing core uses, each with its source and dates.

    Our own catalogue (non-token APIs and user overrides: USD per unit of `llmobserve.usage.<unit>`,
    with the date each price applies from, the date its source was read, and whether it is built in
    or from LLMOBSERVE_PRICING_FILE), then genai-prices' LLM token prices (USD per million tokens).
    With PROVIDER, only that provider; with MODEL too, the entries and the genai-prices model that
    name matches (the same matching the pricing core does). --at DATE shows the prices in force on
    that date instead of today's (and, for our entries, instead of their whole history).
    """
    ours = _our_rows(args.provider, args.model, args.at)
    theirs, why = _genai_rows(args.provider, args.model, args.at)
    if not ours and not theirs:
        wanted = " ".join(x for x in (args.provider, args.model) if x) or "anything"
        print(
            f"llmobserve-otel prices: no prices for {wanted}" + (f" ({why})" if why else ""), file=sys.stderr
        )
        return 1
    if args.format == "json":
        print(json.dumps(ours + theirs, indent=2))
        return 0
    if ours:
        header = ("provider", "operation", "model", "USD per unit", "since", "read", "origin", "source")
        _print_table(
            header,
            [
                (
                    r["provider"],
                    r["operation"] or "*",
                    r["model"] or "*",
                    _rates_text(r),
                    r["since"],
                    r["read"] or "-",
                    r["origin"],
                    r["source"],
                )
                for r in ours
            ],
        )
    if ours and theirs:
        print()
    if theirs:
        header = (
            "provider",
            "model",
            "input",
            "cache read",
            "cache write",
            "output",
            "audio in",
            "audio out",
            "source",
        )
        _print_table(
            header,
            [
                tuple(str(r[k]) if r[k] is not None else "-" for k in ("provider", "model", *_KEYS, "source"))
                for r in theirs
            ],
        )
    when = f"in force on {args.at.isoformat()}" if args.at else "history" if ours else "today"
    print(
        f"\n{len(ours)} entr{'y' if len(ours) == 1 else 'ies'} of our catalogue ({when}; USD per unit), "
        f"{len(theirs)} genai-prices model(s) (USD per 1M tokens)",
        file=sys.stderr,
    )
    return 0
