"""Algolia search and indexing through the real `algoliasearch` v4 sync client (on `requests`) against a local server.

Price (https://www.algolia.com/pricing/, Grow plan): $0.50 per 1,000 search requests and $0.40 per
1,000 records; a record written is priced as one record-month (providers/algolia.py). Shapes:
https://www.algolia.com/doc/rest-api/search/ (search: `results[]`; batch: `taskID`, `objectIDs`).
"""

from __future__ import annotations

import pytest
from algoliasearch.http.exceptions import RequestException
from algoliasearch.http.hosts import Host, HostsCollection
from algoliasearch.search.client import SearchClientSync
from algoliasearch.search.config import SearchConfig
from wire import On, Reply, WireServer, map_host

PER_SEARCH = 0.50 / 1000
PER_RECORD = 0.40 / 1000


def result(query: str) -> dict:
    return {
        "hits": [{"objectID": "1", "name": "Apple iPhone", "_highlightResult": {}}],
        "nbHits": 1,
        "page": 0,
        "nbPages": 1,
        "hitsPerPage": 20,
        "exhaustiveNbHits": True,
        "query": query,
        "params": f"query={query}",
        "processingTimeMS": 1,
    }


def _client(server: WireServer) -> SearchClientSync:
    map_host(server, "algolia")
    config = SearchConfig("LATENCY", "dummy-admin-api-key")
    config.hosts = HostsCollection([Host(url="127.0.0.1", scheme="http", port=server.port)])
    return SearchClientSync.create_with_config(config)


@pytest.mark.provider("algolia")
def test_multi_query_counts_one_search_request_per_query(spans):
    answer = On(
        "POST",
        r"/1/indexes/\*/queries",
        lambda r: Reply.json({"results": [result(q["query"]) for q in r.json()["requests"]]}),
    )
    with WireServer([answer]) as server:
        response = _client(server).search(
            {"requests": [{"indexName": "products", "query": q} for q in ("apple", "pear", "plum")]}
        )
    assert [r.actual_instance.query for r in response.results] == ["apple", "pear", "plum"]
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "algolia"
    assert attrs["llmobserve.operation"] == "search"
    assert attrs["llmobserve.usage.search_requests"] == 3
    # 3 search requests x $0.50 / 1,000 = $0.0015
    assert attrs["llmobserve.cost.usd"] == pytest.approx(3 * PER_SEARCH, abs=1e-12)
    assert "dummy-admin-api-key" not in repr(attrs)


@pytest.mark.provider("algolia")
def test_single_index_search_is_one_request(spans):
    with WireServer(
        [On("POST", r"/1/indexes/products/query", lambda r: Reply.json(result("apple")))]
    ) as server:
        response = _client(server).search_single_index("products", {"query": "apple"})
    assert response.nb_hits == 1
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.search_requests"] == 1
    assert attrs["llmobserve.cost.usd"] == pytest.approx(PER_SEARCH, abs=1e-12)  # $0.0005


@pytest.mark.provider("algolia")
def test_save_objects_batch_counts_records_written(spans):
    answer = On(
        "POST",
        r"/1/indexes/products/batch",
        lambda r: Reply.json({"taskID": 1514562690001, "objectIDs": ["1", "2", "3"]}),
    )
    with WireServer([answer]) as server:
        responses = _client(server).save_objects(
            "products", [{"objectID": str(i), "name": f"item {i}"} for i in (1, 2, 3)]
        )
        actions = [r["action"] for r in server.requests[0].json()["requests"]]
    assert actions == ["addObject"] * 3
    assert responses[0].task_id == 1514562690001
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "index"
    assert attrs["llmobserve.usage.records"] == 3
    # 3 records x $0.40 / 1,000 = $0.0012
    assert attrs["llmobserve.cost.usd"] == pytest.approx(3 * PER_RECORD, abs=1e-12)


@pytest.mark.provider("algolia")
def test_deletes_in_a_batch_store_no_records(spans):
    answer = On(
        "POST", r"/1/indexes/products/batch", lambda r: Reply.json({"taskID": 7, "objectIDs": ["1", "2"]})
    )
    with WireServer([answer]) as server:
        _client(server).delete_objects("products", ["1", "2"])
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.records"] == 0
    assert attrs["llmobserve.cost.usd"] == 0.0


@pytest.mark.provider("algolia")
def test_refused_search_is_not_billed_and_app_sees_the_error(spans):
    refuse = On(
        "POST",
        r"/1/indexes/products/query",
        lambda r: Reply.json({"message": "Invalid Application-ID or API key", "status": 403}, 403),
    )
    with WireServer([refuse]) as server, pytest.raises(RequestException) as raised:
        _client(server).search_single_index("products", {"query": "apple"})
    assert raised.value.status_code == 403
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 403
    assert "llmobserve.usage.search_requests" not in attrs
    assert "llmobserve.cost.usd" not in attrs
    assert spans.provider_calls()[0].status.status_code.name == "ERROR"


def test_application_hosts_belong_to_algolia():
    from llmobserve_otel.providers import Registry

    registry = Registry()
    for host in ("LATENCY-dsn.algolia.net", "latency.algolia.net", "LATENCY-2.algolianet.com"):
        assert registry.lookup(host).NAME == "algolia"
    assert registry.lookup("insights.algolia.io") is None


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("POST", "/1/indexes/*/queries", "search"),
        ("POST", "/1/indexes/products/query", "search"),
        ("POST", "/1/indexes/products/browse", "search"),
        ("POST", "/1/indexes/products/batch", "index"),
        ("POST", "/1/indexes/*/batch", "index"),
        ("POST", "/1/indexes/products", "index"),
        ("PUT", "/1/indexes/products/sku-1", "index"),
        ("POST", "/1/indexes/products/sku-1/partial", "index"),
        ("PUT", "/1/indexes/products/settings", None),
        ("PUT", "/1/indexes/products/synonyms/syn-1", None),
        ("POST", "/1/indexes/products/clear", None),
        ("POST", "/1/indexes/*/objects", None),
        ("GET", "/1/indexes/products/sku-1", None),
        ("GET", "/1/indexes", None),
    ],
)
def test_billable_routes(method, path, operation):
    from llmobserve_otel.providers import algolia

    route = algolia.match(method, path)
    assert (route.operation if route else None) == operation
