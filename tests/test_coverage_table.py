"""docs/coverage.md is what the generator builds from the registry, the price data and the tests.

Regenerate with `python -m llmobserve_otel.providers._coverage`. SDK versions are left out of the
comparison (they depend on the environment). `test_every_provider_has_a_marked_test` lists the
providers still without a `@pytest.mark.provider` test; it passes once every provider has one.
"""

from __future__ import annotations

import textwrap

from llmobserve_otel.providers import PROVIDERS
from llmobserve_otel.providers._coverage import DOC, TESTS, build, main, provider_tests, without_versions


def test_committed_coverage_doc_matches_the_generator():
    assert DOC.exists(), "run: python -m llmobserve_otel.providers._coverage"
    assert without_versions(DOC.read_text()) == without_versions(build()), (
        "docs/coverage.md is out of date: run python -m llmobserve_otel.providers._coverage"
    )


def test_every_provider_has_a_marked_test():
    tests = provider_tests(TESTS)
    assert [provider for provider in PROVIDERS if not tests.get(provider)] == []


def test_marks_are_found_on_functions_classes_and_modules(tmp_path):
    tests = tmp_path / "tests"
    (tests / "sub").mkdir(parents=True)
    (tests / "sub" / "test_a.py").write_text(
        textwrap.dedent(
            """
            import pytest
            from pytest import mark

            @pytest.mark.provider("stripe")
            def test_one(): ...

            @mark.provider("twilio")
            @pytest.mark.parametrize("x", [1])
            async def test_two(x): ...

            @pytest.mark.provider("stripe")
            def helper(): ...

            def test_unmarked(): ...

            @pytest.mark.provider("algolia")
            class TestSearch:
                def test_query(self): ...

                @pytest.mark.provider("sendgrid")
                def test_both(self): ...
            """
        )
    )
    (tests / "test_b.py").write_text(
        'import pytest\npytestmark = [pytest.mark.provider("paypal")]\ndef test_capture(): ...\n'
    )
    (tests / "test_broken.py").write_text("def test_(:\n")  # unparsable files are skipped
    assert provider_tests(tests) == {
        "paypal": ["tests/test_b.py::test_capture"],
        "stripe": ["tests/sub/test_a.py::test_one"],
        "twilio": ["tests/sub/test_a.py::test_two"],
        "algolia": [
            "tests/sub/test_a.py::TestSearch::test_query",
            "tests/sub/test_a.py::TestSearch::test_both",
        ],
        "sendgrid": ["tests/sub/test_a.py::TestSearch::test_both"],
    }


def test_table_rows_come_from_the_registry_and_price_data():
    lines = {line.split(" | ")[0].strip("| "): line for line in build().splitlines() if line.startswith("| ")}
    assert set(PROVIDERS) <= set(lines)
    stripe = lines["stripe"].split(" | ")
    assert stripe[1:6] == [
        "https",
        "payment",
        "amount_usd, requests",
        "https://stripe.com/pricing (read 2026-11-26)",
        stripe[5],
    ]
    assert stripe[5].startswith("`stripe==")
    assert lines["anthropic"].split(" | ")[3:5] == ["tokens", lines["anthropic"].split(" | ")[4]]
    assert lines["anthropic"].split(" | ")[4].startswith("genai-prices ")


def test_versions_are_ignored_and_check_mode(tmp_path):
    assert without_versions("| `stripe==16.1.0` | `x==not-installed` |") == "| `stripe` | `x` |"
    out = tmp_path / "coverage.md"
    assert main(["--out", str(out), "--check"]) == 1  # missing
    assert main(["--out", str(out)]) == 0
    assert main(["--out", str(out), "--check"]) == 0
    out.write_text(out.read_text().replace("`stripe==", "`stripe==0.0.1-other-env"))
    assert main(["--out", str(out), "--check"]) == 0  # only a version differs
    out.write_text(out.read_text().replace("| payment |", "| refund |"))
    assert main(["--out", str(out), "--check"]) == 1
