"""llmobserve-otel: what every paid API call costs, per customer and agent / step / tool, on OpenTelemetry.

    import llmobserve_otel as lo

    lo.observe(service_name="support-bot")
    with lo.customer("acme"), lo.section("agent:research"):
        client.chat.completions.create(...)   # one span with usage and llmobserve.cost.usd

Importing this package loads neither the price catalogue nor an exporter, and touches no network.
"""

from __future__ import annotations

from llmobserve_otel._context import (
    current_customer_id,
    current_section_path,
    customer,
    extract_context,
    inject_context,
    section,
    set_customer_id,
)
from llmobserve_otel._observe import flush, observe, shutdown
from llmobserve_otel._version import __version__

__all__ = (
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
