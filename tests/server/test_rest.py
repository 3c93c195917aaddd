"""Milvus's RESTful API v2 on the HTTP port of a real ``elanus serve``."""

from __future__ import annotations

import base64
import json
import urllib.request
from typing import Any

import numpy as np
import pytest
from conftest import ServerProcess

DIM = 8


def post(
    server: ServerProcess, path: str, body: Any, *, int64_numbers: bool = True
) -> dict[str, Any]:
    """POST a body; by default with ``Accept-Type-Allow-Int64: true``, as Milvus's
    REST suite and SDKs send it, so 64-bit integers come back as JSON numbers."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if int64_numbers:
        headers["Accept-Type-Allow-Int64"] = "true"
    request = urllib.request.Request(
        f"{server.http_url}/v2/vectordb/{path}", data=raw, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status == 200  # errors too are HTTP 200, as Milvus answers
        result: dict[str, Any] = json.loads(reply.read())
    return result


def ok(server: ServerProcess, path: str, body: Any) -> Any:
    reply = post(server, path, body)
    assert reply["code"] == 0, reply
    return reply["data"]


def vectors(n: int, seed: int) -> list[list[float]]:
    return np.random.default_rng(seed).random((n, DIM), dtype=np.float32).tolist()


@pytest.fixture(scope="module")
def quick(server: ServerProcess) -> str:
    """A quick-setup collection with 20 rows and a dynamic key."""
    ok(server, "collections/create", {"collectionName": "rest_quick", "dimension": DIM})
    rows = [
        {"id": i, "vector": v, "color": "red" if i % 2 else "blue"}
        for i, v in enumerate(vectors(20, 1))
    ]
    data = ok(server, "entities/insert", {"collectionName": "rest_quick", "data": rows})
    assert data == {"insertCount": 20, "insertIds": list(range(20))}
    return "rest_quick"


def test_quick_setup_collection_is_described_indexed_and_loaded(
    server: ServerProcess, quick: str
) -> None:
    assert quick in ok(server, "collections/list", {})
    assert ok(server, "collections/has", {"collectionName": quick}) == {"has": True}
    assert ok(server, "collections/has", {"collectionName": "rest_nope"}) == {"has": False}
    info = ok(server, "collections/describe", {"collectionName": quick})
    assert info["collectionName"] == quick
    assert info["enableDynamicField"] is True
    fields = {f["name"]: f for f in info["fields"]}
    assert fields["id"]["type"] == "Int64" and fields["id"]["primaryKey"] is True
    assert fields["vector"]["type"] == "FloatVector"
    assert {"key": "dim", "value": str(DIM)} in fields["vector"]["params"]
    assert info["indexes"] == [
        {"fieldName": "vector", "indexName": "vector", "metricType": "COSINE"}
    ]
    assert info["load"] == "LoadStateLoaded"
    state = ok(server, "collections/get_load_state", {"collectionName": quick})
    assert state["loadState"] == "LoadStateLoaded"
    assert ok(server, "collections/get_stats", {"collectionName": quick}) == {"rowCount": 20}


def test_query_get_and_search_return_flat_rows(server: ServerProcess, quick: str) -> None:
    rows = ok(
        server,
        "entities/query",
        {"collectionName": quick, "filter": "id < 4", "outputFields": ["id", "color"]},
    )
    assert sorted(rows, key=lambda r: r["id"]) == [
        {"id": 0, "color": "blue"},
        {"id": 1, "color": "red"},
        {"id": 2, "color": "blue"},
        {"id": 3, "color": "red"},
    ]
    got = ok(server, "entities/get", {"collectionName": quick, "id": [5], "outputFields": ["*"]})
    assert got[0]["id"] == 5 and got[0]["color"] == "red" and len(got[0]["vector"]) == DIM
    query = vectors(20, 1)[3]
    hits = ok(
        server,
        "entities/search",
        {
            "collectionName": quick,
            "data": [query],
            "annsField": "vector",
            "limit": 3,
            "filter": 'color == "red"',
            "outputFields": ["color"],
            "searchParams": {"metricType": "COSINE", "params": {}},
        },
    )
    assert len(hits) == 3 and hits[0]["id"] == 3
    assert all(h["color"] == "red" and "distance" in h for h in hits)
    assert hits[0]["distance"] == pytest.approx(1.0, abs=1e-5)
    paged = ok(
        server,
        "entities/search",
        {"collectionName": quick, "data": [query], "limit": 2, "offset": 1},
    )
    unpaged = ok(server, "entities/search", {"collectionName": quick, "data": [query], "limit": 3})
    assert [h["id"] for h in paged] == [h["id"] for h in unpaged[1:]]
    two = ok(
        server, "entities/search", {"collectionName": quick, "data": [query, query], "limit": 2}
    )
    # Milvus answers several queries with one flat list (and ``topks`` beside it).
    assert len(two) == 4 and [h["id"] for h in two[:2]] == [h["id"] for h in two[2:]]


def test_errors_are_milvus_codes_with_http_200(server: ServerProcess) -> None:
    missing = post(server, "collections/describe", {"collectionName": "rest_missing"})
    assert missing["code"] == 100 and "rest_missing" in missing["message"]
    assert post(server, "collections/describe", {})["code"] == 1802
    assert post(server, "collections/describe", b"{not json")["code"] == 1801
    bad_name = post(server, "collections/has", {"collectionName": "1bad"})
    assert bad_name["code"] == 1100
    bad_filter = post(
        server, "entities/query", {"collectionName": "rest_missing", "filter": "id >"}
    )
    assert bad_filter["code"] != 0 and bad_filter["message"]


def test_schema_collection_with_partitions_aliases_and_indexes(server: ServerProcess) -> None:
    name = "rest_schema"
    schema = {
        "autoId": False,
        "enableDynamicField": False,
        "fields": [
            {"fieldName": "pk", "dataType": "VarChar", "isPrimary": True,
             "elementTypeParams": {"max_length": 16}},
            {"fieldName": "year", "dataType": "Int32"},
            {"fieldName": "tags", "dataType": "Array", "elementDataType": "VarChar",
             "elementTypeParams": {"max_capacity": 4, "max_length": 8}},
            {"fieldName": "emb", "dataType": "FloatVector", "elementTypeParams": {"dim": DIM}},
        ],
    }  # fmt: skip
    index = [{"fieldName": "emb", "indexName": "emb_idx", "metricType": "L2", "indexType": "FLAT"}]
    ok(
        server,
        "collections/create",
        {"collectionName": name, "schema": schema, "indexParams": index},
    )
    fields = {
        f["name"]: f for f in ok(server, "collections/describe", {"collectionName": name})["fields"]
    }
    assert fields["pk"]["type"] == "VarChar" and fields["tags"]["elementType"] == "VarChar"
    ok(server, "partitions/create", {"collectionName": name, "partitionName": "p1"})
    assert ok(server, "partitions/list", {"collectionName": name}) == ["_default", "p1"]
    assert ok(server, "partitions/has", {"collectionName": name, "partitionName": "p1"}) == {
        "has": True
    }
    rows = [
        {"pk": f"k{i}", "year": 2000 + i, "tags": ["a"], "emb": v}
        for i, v in enumerate(vectors(5, 2))
    ]
    ok(server, "entities/insert", {"collectionName": name, "data": rows, "partitionName": "p1"})
    stats = ok(server, "partitions/get_stats", {"collectionName": name, "partitionName": "p1"})
    assert stats == {"rowCount": 5}
    ok(server, "entities/upsert", {"collectionName": name, "data": [{**rows[0], "year": 1999}]})
    got = ok(server, "entities/get", {"collectionName": name, "id": "k0", "outputFields": ["year"]})
    assert got == [{"pk": "k0", "year": 1999}]
    deleted = ok(
        server, "entities/delete", {"collectionName": name, "filter": 'pk in ["k1", "k2"]'}
    )
    assert deleted == {"deleteCount": 2}
    # As Milvus counts: every row written (5 inserted + 1 upserted) until compaction
    # drops the deleted and replaced ones (then 3).
    assert ok(server, "collections/get_stats", {"collectionName": name})["rowCount"] in (3, 6)

    ok(server, "aliases/create", {"collectionName": name, "aliasName": "rest_alias"})
    assert ok(server, "aliases/describe", {"aliasName": "rest_alias"})["collectionName"] == name
    assert ok(server, "aliases/list", {"collectionName": name}) == ["rest_alias"]
    assert ok(server, "entities/query", {"collectionName": "rest_alias", "filter": "year > 2002"})
    ok(server, "aliases/drop", {"aliasName": "rest_alias"})

    assert ok(server, "indexes/list", {"collectionName": name}) == ["emb_idx"]
    described = ok(server, "indexes/describe", {"collectionName": name, "indexName": "emb_idx"})
    assert described[0]["indexType"] == "FLAT" and described[0]["metricType"] == "L2"
    ok(server, "collections/release", {"collectionName": name})
    state = ok(server, "collections/get_load_state", {"collectionName": name})
    assert state["loadState"] == "LoadStateNotLoad"
    ok(server, "indexes/drop", {"collectionName": name, "indexName": "emb_idx"})
    assert ok(server, "indexes/list", {"collectionName": name}) == []
    ok(server, "collections/rename", {"collectionName": name, "newCollectionName": "rest_renamed"})
    ok(server, "collections/drop", {"collectionName": "rest_renamed"})
    assert ok(server, "collections/has", {"collectionName": "rest_renamed"}) == {"has": False}


def test_databases_and_db_name(server: ServerProcess) -> None:
    ok(server, "databases/create", {"dbName": "rest_db"})
    assert "rest_db" in ok(server, "databases/list", {})
    assert ok(server, "databases/describe", {"dbName": "rest_db"})["dbName"] == "rest_db"
    ok(
        server,
        "collections/create",
        {"dbName": "rest_db", "collectionName": "inner", "dimension": 4},
    )
    assert ok(server, "collections/list", {"dbName": "rest_db"}) == ["inner"]
    assert "inner" not in ok(server, "collections/list", {})
    ok(server, "collections/drop", {"dbName": "rest_db", "collectionName": "inner"})
    ok(server, "databases/drop", {"dbName": "rest_db"})
    assert "rest_db" not in ok(server, "databases/list", {})


def test_hybrid_search_reranks_with_rrf_and_weighted(server: ServerProcess) -> None:
    name = "rest_hybrid"
    schema = {
        "fields": [
            {"fieldName": "id", "dataType": "Int64", "isPrimary": True},
            {"fieldName": "a", "dataType": "FloatVector", "elementTypeParams": {"dim": DIM}},
            {"fieldName": "b", "dataType": "FloatVector", "elementTypeParams": {"dim": DIM}},
        ]
    }
    index = [
        {"fieldName": "a", "metricType": "L2", "indexType": "FLAT"},
        {"fieldName": "b", "metricType": "L2", "indexType": "FLAT"},
    ]
    ok(
        server,
        "collections/create",
        {"collectionName": name, "schema": schema, "indexParams": index},
    )
    a, b = vectors(10, 3), vectors(10, 4)
    rows = [{"id": i, "a": a[i], "b": b[i]} for i in range(10)]
    ok(server, "entities/insert", {"collectionName": name, "data": rows})
    legs = [
        {"data": [a[7]], "annsField": "a", "limit": 5},
        {"data": [b[7]], "annsField": "b", "limit": 5},
    ]
    for rerank in (
        {"strategy": "rrf", "params": {"k": 60}},
        {"strategy": "weighted", "params": {"weights": [0.5, 0.5]}},
    ):
        hits = ok(
            server,
            "entities/hybrid_search",
            {"collectionName": name, "search": legs, "rerank": rerank, "limit": 3},
        )
        assert len(hits) == 3 and hits[0]["id"] == 7


def test_rest_and_pymilvus_search_agree(server: ServerProcess, client: Any) -> None:
    name = "rest_congruent"
    client.create_collection(name, dimension=DIM, metric_type="L2")
    data = vectors(200, 5)
    client.insert(name, [{"id": i, "vector": v, "n": i % 7} for i, v in enumerate(data)])
    queries = vectors(3, 6)
    expected = client.search(
        name,
        data=queries,
        limit=10,
        filter="n > 2",
        output_fields=["n"],
        search_params={"metric_type": "L2"},
    )
    reply = post(
        server,
        "entities/search",
        {
            "collectionName": name,
            "data": queries,
            "limit": 10,
            "filter": "n > 2",
            "outputFields": ["n"],
            "searchParams": {"metricType": "L2"},
        },
    )
    # One flat list of hits; ``topks`` says how many belong to each query.
    assert reply["code"] == 0 and reply["topks"] == [len(hits) for hits in expected]
    ends = np.cumsum([0, *reply["topks"]])
    got = [reply["data"][lo:hi] for lo, hi in zip(ends[:-1], ends[1:])]
    assert len(got) == len(expected) == 3
    for rest_hits, grpc_hits in zip(got, expected):
        assert [h["id"] for h in rest_hits] == [h["id"] for h in grpc_hits]
        assert [h["n"] for h in rest_hits] == [h["entity"]["n"] for h in grpc_hits]
        np.testing.assert_allclose(
            [h["distance"] for h in rest_hits], [h["distance"] for h in grpc_hits], rtol=1e-6
        )
    rest_rows = ok(
        server,
        "entities/query",
        {"collectionName": name, "filter": "id < 5", "outputFields": ["n"]},
    )
    grpc_rows = client.query(name, filter="id < 5", output_fields=["n"])
    assert sorted(rest_rows, key=lambda r: r["id"]) == sorted(
        (dict(r) for r in grpc_rows), key=lambda r: r["id"]
    )


def test_binary_half_precision_and_sparse_vectors_round_trip(server: ServerProcess) -> None:
    name = "rest_vector_kinds"
    schema = {
        "fields": [
            {"fieldName": "id", "dataType": "Int64", "isPrimary": True},
            {"fieldName": "grp", "dataType": "Int64"},
            {"fieldName": "bin", "dataType": "BinaryVector", "elementTypeParams": {"dim": 16}},
            {"fieldName": "f16", "dataType": "Float16Vector", "elementTypeParams": {"dim": 4}},
            {"fieldName": "bf16", "dataType": "BFloat16Vector", "elementTypeParams": {"dim": 4}},
            {"fieldName": "sp", "dataType": "SparseFloatVector"},
        ]
    }
    index = [
        {"fieldName": "bin", "metricType": "HAMMING", "indexType": "BIN_FLAT"},
        {"fieldName": "f16", "metricType": "L2", "indexType": "FLAT"},
        {"fieldName": "bf16", "metricType": "L2", "indexType": "FLAT"},
        {"fieldName": "sp", "metricType": "IP", "indexType": "SPARSE_INVERTED_INDEX"},
    ]
    ok(
        server,
        "collections/create",
        {"collectionName": name, "schema": schema, "indexParams": index},
    )
    rows = [
        {
            "id": i,
            "grp": i % 3,
            "bin": [i, 255 - i],
            "f16": [float(i), 0.5, 0.25, 1.0],
            "bf16": [float(i), 1.0, 2.0, 0.5],
            "sp": {str(i + 1): 1.0, "100": 0.5},
        }
        for i in range(6)
    ]
    ok(server, "entities/insert", {"collectionName": name, "data": rows})
    got = ok(server, "entities/get", {"collectionName": name, "id": [2], "outputFields": ["*"]})[0]
    assert got["f16"] == [2.0, 0.5, 0.25, 1.0] and got["bf16"] == [2.0, 1.0, 2.0, 0.5]
    assert got["bin"] == base64.b64encode(bytes([2, 253])).decode()
    assert got["sp"] == {"3": 1.0, "100": 0.5}
    for field, query in (
        ("bin", base64.b64encode(bytes([4, 251])).decode()),
        ("f16", [4.0, 0.5, 0.25, 1.0]),
        ("bf16", [4.0, 1.0, 2.0, 0.5]),
        ("sp", {"5": 1.0}),
    ):
        hits = ok(
            server,
            "entities/search",
            {"collectionName": name, "data": [query], "annsField": field, "limit": 2},
        )
        assert hits[0]["id"] == 4, field
    grouped = ok(
        server,
        "entities/search",
        {
            "collectionName": name,
            "data": [[4.0, 0.5, 0.25, 1.0]],
            "annsField": "f16",
            "limit": 3,
            "groupingField": "grp",
        },
    )
    assert sorted(h["grp"] for h in grouped) == [0, 1, 2]


def test_endpoints_answer_not_ready_before_the_engine_opens() -> None:
    from elanus.server.rest_app import handle
    from elanus.server.rest_body import ENDPOINTS

    reply = handle(None, "collections/list", ENDPOINTS["collections/list"], b"{}")
    assert reply["code"] == 1 and "not ready" in reply["message"]
