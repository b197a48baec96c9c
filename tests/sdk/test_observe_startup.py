"""observe() start-up: httpx (pulled in by the stock httpx instrumentation) is imported without its CLI."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"OTEL_TRACES_EXPORTER": "none", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_observe_imports_httpx_without_its_cli_and_the_cli_still_loads_on_call() -> None:
    out = _run(
        """
        import sys
        import httpx2
        import llmobserve_otel
        llmobserve_otel.observe()
        print("httpx" in sys.modules, "httpx._main" in sys.modules, "rich" in sys.modules)
        import httpx
        from httpx._main import main as cli  # still importable on demand
        print(httpx.main is not cli, "httpx._main" in sys.modules)
        """
    )
    assert out.splitlines() == ["True False False", "True True"]


def test_httpx_imported_by_the_app_first_is_left_alone() -> None:
    out = _run(
        """
        import sys
        import httpx
        before = httpx.main
        import llmobserve_otel
        llmobserve_otel.observe()
        print(httpx.main is before)
        """
    )
    assert out == "True"
