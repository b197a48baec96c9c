"""Opening stores: URL forms, a missing store, a store another process holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmobserve_otel.store import (
    StoreLockedError,
    StoreMissingError,
    open_store,
    parse_url,
    resolve_url,
)


def test_parse_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = parse_url("chdb://./.llmobserve/store")
    assert (relative.embedded, relative.path, relative.database) == (
        True,
        os.path.realpath(tmp_path / ".llmobserve" / "store"),
        "default",
    )
    assert parse_url("chdb:///var/lib/x").path == "/var/lib/x"
    server = parse_url("https://bob:secret@ch.internal:8443/telemetry")
    assert (server.embedded, server.database, server.display) == (
        False,
        "telemetry",
        "https://bob@ch.internal:8443/telemetry",
    )
    assert parse_url("http://localhost:8123").database == "default"
    with pytest.raises(ValueError, match="in-memory"):
        parse_url("chdb://:memory:")
    with pytest.raises(ValueError, match="unsupported store URL"):
        parse_url("postgres://x")


def test_resolve_url_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMOBSERVE_CLICKHOUSE_URL", raising=False)
    assert resolve_url() == "chdb://./.llmobserve/store"
    monkeypatch.setenv("LLMOBSERVE_CLICKHOUSE_URL", "chdb:///env")
    assert resolve_url() == "chdb:///env"
    assert resolve_url("chdb:///arg") == "chdb:///arg"


def test_missing_store_is_not_created_for_readers(tmp_path: Path) -> None:
    with pytest.raises(StoreMissingError, match=r"no store at .*start `llmobserve-otel collector` first"):
        open_store(f"chdb://{tmp_path}/nothing", create=False)
    assert not (tmp_path / "nothing").exists()


def test_store_held_by_another_process_is_reported_as_locked(tmp_path: Path, store_held_open) -> None:
    store = tmp_path / "store"
    with (
        store_held_open(f"chdb://{store}", create=True),
        pytest.raises(StoreLockedError, match="in use by another process"),
    ):
        open_store(f"chdb://{store}", create=False)
    # Once the holder is gone the store opens (and is closed again for the next test).
    open_store(f"chdb://{store}", create=False).close()
