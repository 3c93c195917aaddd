"""REST v2 data requests whose values have the wrong shape are refused with a
Milvus-style parameter error, never an internal one or a quiet wrong answer."""

from __future__ import annotations

import pytest
from conftest import ServerProcess
from test_rest import ok, post, vectors

DIM = 8


@pytest.fixture(scope="module")
def mixed(server: ServerProcess) -> str:
    """A collection with an Int64 key, one vector and one JSON field."""
    schema = {
        "autoId": False,
        "fields": [
            {"fieldName": "id", "dataType": "Int64", "isPrimary": True},
            {"fieldName": "vec", "dataType": "FloatVector", "elementTypeParams": {"dim": DIM}},
            {"fieldName": "meta", "dataType": "JSON"},
        ],
    }
    ok(
        server,
        "collections/create",
        {
            "collectionName": "bad_bodies",
            "schema": schema,
            "indexParams": [{"fieldName": "vec", "metricType": "L2", "indexName": "vec"}],
        },
    )
    rows = [{"id": i, "vec": v, "meta": {"k": i}} for i, v in enumerate(vectors(4, 3))]
    ok(server, "entities/insert", {"collectionName": "bad_bodies", "data": rows})
    return "bad_bodies"


def _refused(reply: dict[str, object], *words: str, code: int | None = None) -> None:
    assert reply["code"] in ((code,) if code else (1100, 1801, 1802)), reply
    for word in words:
        assert word in str(reply["message"]), reply


def test_get_with_a_nested_list_among_the_ids_is_refused(
    server: ServerProcess, mixed: str
) -> None:
    reply = post(server, "entities/get", {"collectionName": mixed, "id": [1, [2]]})
    _refused(reply, "id")


def test_get_with_text_that_is_not_a_number_on_an_int64_key_is_refused(
    server: ServerProcess, mixed: str
) -> None:
    reply = post(server, "entities/get", {"collectionName": mixed, "id": [1, "x"]})
    _refused(reply, "x")
    assert ok(server, "entities/get", {"collectionName": mixed, "id": [1, "2"]})


def test_hybrid_search_rerank_params_must_be_an_object(
    server: ServerProcess, mixed: str
) -> None:
    leg = {"data": vectors(1, 5), "annsField": "vec", "limit": 2}
    for params in ([1, 2], "k", 5):
        reply = post(
            server,
            "entities/hybrid_search",
            {
                "collectionName": mixed,
                "search": [leg],
                "rerank": {"strategy": "rrf", "params": params},
            },
        )
        _refused(reply, "params")


def test_search_on_a_field_that_is_not_a_vector_is_refused_naming_it(
    server: ServerProcess, mixed: str
) -> None:
    one = post(
        server,
        "entities/search",
        {"collectionName": mixed, "data": vectors(1, 5), "annsField": "meta", "limit": 2},
    )
    _refused(one, "meta", "cannot find a vector field", code=1700)
    hybrid = post(
        server,
        "entities/hybrid_search",
        {
            "collectionName": mixed,
            "search": [{"data": vectors(1, 5), "annsField": "meta", "limit": 2}],
            "rerank": {"strategy": "rrf", "params": {"k": 10}},
        },
    )
    _refused(hybrid, "meta", "cannot find a vector field", code=1700)
