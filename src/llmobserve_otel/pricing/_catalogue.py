"""Our own prices, as data: every non-LLM API (and LLMs genai-prices lacks), plus the user's file.

One TOML file per provider in `pricing/data/` (TOML: read by the standard library, no generation
step). `LLMOBSERVE_PRICING_FILE` (TOML, or YAML when PyYAML is installed) adds entries or overrides
ours and genai-prices' (negotiated rates, private models, self-hosted rates). Schema of an entry:

    [[prices]]
    provider = "stripe"            # optional when the file sets `provider` at the top
    operation = "payment"          # `llmobserve.operation`; omitted or "*" = any operation
    model = "eleven_*"             # optional: exact or glob on the call's model
    since = 2024-01-01             # the price applies to calls made on or after this date (UTC)
    read = 2026-11-26              # when the source was read
    source = "https://stripe.com/pricing"
    note = "US cards"              # optional
    per = 1                        # rates are USD per `per` units (default 1)
    rates = { amount_usd = "0.029", requests = "0.30" }

Rate units are `llmobserve.usage.<unit>` names, or token counts (`input_tokens`, `output_tokens`,
`cache_read_tokens`, `cache_write_tokens`) read from the GenAI attributes. `requests` is 1 per
call unless the span says otherwise. A call is priced by the entry with the most specific match
(model exact > glob > any; operation exact > any) and, among those, the latest `since` not after
the call; user entries win over ours at equal match.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).with_name("data")
USER_FILE_ENV = "LLMOBSERVE_PRICING_FILE"


class PricingFileError(ValueError):
    """A price file that does not follow the schema (the message names the file and entry)."""


@dataclass(frozen=True)
class UnitPrice:
    """One priced entry: rates per unit from a date, with where the numbers come from."""

    provider: str
    rates: Mapping[str, Decimal]
    """unit -> USD per one unit (already divided by `per`)."""
    since: date
    source: str
    read: date | None = None
    operation: str | None = None
    model: str | None = None
    note: str | None = None
    origin: str = "builtin"
    """`builtin` (our data file) or the user's file path."""
    display_rates: Mapping[str, str] = field(default_factory=dict)
    """The rates as written, with `per`, for listings."""

    def specificity(self, model: str | None) -> tuple[int, int, int]:
        model_rank = 0 if self.model is None else 2 if self.model == model else 1
        return (model_rank, 0 if self.operation is None else 1, 0 if self.origin == "builtin" else 1)

    def matches(self, operation: str | None, model: str | None) -> bool:
        if self.operation is not None and self.operation != operation:
            return False
        if self.model is None:
            return True
        return model is not None and (self.model == model or fnmatchcase(model, self.model))


def _date(value: Any, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PricingFileError(f"{what}: expected a date (YYYY-MM-DD), got {value!r}")


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise PricingFileError(f"{what}: expected a number, got {value!r}")
    try:
        # str(float) keeps TOML's 0.029 as 0.029, not its binary expansion.
        result = Decimal(str(value))
    except InvalidOperation:
        raise PricingFileError(f"{what}: expected a number, got {value!r}") from None
    if not result.is_finite() or result < 0:
        raise PricingFileError(f"{what}: expected a non-negative number, got {value!r}")
    return result


def parse_entries(document: Mapping[str, Any], origin: str) -> list[UnitPrice]:
    """Entries of one price document (already parsed from TOML/YAML); raises PricingFileError."""
    default_provider = document.get("provider")
    entries = document.get("prices")
    if not isinstance(entries, list):
        raise PricingFileError(f"{origin}: expected a `prices` list of entries")
    result: list[UnitPrice] = []
    for index, raw in enumerate(entries):
        where = f"{origin}: prices[{index}]"
        if not isinstance(raw, Mapping):
            raise PricingFileError(f"{where}: expected a table")
        provider = raw.get("provider", default_provider)
        if not isinstance(provider, str) or not provider:
            raise PricingFileError(f"{where}: no provider")
        rates = raw.get("rates")
        if not isinstance(rates, Mapping) or not rates:
            raise PricingFileError(f"{where}: expected `rates`, a table of unit = USD")
        per = _decimal(raw.get("per", 1), f"{where}.per")
        if per == 0:
            raise PricingFileError(f"{where}.per: must not be 0")
        source = raw.get("source")
        if not isinstance(source, str) or not source:
            raise PricingFileError(f"{where}: `source` (where the price was read) is required")
        operation = raw.get("operation")
        model = raw.get("model")
        suffix = "" if per == 1 else f" per {per.normalize():f}"
        result.append(
            UnitPrice(
                provider=provider.lower(),
                rates={str(u): _decimal(r, f"{where}.rates.{u}") / per for u, r in rates.items()},
                since=_date(raw.get("since", "1970-01-01"), f"{where}.since"),
                read=_date(raw["read"], f"{where}.read") if "read" in raw else None,
                source=source,
                operation=None if operation in (None, "*") else str(operation),
                model=None if model in (None, "*") else str(model),
                note=raw.get("note"),
                origin=origin,
                display_rates={str(u): f"{r}{suffix}" for u, r in rates.items()},
            )
        )
    return result


def _load_file(path: Path, origin: str) -> list[UnitPrice]:
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise PricingFileError(f"{path}: YAML price files need PyYAML (pip install pyyaml)") from None
        document = yaml.safe_load(path.read_text())
    else:
        if sys.version_info >= (3, 11):  # imported here: the data loads on first use, not at start-up
            import tomllib
        else:  # pragma: no cover - 3.10
            import tomli as tomllib
        document = tomllib.loads(path.read_text())
    if not isinstance(document, Mapping):
        raise PricingFileError(f"{path}: expected a table at the top")
    return parse_entries(document, origin)


class Catalogue:
    """Our price entries and the user's, loaded on first use (never at import), by provider."""

    def __init__(self, data_dir: Path = DATA_DIR, user_file: str | None = None) -> None:
        self._data_dir = data_dir
        self._user_file = user_file
        self._by_provider: dict[str, list[UnitPrice]] | None = None
        self._lock = threading.Lock()
        self._found: tuple[Any, dict[tuple[Any, ...], UnitPrice | None]] = (None, {})
        """`find` answers for the loaded entries (the first item): the search runs once per call kind and day."""

    def _load(self) -> dict[str, list[UnitPrice]]:
        by_provider: dict[str, list[UnitPrice]] = {}
        entries: list[UnitPrice] = []
        for path in sorted(self._data_dir.glob("*.toml")):
            try:
                entries.extend(_load_file(path, "builtin"))
            except (OSError, ValueError) as exc:  # a bad data file costs its provider, not everything
                _log.warning("llmobserve: price data %s not loaded: %s", path.name, exc)
        user_file = self._user_file if self._user_file is not None else os.environ.get(USER_FILE_ENV)
        if user_file:
            try:
                entries.extend(_load_file(Path(user_file), user_file))
            except (OSError, ValueError) as exc:
                _log.warning("llmobserve: %s=%s not loaded: %s", USER_FILE_ENV, user_file, exc)
        for entry in entries:
            by_provider.setdefault(entry.provider, []).append(entry)
        return by_provider

    def entries(self, provider: str | None = None) -> list[UnitPrice]:
        by_provider = self._get()
        if provider is not None:
            return list(by_provider.get(provider, ()))
        return [entry for group in by_provider.values() for entry in group]

    def _get(self) -> dict[str, list[UnitPrice]]:
        by_provider = self._by_provider
        if by_provider is None:
            with self._lock:
                if self._by_provider is None:
                    self._by_provider = self._load()
                by_provider = self._by_provider
        return by_provider

    def has(self, provider: str) -> bool:
        return provider in self._get()

    def loaded(self) -> object:
        """The entries as loaded now: another object after `reset`, so answers cached from them expire."""
        return self._by_provider or self._get()

    def find(
        self, provider: str, operation: str | None, model: str | None, when: datetime | None = None
    ) -> UnitPrice | None:
        """The entry that prices this call, or None."""
        day = (when or datetime.now(timezone.utc)).astimezone(timezone.utc).date()
        by_provider = self._get()
        loaded, found = self._found
        if loaded is not by_provider:
            found = {}
            self._found = (by_provider, found)
        call = (provider, operation, model, day)
        try:
            return found[call]
        except KeyError:
            pass
        best: UnitPrice | None = None
        best_key: tuple[Any, ...] = ()
        for entry in by_provider.get(provider, ()):
            if entry.since > day or not entry.matches(operation, model):
                continue
            key = (entry.specificity(model), entry.since)
            if best is None or key > best_key:
                best, best_key = entry, key
        if len(found) >= 10_000:  # bound memory against a stream of junk model names
            found.clear()
        found[call] = best
        return best

    def reset(self) -> None:
        """Reload on next use (tests, or after the user's file changed)."""
        with self._lock:
            self._by_provider = None


def unit_cost(entry: UnitPrice, units: Mapping[str, float]) -> Decimal | None:
    """Sum of rate x amount over the entry's units present in `units`; None when none is present.

    `requests` counts 1 when absent, but only alongside another priced unit or when it is the
    entry's only rate (a per-call fee).
    """
    total = Decimal(0)
    seen = False
    for unit, rate in entry.rates.items():
        amount = units.get(unit)
        if amount is None:
            continue
        total += rate * Decimal(str(amount))
        seen = True
    if "requests" in entry.rates and "requests" not in units and (seen or len(entry.rates) == 1):
        total += entry.rates["requests"]
        seen = True
    return total if seen else None
