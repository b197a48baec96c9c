"""A throwaway embedded store per test module.

chDB hosts one store directory per process at a time, so every fixture here closes its client:
the next module (or the next test's CLI run) opens another directory in the same process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from llmobserve_otel.store import open_store


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return "chdb://" + str(tmp_path_factory.mktemp("store") / "store")


@pytest.fixture(scope="module")
def store(store_url: str) -> Iterator[Any]:
    client = open_store(store_url)
    yield client
    client.close()
