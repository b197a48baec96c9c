"""Post-import hooks (what observe() defers instrumenting a library to), on real modules on disk."""

from __future__ import annotations

import importlib
import importlib.resources
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from llmobserve_otel._internal.import_hooks import when_imported


@pytest.fixture
def package(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh package `<name>` with a submodule `sub`, importable from tmp_path."""
    name = f"hooked_{request.node.name.replace('-', '_')}"[:60]
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("VALUE = 'package body ran'\n")
    (root / "sub.py").write_text("VALUE = 'submodule body ran'\n")
    (root / "data.txt").write_text("resource\n")
    sys.path.insert(0, str(tmp_path))
    yield name
    sys.path.remove(str(tmp_path))
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def test_a_hook_runs_after_the_module_body_with_its_own_loader_back(package: str) -> None:
    seen: list[tuple[str, str]] = []
    when_imported(package, lambda module: seen.append((module.__name__, module.VALUE)))
    assert seen == []  # not imported yet
    module = importlib.import_module(package)
    assert seen == [(package, "package body ran")]
    assert type(module.__loader__).__name__ == "SourceFileLoader"
    assert module.__spec__ is not None and module.__spec__.loader is module.__loader__
    assert importlib.resources.files(package).joinpath("data.txt").read_text() == "resource\n"
    importlib.reload(module)  # the original loader reloads it; the hook ran once
    assert seen == [(package, "package body ran")]


def test_a_submodule_hook_runs_when_the_submodule_is_imported(package: str) -> None:
    seen: list[str] = []
    when_imported(f"{package}.sub", lambda module: seen.append(module.VALUE))
    importlib.import_module(package)
    assert seen == []
    importlib.import_module(f"{package}.sub")
    assert seen == ["submodule body ran"]


def test_a_hook_on_an_imported_module_runs_at_once(package: str) -> None:
    module = importlib.import_module(package)
    seen: list[ModuleType] = []
    when_imported(package, seen.append)
    assert seen == [module]


def test_a_failing_hook_does_not_fail_the_import(package: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMOBSERVE_RAISE_INTERNAL_ERRORS", "0")  # as in an app: log, do not raise

    def broken(module: ModuleType) -> None:
        raise RuntimeError("hook bug")

    seen: list[str] = []
    when_imported(package, broken)
    when_imported(package, lambda module: seen.append(module.__name__))
    assert importlib.import_module(package).VALUE == "package body ran"
    assert seen == [package]  # the hooks after the broken one still ran


def test_observe_imports_no_wrapt_and_instruments_openai_imported_after_it() -> None:
    code = textwrap.dedent(
        """
        import sys
        import llmobserve_otel
        llmobserve_otel.observe()
        print("wrapt" in sys.modules, "asyncio" in sys.modules, "importlib.metadata" in sys.modules)
        import openai
        from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor
        from llmobserve_otel.capture import _capture
        print(_capture("httpx2").instrumented, HTTPX2ClientInstrumentor().is_instrumented_by_opentelemetry)
        """
    )
    env = {"OTEL_TRACES_EXPORTER": "none", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["False", "False", "False", "True", "True"]


def test_a_hooked_module_that_is_missing_fails_as_without_hooks() -> None:
    when_imported("no_such_module_for_hooks", lambda module: None)
    with pytest.raises(ModuleNotFoundError, match="no_such_module_for_hooks"):
        importlib.import_module("no_such_module_for_hooks")
