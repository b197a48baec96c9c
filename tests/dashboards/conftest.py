"""One embedded store per test module, holding the known spans of `seed.py`.

chDB hosts one store directory per process at a time, so the fixture closes its client: the next
module opens another directory in the same process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from seed import seed

from llmobserve_otel.store import open_store


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return "chdb://" + str(tmp_path_factory.mktemp("dashboards") / "store")


@pytest.fixture(scope="module")
def store(store_url: str) -> Iterator[Any]:
    client = open_store(store_url)
    seed(client)
    yield client
    client.close()
