"""A collector with a token: the page loads without it, its data only with it (own module: one chDB store per process)."""

from __future__ import annotations

from pathlib import Path

from seed import FROM_MS, TO_MS
from test_page import get, serve

RANGE = f"from={FROM_MS}&to={TO_MS}"


def test_token_guards_the_data_not_the_page(tmp_path: Path) -> None:
    served = serve(tmp_path, token="s3cret")
    url, _ = next(served)
    try:
        assert get(url + "/")[0] == 200
        assert get(f"{url}/static/page.js")[0] == 200
        assert get(f"{url}/api/v1/panels/llmobserve-cost-overview/calls?{RANGE}")[0] == 401
        assert get(f"{url}/api/v1/dashboards", token="wrong")[0] == 401
        status, body = get(f"{url}/api/v1/panels/llmobserve-cost-overview/calls?{RANGE}", token="s3cret")
        assert (status, body["rows"]) == (200, [[9]])
    finally:
        served.close()
