"""Dashboard panel latency at 1M (and 10M) spans in the embedded store.

Fills a fresh chDB store exactly as `benchmarks/queries.py` does (provider-call spans through
`otel_traces` over 7 days, so the cost views and rollups fill as in production), then runs every
panel of every dashboard the way Grafana would: its SQL expanded by the plugin-macro expander over
the whole 7 days (2-hour buckets, what the collector's page picks), with every filter on "All",
again with one customer chosen, and over the last 24 hours only. Median of 5 runs after one warm-up.

    .venv/bin/python benchmarks/panels.py --spans 1000000
    .venv/bin/python benchmarks/panels.py --spans 10000000
    .venv/bin/python benchmarks/panels.py --spans 10000000 --store /tmp/panels-10m  # fill once, reuse

With `--store DIR` the store is kept: a later run with the same DIR skips the fill (the span count
must match) and only times the panels; `--rebuild` then refills the rollups from the cost table
first (after a schema change added one, since views only fill on insert).

Directional, not a CI threshold (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

from queries import HOUR, SPAN_DAYS, T0, fill, timed

from llmobserve_otel.dashboards import DASHBOARDS, QueryContext, panel_rows
from llmobserve_otel.store import open_store, rebuild_rollups

TARGET_MS = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--store", help="keep the store in this directory and reuse it when filled")
    parser.add_argument("--rebuild", action="store_true", help="refill the rollups of a reused store")
    args = parser.parse_args()

    root = args.store or tempfile.mkdtemp(prefix="llmobserve-panels-")
    reuse = args.store is not None and os.path.exists(os.path.join(root, "store"))
    client = open_store(f"chdb://{root}/store")
    try:
        if reuse:
            stored = client.query("SELECT count() FROM otel_traces").result_rows[0][0]
            if stored != args.spans:
                raise SystemExit(f"{root} holds {stored:,} spans, not {args.spans:,}")
            print(f"reusing {root}: {stored:,} spans")
            if args.rebuild:
                rebuild_rollups(client)
                client.command("OPTIMIZE TABLE llmobserve_costs_hourly FINAL")
                print("rollups rebuilt")
        else:
            seconds = fill(client, args.spans)
            print(f"filled {args.spans:,} spans in {seconds:.1f} s")
        trace = client.query(
            "SELECT trace_id FROM llmobserve_costs GROUP BY trace_id ORDER BY sum(cost_usd) DESC LIMIT 1"
        ).result_rows[0][0]
        window = (T0 // 1_000_000, (T0 + SPAN_DAYS * 24 * HOUR) // 1_000_000)
        all_filters = {"service": None, "customer": None, "provider": None, "model": None, "trace_id": trace}
        day = 24 * HOUR // 1_000_000
        interval = 2 * HOUR // 1_000_000
        contexts = {
            "7 days": QueryContext(*window, interval, all_filters),
            "7 days, one customer": QueryContext(
                *window, interval, {**all_filters, "customer": ["customer-007"]}
            ),
            "last 24 h": QueryContext(window[1] - day, window[1], HOUR // 1_000_000, all_filters),
        }
        print("load average before timing: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
        header = " | ".join(f"{name}, ms" for name in contexts)
        print(
            f"\n| dashboard / panel ({args.spans:,} spans) | {header} | rows (7 days) | <= {TARGET_MS} ms |"
        )
        print("|---|" + "---:|" * (len(contexts) + 1) + "---|")
        for board in DASHBOARDS:
            for panel in board.panels:
                times = []
                rows = 0
                for name, context in contexts.items():
                    ms, result = timed(lambda p=panel, c=context: panel_rows(client, p, c))
                    times.append(ms)
                    if name == "7 days":
                        rows = len(result[1])
                met = "yes" if max(times) <= TARGET_MS else "**no**"
                cells = " | ".join(f"{ms:.0f}" for ms in times)
                print(f"| {board.title} / {panel.title} | {cells} | {rows} | {met} |")
        print("load average after timing: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    finally:
        client.close()
        if args.store is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
