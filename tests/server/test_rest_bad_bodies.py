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


def _refused(reply: dict[str, object], *words: str) -> None:
    assert reply["code"] in (1100, 1801, 1802), reply
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
