"""The coverage table (`docs/coverage.md`), generated from the registry, the price data and the tests.

    python -m llmobserve_otel.providers._coverage            # rewrite docs/coverage.md
    python -m llmobserve_otel.providers._coverage --check    # exit 1 when it is out of date

For each provider in `PROVIDERS`: its transports (`TRANSPORTS`), operations (`OPERATIONS`, else the
`Route`s the module holds; modules that build routes per call should declare `OPERATIONS`), units (our price entries' rate units; `tokens` for LLM routes), where
its prices come from (our data files' sources with the dates they were read, or genai-prices), the
SDK the tests drive (`SDK`) with its installed version, and the tests marked
`@pytest.mark.provider("<id>")`, found by parsing `tests/` with `ast` (no pytest run). An optional
module attribute `COVERAGE_NOTE` adds a note (e.g. "tested against a wire-level stub").
A dev tool: it reads the source tree, so run it from a checkout.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from llmobserve_otel.providers import PROVIDERS, Route, load

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "coverage.md"
TESTS = ROOT / "tests"
_VERSION = re.compile(r"==[^\s|`]+")


def provider_tests(tests_dir: Path) -> dict[str, list[str]]:
    """provider id -> `path::test` ids marked `@pytest.mark.provider("<id>")` (on the test, its class or module)."""
    found: dict[str, list[str]] = {}
    for path in sorted(tests_dir.rglob("test_*.py")):
        try:
            tree = ast.parse(path.read_text(), str(path))
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue
        name = path.relative_to(tests_dir.parent).as_posix()
        module_marks = _module_marks(tree)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                for provider in module_marks | _marks(node.decorator_list):
                    found.setdefault(provider, []).append(f"{name}::{node.name}")
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                class_marks = module_marks | _marks(node.decorator_list)
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith(
                        "test"
                    ):
                        for provider in class_marks | _marks(item.decorator_list):
                            found.setdefault(provider, []).append(f"{name}::{node.name}::{item.name}")
    return found


def _provider_mark(node: ast.expr) -> str | None:
    """The id of a `pytest.mark.provider("<id>")` (or `mark.provider(...)`) expression."""
    if not (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "provider"
    ):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Attribute) and owner.attr == "mark") and not (
        isinstance(owner, ast.Name) and owner.id == "mark"
    ):
        return None
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def _marks(decorators: Iterable[ast.expr]) -> set[str]:
    return {mark for node in decorators if (mark := _provider_mark(node)) is not None}


def _module_marks(tree: ast.Module) -> set[str]:
    """`pytestmark = pytest.mark.provider("x")` or a list of marks."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            return _marks(values)
    return set()


def _routes(module: Any) -> list[Route]:
    """Every `Route` the module holds at top level or inside its top-level tables (tuples, lists, dicts)."""
    found: list[Route] = []

    def visit(value: Any, depth: int) -> None:
        if isinstance(value, Route):
            found.append(value)
        elif depth < 3 and isinstance(value, (tuple, list, frozenset, set)):
            for item in value:
                visit(item, depth + 1)
        elif depth < 3 and isinstance(value, Mapping):
            for item in value.values():
                visit(item, depth + 1)

    for name, value in vars(module).items():
        if not name.startswith("__"):
            visit(value, 0)
    return found


def _operations(module: Any) -> list[str]:
    declared = getattr(module, "OPERATIONS", None)
    if declared:
        return list(declared)
    return sorted({route.operation for route in _routes(module)})


def _token_priced(module: Any) -> bool:
    return any(route.kind == "llm" for route in _routes(module))


def _sdk(module: Any, versions: bool) -> str:
    sdk = getattr(module, "SDK", None)
    if not sdk:
        return "raw HTTP"
    if not versions:
        return f"`{sdk}`"
    try:
        return f"`{sdk}=={importlib.metadata.version(sdk)}`"
    except importlib.metadata.PackageNotFoundError:
        return f"`{sdk}==not-installed`"


def rows(tests: Mapping[str, list[str]], *, versions: bool = True) -> list[dict[str, str]]:
    """One row per provider in `PROVIDERS`, in registry order."""
    from llmobserve_otel.pricing import _GENAI_PRICES_PROVIDER
    from llmobserve_otel.pricing._catalogue import Catalogue

    catalogue = Catalogue(user_file="")  # built-in data only: the table documents what ships
    genai_prices = f"genai-prices {importlib.metadata.version('genai-prices')}"
    result = []
    for provider in PROVIDERS:
        marked = tests.get(provider, [])
        try:
            module = load(provider)
        except Exception:  # not written yet (or broken): listed, so the gap shows
            result.append(_missing(provider, marked))
            continue
        entries = catalogue.entries(provider)
        units = sorted({unit for entry in entries for unit in entry.rates})
        sources = sorted({(entry.source, entry.read.isoformat() if entry.read else "?") for entry in entries})
        prices = [f"{source} (read {read})" for source, read in sources]
        ours_price_tokens = any(unit.endswith("_tokens") for unit in units)
        # LLM routes, or (for modules that build routes per call) a provider genai-prices knows.
        llm = _token_priced(module) or provider in _GENAI_PRICES_PROVIDER
        if llm or ours_price_tokens:
            units = ["tokens", *(u for u in units if not u.endswith("_tokens"))]
        if llm and not ours_price_tokens:
            prices.append(genai_prices)
        result.append(
            {
                "provider": provider,
                "transports": ", ".join(getattr(module, "TRANSPORTS", ("https",))),
                "operations": ", ".join(_operations(module)) or "-",
                "units": ", ".join(units) or "-",
                "prices": "<br>".join(prices) or "no price",
                "sdk": _sdk(module, versions),
                "tests": str(len(marked)),
                "note": getattr(module, "COVERAGE_NOTE", "") or "",
                "test_ids": "\n".join(marked),
            }
        )
    return result


def _missing(provider: str, marked: list[str]) -> dict[str, str]:
    return {
        "provider": provider,
        "transports": "-",
        "operations": "-",
        "units": "-",
        "prices": "-",
        "sdk": "-",
        "tests": str(len(marked)),
        "note": "no provider module yet",
        "test_ids": "\n".join(marked),
    }


_COLUMNS = (
    ("provider", "Provider"),
    ("transports", "Transports"),
    ("operations", "Operations"),
    ("units", "Units (`llmobserve.usage.*`)"),
    ("prices", "Price source (date read)"),
    ("sdk", "SDK tested"),
    ("tests", "Tests"),
    ("note", "Note"),
)


def render(table: list[dict[str, str]]) -> str:
    """The Markdown document."""
    lines = [
        "# Provider coverage",
        "",
        "<!-- Generated by `python -m llmobserve_otel.providers._coverage`; do not edit by hand. -->",
        "",
        "Every provider the registry knows (`llmobserve_otel.providers.PROVIDERS`): the wire transports",
        "captured, the operations billed, the usage units recorded, where each price comes from (our",
        "data files in `pricing/data/`, each citing the provider's pricing page and the date it was read;",
        "LLM token prices from genai-prices), the SDK from PyPI the tests drive against a local server",
        "(version as installed when this file was generated), and the tests marked",
        '`@pytest.mark.provider("<id>")`. `llmobserve-otel prices PROVIDER` shows each price with its dates.',
        "",
        "| " + " | ".join(title for _, title in _COLUMNS) + " |",
        "|" + "|".join("---" for _ in _COLUMNS) + "|",
    ]
    for row in table:
        lines.append("| " + " | ".join(row[key].replace("|", "\\|") for key, _ in _COLUMNS) + " |")
    missing = [row["provider"] for row in table if row["tests"] == "0"]
    lines += [
        "",
        f"Providers without a marked test: {', '.join(missing) if missing else 'none'}.",
        "",
        "## Tests",
        "",
    ]
    for row in table:
        if row["test_ids"]:
            lines.append(f"### {row['provider']}")
            lines.append("")
            lines += [f"- `{test}`" for test in row["test_ids"].splitlines()]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def build(tests_dir: Path = TESTS, *, versions: bool = True) -> str:
    return render(rows(provider_tests(tests_dir), versions=versions))


def without_versions(text: str) -> str:
    """The document with SDK versions removed (they differ between environments)."""
    return _VERSION.sub("", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m llmobserve_otel.providers._coverage", description=__doc__
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file differs (SDK versions aside)"
    )
    parser.add_argument("--out", type=Path, default=DOC)
    parser.add_argument("--tests", type=Path, default=TESTS)
    args = parser.parse_args(argv)
    text = build(args.tests)
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if without_versions(current) != without_versions(text):
            print(
                f"{args.out} is out of date: run python -m llmobserve_otel.providers._coverage",
                file=sys.stderr,
            )
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
