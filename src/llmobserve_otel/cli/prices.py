"""`llmobserve-otel prices [PROVIDER] [MODEL]`: what the pricing core knows, and where it comes from."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any

_KEYS = (
    "input_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "output_mtok",
    "input_audio_mtok",
    "output_audio_mtok",
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "prices", help="list known prices (USD per million tokens)", description=cmd.__doc__
    )
    parser.add_argument("provider", nargs="?", help="provider id, e.g. openai, anthropic")
    parser.add_argument("model", nargs="?", help="model name as the API returns it, e.g. gpt-4o-2024-08-06")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=cmd)


def _value(price: Any) -> str | None:
    if price is None:
        return None
    base = getattr(price, "base", price)
    tiers = getattr(price, "tiers", None)
    text = f"{base}"
    if tiers:
        text += "".join(f" (>{t.start}: {t.price})" for t in tiers)
    return text


def cmd(args: argparse.Namespace) -> int:
    """List the LLM token prices the pricing core uses (from genai-prices, at today's date).

    With PROVIDER, only that provider's models; with MODEL too, the one model that name matches
    (the same matching the pricing core does for a call). Prices are USD per million tokens.
    """
    from genai_prices import __version__ as catalogue_version
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    now = datetime.now(timezone.utc)
    rows: list[dict[str, Any]] = []
    if args.model:
        try:
            provider, model = snapshot.find_provider_model(args.model, None, args.provider, None)
        except LookupError as exc:
            print(f"llmobserve-otel prices: {exc}", file=sys.stderr)
            return 1
        pairs = [(provider, model)]
    else:
        providers = [p for p in snapshot.providers if args.provider in (None, p.id)]
        if not providers:
            known = ", ".join(p.id for p in snapshot.providers)
            print(
                f"llmobserve-otel prices: unknown provider {args.provider!r}; known: {known}", file=sys.stderr
            )
            return 1
        pairs = [(p, m) for p in providers for m in p.models]
    for provider, model in pairs:
        price = model.get_prices(now)
        row = {"provider": provider.id, "model": model.id}
        row.update({key: _value(getattr(price, key, None)) for key in _KEYS})
        row["source"] = f"genai-prices {catalogue_version}"
        rows.append(row)
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    header = ("provider", "model", "input", "cache read", "cache write", "output", "audio in", "audio out")
    table = [header] + [
        tuple(str(r[k]) if r[k] is not None else "-" for k in ("provider", "model", *_KEYS)) for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(
        f"\n{len(rows)} model(s); USD per 1M tokens; source: genai-prices {catalogue_version}",
        file=sys.stderr,
    )
    return 0
