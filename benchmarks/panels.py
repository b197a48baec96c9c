"""Dashboard panel latency at 1M (and 10M) spans in the embedded store.

Fills a fresh chDB store exactly as `benchmarks/queries.py` does (provider-call spans through
`otel_traces` over 7 days, so the cost views and rollups fill as in production), then runs every
panel of every dashboard the way Grafana would: its SQL expanded by the plugin-macro expander over
the whole 7 days (2-hour buckets, what the collector's page picks), with every filter on "All",
and again with one customer chosen. Median of 5 runs after one warm-up.

    .venv/bin/python benchmarks/panels.py --spans 1000000
    .venv/bin/python benchmarks/panels.py --spans 10000000

Directional, not a CI threshold (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile

from queries import HOUR, SPAN_DAYS, T0, fill, timed

from llmobserve_otel.dashboards import DASHBOARDS, QueryContext, panel_rows
from llmobserve_otel.store import open_store

TARGET_MS = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="llmobserve-panels-")
    client = open_store(f"chdb://{root}/store")
    try:
        seconds = fill(client, args.spans)
        print(f"filled {args.spans:,} spans in {seconds:.1f} s")
        trace = client.query(
            "SELECT trace_id FROM llmobserve_costs GROUP BY trace_id ORDER BY sum(cost_usd) DESC LIMIT 1"
        ).result_rows[0][0]
        window = (T0 // 1_000_000, (T0 + SPAN_DAYS * 24 * HOUR) // 1_000_000)
        all_filters = {"service": None, "customer": None, "provider": None, "model": None, "trace_id": trace}
        contexts = {
            "all": QueryContext(*window, 2 * HOUR // 1_000_000, all_filters),
            "customer-007": QueryContext(
                *window, 2 * HOUR // 1_000_000, {**all_filters, "customer": ["customer-007"]}
            ),
        }
        print(
            f"\n| dashboard / panel ({args.spans:,} spans) | All, ms | one customer, ms | rows | <= {TARGET_MS} ms |"
        )
        print("|---|---:|---:|---:|---|")
        for board in DASHBOARDS:
            for panel in board.panels:
                times = {}
                rows = 0
                for name, context in contexts.items():
                    ms, result = timed(lambda p=panel, c=context: panel_rows(client, p, c))
                    times[name] = ms
                    if name == "all":
                        rows = len(result[1])
                met = "yes" if max(times.values()) <= TARGET_MS else "**no**"
                print(
                    f"| {board.title} / {panel.title} | {times['all']:.0f} | {times['customer-007']:.0f} | {rows} | {met} |"
                )
    finally:
        client.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
