"""`llmobserve-otel collector` refusals and `llmobserve-otel schema` output."""

from __future__ import annotations

import pytest

from llmobserve_otel._internal.serving import is_loopback
from llmobserve_otel.cli import main


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_non_loopback_needs_a_token(
    host: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LLMOBSERVE_COLLECTOR_TOKEN", raising=False)
    assert main(["collector", "--host", host]) == 1
    err = capsys.readouterr().err
    assert f"refusing to listen on {host} without a token: set LLMOBSERVE_COLLECTOR_TOKEN" in err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True), ("0.0.0.0", False)],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_unusable_store_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collector", "--clickhouse-url", "postgres://db"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("llmobserve-otel collector: unsupported store URL 'postgres://db'")
    assert err.count("\n") == 1


def test_schema_prints_idempotent_ddl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    statements = [s for s in out.split(";\n\n")]
    assert out.endswith(";\n")
    assert statements[0] == "CREATE DATABASE IF NOT EXISTS `default`"
    assert statements[1].startswith("CREATE TABLE IF NOT EXISTS `default`.`otel_traces` (")
    # + run hours (3 retired views dropped, the touched-groups table and view, 2 tables, 2 refreshable
    # views), trace keys (table, view)
    assert len(statements) == 23


def test_schema_for_a_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--cluster", "prod", "--database", "otel", "--ttl-days", "90"]) == 0
    out = capsys.readouterr().out
    assert "CREATE TABLE IF NOT EXISTS `otel`.`otel_traces_local` ON CLUSTER `prod`" in out
    assert "ENGINE = Distributed('prod', 'otel', 'otel_traces_local', cityHash64(TraceId))" in out
    assert "TTL toDateTime(Timestamp) + toIntervalDay(90)" in out
    # nine replicated locals, nine distributed, and the shard-local record of touched run-hour groups
    assert out.count("CREATE TABLE") == 19
