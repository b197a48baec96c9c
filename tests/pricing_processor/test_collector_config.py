"""collector-config/: the rotel configurations run as shipped (start-rotel.sh + .env), the otelcol one parsed.

Price (genai-prices, OpenAI's pricing page): gpt-4o $2.50 per million input tokens, $10 per million
output tokens; 1000 input + 100 output = 1000*2.50/1e6 + 100*10/1e6 = $0.0035.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("rotel", reason="the rotel extra (Linux, Python 3.11) is not installed")

import yaml
from rotel_harness import (
    ROOT,
    ClickHouseShim,
    LocalCollector,
    export,
    free_port,
    report,
    require_rotel,
    rotel_env,
    wait_port,
)
from span_factory import make_request, make_span

from llmobserve_otel import semconv as sc
from llmobserve_otel.pricing import TOKEN_COUNT_ATTRIBUTES
from llmobserve_otel.store import open_store
from llmobserve_otel.store._schema import TRACES_INSERT_COLUMNS, TRACES_TABLE

require_rotel()

CONFIG = ROOT / "collector-config"
START = CONFIG / "rotel" / "start-rotel.sh"
CALL = {
    sc.GEN_AI_PROVIDER_NAME: "openai",
    sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
    sc.GEN_AI_USAGE_INPUT_TOKENS: 1000,
    sc.GEN_AI_USAGE_OUTPUT_TOKENS: 100,
    sc.CUSTOMER_ID: "acme",
}
CALL_COST = 1000 * 2.50 / 1e6 + 100 * 10 / 1e6  # 0.0035


def _env_file(name: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (CONFIG / "rotel" / name).read_text().splitlines())
    return {key: value for key, value in (p for p in pairs if len(p) == 2) if not key.startswith("#")}


@contextmanager
def _start_rotel(workdir: Path, variant: str, overrides: Mapping[str, str]) -> Iterator[str]:
    """`start-rotel.sh VARIANT` on free ports (the .env file gives everything else); its OTLP URL."""
    http_port, grpc_port = free_port(), free_port()
    env = rotel_env(
        venv=None,  # the script derives VIRTUAL_ENV from $PYTHON, as a user's shell would
        PYTHON=sys.executable,
        ROTEL_OTLP_HTTP_ENDPOINT=f"127.0.0.1:{http_port}",
        ROTEL_OTLP_GRPC_ENDPOINT=f"127.0.0.1:{grpc_port}",
        **overrides,
    )
    log = workdir / f"rotel-{variant}.out"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                "bash",
                str(START),
                variant,
                "--pid-file",
                str(workdir / "rotel.pid"),
                "--log-file",
                str(workdir / "r.log"),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                wait_port(http_port, process)
            except Exception as exc:
                raise AssertionError(log.read_text()) from exc
            yield f"http://127.0.0.1:{http_port}"
            assert process.poll() is None, log.read_text()
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_rotel_to_local_collector(tmp_path: Path) -> None:
    # Pricing off through the environment (the e2e test uses --no-pricing): rotel's cost is the only one.
    collector = LocalCollector.start(tmp_path, env={"LLMOBSERVE_COLLECTOR_PRICING": "0"})
    try:
        with _start_rotel(
            tmp_path, "local-collector", {"ROTEL_OTLP_EXPORTER_ENDPOINT": collector.url}
        ) as rotel:
            export(rotel, make_request(make_span(1, CALL)))
            collector.wait_idle(1)
        rows = report("--by", "customer", "--since", "2025-01-01", collector_url=collector.url)
    finally:
        stderr = collector.stop()
    assert "pricing off" in stderr
    assert [(r["key"], r["calls"]) for r in rows] == [("acme", 1)]
    assert rows[0]["cost_usd"] == pytest.approx(CALL_COST, abs=1e-12)


def test_rotel_to_clickhouse(tmp_path: Path) -> None:
    store = tmp_path / "store"
    client = open_store(f"chdb://{store}", create=True, schema=True)
    try:
        with ClickHouseShim(client, tmp_path) as clickhouse:
            # The shim reads plain RowBinary: the .env's lz4 is ClickHouse's own block framing.
            overrides = {
                "ROTEL_CLICKHOUSE_EXPORTER_ENDPOINT": clickhouse.url,
                "ROTEL_CLICKHOUSE_EXPORTER_COMPRESSION": "none",
            }
            with _start_rotel(tmp_path, "clickhouse", overrides) as rotel:
                export(rotel, make_request(make_span(1, CALL), service="billing"))
                deadline = time.monotonic() + 20
                while not clickhouse.inserts and not clickhouse.errors:
                    assert time.monotonic() < deadline, "rotel sent no insert"
                    time.sleep(0.05)
        assert clickhouse.errors == []
        [insert] = clickhouse.inserts
        assert (
            insert["params"]["database"] == _env_file("clickhouse.env")["ROTEL_CLICKHOUSE_EXPORTER_DATABASE"]
        )
        assert insert["table"] == TRACES_TABLE
        assert tuple(insert["columns"]) == TRACES_INSERT_COLUMNS
    finally:
        client.close()
    # What rotel wrote, through our cost views, as the report reads it.
    rows = report("--by", "customer", "--since", "2025-01-01", "--clickhouse-url", f"chdb://{store}")
    assert [(r["key"], r["calls"], r["input_tokens"], r["output_tokens"]) for r in rows] == [
        ("acme", 1, 1000, 100)
    ]
    assert rows[0]["cost_usd"] == pytest.approx(CALL_COST, abs=1e-12)


def test_start_script_refuses_an_unknown_variant(tmp_path: Path) -> None:
    out = subprocess.run(["bash", str(START), "kafka"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "no such variant: kafka" in out.stderr


def test_otelcol_contrib_config_matches_the_store() -> None:
    config = yaml.safe_load((CONFIG / "otelcol-contrib" / "config.yaml").read_text())
    clickhouse = config["exporters"]["clickhouse"]
    assert clickhouse["traces_table_name"] == TRACES_TABLE
    assert clickhouse["create_schema"] is False  # our DDL creates it, with the cost views
    assert clickhouse["database"] == _env_file("clickhouse.env")["ROTEL_CLICKHOUSE_EXPORTER_DATABASE"]

    [route] = config["connectors"]["routing/pricing"]["table"]
    assert route["context"] == "span"
    condition = route["condition"]
    assert f'attributes["{sc.COST_USD}"] == nil' in condition
    assert f'attributes["{sc.COST_STATUS}"] != "{sc.STATUS_DUPLICATE}"' in condition
    for attribute in (sc.PROVIDER, *TOKEN_COUNT_ATTRIBUTES):
        assert f'attributes["{attribute}"] != nil' in condition

    pipelines = config["service"]["pipelines"]
    assert pipelines["traces/in"]["exporters"] == ["routing/pricing"]
    assert route["pipelines"] == ["traces/pricing"]
    assert config["connectors"]["routing/pricing"]["default_pipelines"] == ["traces/store"]
    assert pipelines["traces/pricing"]["exporters"] == ["otlphttp/rotel"]
    assert pipelines["traces/store"]["exporters"] == ["clickhouse"]
    # Every component a pipeline names is defined.
    defined = {
        kind: set(config.get(kind, {})) for kind in ("receivers", "processors", "exporters", "connectors")
    }
    for pipeline in pipelines.values():
        for kind in ("receivers", "processors", "exporters"):
            for name in pipeline.get(kind, []):
                assert name in defined[kind] | defined["connectors"], (kind, name)
