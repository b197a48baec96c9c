"""The public surface is pinned: unlisted means private."""

import subprocess
import sys

import llmobserve_otel


def test_all_is_pinned():
    assert llmobserve_otel.__all__ == (
        "__version__",
        "current_customer_id",
        "current_section_path",
        "customer",
        "extract_context",
        "flush",
        "inject_context",
        "observe",
        "section",
        "set_customer_id",
        "shutdown",
    )


def test_import_loads_no_catalogue_and_no_exporter():
    code = (
        "import sys, llmobserve_otel\n"
        "bad = [m for m in ('genai_prices', 'genai_prices.data', 'opentelemetry.exporter.otlp.proto.http', "
        "'requests', 'socket') if m in sys.modules and m != 'socket']\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_observe_loads_no_catalogue_and_no_pricing_code():
    # The pricing core (and its catalogues) load at the first priced span, not at start-up.
    code = (
        "import os, sys\nos.environ['OTEL_TRACES_EXPORTER']='otlp'\n"
        "import openai, llmobserve_otel as lo\nlo.observe()\n"
        "print(*(m in sys.modules for m in ('genai_prices.data', 'opentelemetry.exporter.otlp.proto.http', "
        "'llmobserve_otel.pricing')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]
