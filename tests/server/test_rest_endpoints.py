"""REST v2 endpoints beyond the basics, and entity reads and writes in Milvus's
shapes: flush/compact/refresh, property changes, field changes, search by keys,
partial updates, advanced search, the analyzer and the single resource group."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ServerProcess
from test_rest import ok, post, vectors

DIM = 8


@pytest.fixture(scope="module")
def books(server: ServerProcess) -> str:
    """A schema collection with 30 rows, an HNSW index and a scalar field."""
    name = "ep_books"
    schema = {
        "fields": [
            {"fieldName": "id", "dataType": "Int64", "isPrimary": True},
            {"fieldName": "n", "dataType": "Int64"},
            {
                "fieldName": "title",
                "dataType": "VarChar",
                "elementTypeParams": {"max_length": "64"},
            },
            {"fieldName": "v", "dataType": "FloatVector", "elementTypeParams": {"dim": f"{DIM}"}},
        ]
    }
    index = [
        {
            "fieldName": "v",
            "indexName": "v_idx",
            "metricType": "L2",
            "indexType": "HNSW",
            "params": {"M": 8, "efConstruction": 64},
        }
    ]
    ok(
        server,
        "collections/create",
        {"collectionName": name, "schema": schema, "indexParams": index},
    )
    rows = [{"id": i, "n": i % 5, "title": f"t{i}", "v": v} for i, v in enumerate(vectors(30, 7))]
    ok(server, "entities/insert", {"collectionName": name, "data": rows})
    return name


def test_flush_compact_and_refresh_load(server: ServerProcess, books: str) -> None:
    ok(server, "collections/flush", {"collectionName": books})
    job = ok(server, "collections/compact", {"collectionName": books})["compactionID"]
    state = ok(server, "collections/get_compaction_state", {"jobID": job})
    assert state["compactionID"] == job and state["state"] in ("Executing", "Completed")
    ok(server, "collections/refresh_load", {"collectionName": books})
    assert ok(server, "collections/get_load_state", {"collectionName": books})["loadState"] == (
        "LoadStateLoaded"
    )
    missing = post(server, "collections/flush", {"collectionName": "ep_missing"})
    assert missing["code"] == 100


def test_query_reads_every_field_by_default_and_at_most_100_rows(
    server: ServerProcess, books: str
) -> None:
    rows = ok(server, "entities/query", {"collectionName": books, "filter": "id == 3"})
    assert set(rows[0]) == {"id", "n", "title", "v"} and len(rows[0]["v"]) == DIM
    assert len(ok(server, "entities/query", {"collectionName": books, "filter": "id >= 0"})) == 30
    only_pk = ok(
        server, "entities/query", {"collectionName": books, "filter": "id == 3", "outputFields": []}
    )
    assert only_pk == [{"id": 3}]
    counted = ok(
        server,
        "entities/query",
        {"collectionName": books, "filter": "", "outputFields": ["count(*)"]},
    )
    assert counted == [{"count(*)": 30}]


def test_search_by_keys_and_several_queries_in_one_flat_list(
    server: ServerProcess, books: str
) -> None:
    reply = post(
        server,
        "entities/search",
        {"collectionName": books, "ids": [4, 9], "limit": 3, "outputFields": ["n"]},
    )
    assert reply["code"] == 0 and reply["topks"] == [3, 3]
    assert [reply["data"][0]["id"], reply["data"][3]["id"]] == [4, 9]
    as_text = post(
        server, "entities/search", {"collectionName": books, "ids": ["4", 9.0], "limit": 3}
    )
    assert as_text["code"] == 0 and as_text["topks"] == [3, 3]
    assert [h["id"] for h in as_text["data"]] == [h["id"] for h in reply["data"]]
    bad_key = post(server, "entities/search", {"collectionName": books, "ids": ["x"], "limit": 3})
    assert bad_key["code"] == 1100 and "invalid int64 id at index 0" in bad_key["message"]
    both = post(
        server, "entities/search", {"collectionName": books, "ids": [1], "data": [[0.0] * DIM]}
    )
    assert both["code"] == 1100 and "mutually exclusive" in both["message"]
    zero = post(
        server, "entities/search", {"collectionName": books, "data": [[0.0] * DIM], "limit": 0}
    )
    assert zero["code"] == 1100
    neither = post(server, "entities/search", {"collectionName": books})
    assert neither["code"] == 1802
    chained = post(
        server,
        "entities/search",
        {"collectionName": books, "data": [[0.0] * DIM], "functionChains": [{"name": "c"}]},
    )
    assert chained["code"] != 0 and "functionChains" in chained["message"]
    boost = {
        "name": "b",
        "type": "Rerank",
        "inputFieldNames": [],
        "params": {"reranker": "boost", "weight": 2},
    }
    both = post(
        server,
        "entities/search",
        {
            "collectionName": books,
            "data": [[0.0] * DIM],
            "functionScore": {"functions": [boost]},
            "functionChains": [{"name": "c"}],
        },
    )
    assert "function_score and function_chains cannot be used together" in both["message"]
    plain = ok(
        server, "entities/search", {"collectionName": books, "data": [[0.0] * DIM], "limit": 3}
    )
    boosted = ok(
        server,
        "entities/search",
        {
            "collectionName": books,
            "data": [[0.0] * DIM],
            "limit": 3,
            "functionScore": {"functions": [boost]},
        },
    )
    assert [h["id"] for h in boosted] == [h["id"] for h in plain]
    assert boosted[0]["distance"] != plain[0]["distance"]


def test_advanced_search_is_hybrid_search(server: ServerProcess, books: str) -> None:
    leg = {"data": [vectors(1, 8)[0]], "annsField": "v", "limit": 5, "metricType": "L2"}
    body = {
        "collectionName": books,
        "search": [leg, leg],
        "rerank": {"strategy": "rrf", "params": {"k": 10}},
        "limit": 4,
    }
    assert ok(server, "entities/advanced_search", body) == ok(
        server, "entities/hybrid_search", body
    )
    chained = post(server, "entities/hybrid_search", {**body, "functionChains": [{"name": "c"}]})
    assert chained["code"] == 1100 and "functionChains is not supported" in chained["message"]


def test_partial_update_keeps_fields_not_given(server: ServerProcess, books: str) -> None:
    ok(
        server,
        "entities/upsert",
        {"collectionName": books, "data": [{"id": 5, "title": "renamed"}], "partialUpdate": True},
    )
    row = ok(server, "entities/get", {"collectionName": books, "id": 5})[0]
    assert row["title"] == "renamed" and row["n"] == 0 and len(row["v"]) == DIM
    wrong = post(server, "entities/insert", {"collectionName": books, "data": [{"id": 99}]})
    assert wrong["code"] == 1804 and "fail to deal the insert data" in wrong["message"]


def test_properties_of_collections_fields_and_indexes(server: ServerProcess, books: str) -> None:
    ok(
        server,
        "collections/alter_properties",
        {"collectionName": books, "properties": {"collection.ttl.seconds": 60}},
    )
    props = ok(server, "collections/describe", {"collectionName": books})["properties"]
    assert {"key": "collection.ttl.seconds", "value": "60"} in props
    ok(
        server,
        "collections/drop_properties",
        {"collectionName": books, "propertyKeys": ["collection.ttl.seconds"]},
    )
    props = ok(server, "collections/describe", {"collectionName": books})["properties"]
    assert all(p["key"] != "collection.ttl.seconds" for p in props)

    ok(
        server,
        "collections/fields/alter_properties",
        {"collectionName": books, "fieldName": "title", "fieldParams": {"max_length": 128}},
    )
    fields = {
        f["name"]: f
        for f in ok(server, "collections/describe", {"collectionName": books})["fields"]
    }
    assert {"key": "max_length", "value": "128"} in fields["title"]["params"]
    ok(
        server,
        "collections/fields/add",
        {
            "collectionName": books,
            "schema": {
                "fieldName": "extra",
                "dataType": "Int32",
                "nullable": True,
                "defaultValue": 7,
            },
        },
    )
    row = ok(server, "entities/get", {"collectionName": books, "id": 1, "outputFields": ["extra"]})
    assert row == [{"id": 1, "extra": 7}]
    struct = post(
        server,
        "collections/struct_fields/add",
        {"collectionName": books, "schema": {"fieldName": "s", "dataType": "ArrayOfStruct"}},
    )
    assert struct["code"] != 0 and "not supported by Elanus" in struct["message"]

    mmap = {"collectionName": books, "indexName": "v_idx", "properties": {"mmap.enabled": True}}
    loaded = post(server, "indexes/alter_properties", mmap)
    assert loaded["code"] == 104 and "please release the collection first" in loaded["message"]
    ok(server, "collections/release", {"collectionName": books})
    unknown = {"collectionName": books, "indexName": "v_idx", "properties": {"nlist": 8}}
    refused = post(server, "indexes/alter_properties", unknown)
    assert (
        refused["code"] == 1100 and "nlist is not a configable index property" in refused["message"]
    )
    ok(
        server,
        "indexes/alter_properties",
        {"collectionName": books, "indexName": "v_idx", "properties": {"mmap.enabled": True}},
    )
    described = ok(server, "indexes/describe", {"collectionName": books, "indexName": "v_idx"})[0]
    assert described["mmap.enabled"] == "true" and described["indexType"] == "HNSW"
    params = {p["key"]: p["value"] for p in described["indexParams"]}
    assert params["index_type"] == "HNSW" and params["metric_type"] == "L2"
    ok(
        server,
        "indexes/drop_properties",
        {"collectionName": books, "indexName": "v_idx", "propertyKeys": ["mmap.enabled"]},
    )
    assert (
        ok(server, "indexes/describe", {"collectionName": books, "indexName": "v_idx"})[0][
            "mmap.enabled"
        ]
        == ""
    )
    ok(server, "collections/load", {"collectionName": books})


def test_run_analyzer_and_the_single_resource_group(server: ServerProcess, books: str) -> None:
    result = ok(server, "common/run_analyzer", {"text": ["Hello World"], "withDetail": True})
    tokens = result["results"][0]["tokens"]
    assert [t["token"] for t in tokens] == ["hello", "world"] and tokens[1]["startOffset"] == 6
    assert ok(server, "resource_groups/list", {}) == ["__default_resource_group"]
    group = ok(server, "resource_groups/describe", {"name": "__default_resource_group"})
    assert group["resource_group"]["num_loaded_replica"][books] == 1
    refused: Any = post(server, "resource_groups/create", {"name": "rg1"})
    assert refused["code"] != 0 and "not supported by Elanus" in refused["message"]


def test_field_ops_append_to_and_remove_from_stored_arrays(server: ServerProcess) -> None:
    name = "ep_arrays"
    schema = {
        "fields": [
            {"fieldName": "id", "dataType": "Int64", "isPrimary": True},
            {"fieldName": "title", "dataType": "VarChar", "elementTypeParams": {"max_length": 16}},
            {
                "fieldName": "tags",
                "dataType": "Array",
                "elementDataType": "Int64",
                "elementTypeParams": {"max_capacity": 4},
            },
            {"fieldName": "v", "dataType": "FloatVector", "elementTypeParams": {"dim": DIM}},
        ]
    }
    index = [{"fieldName": "v", "metricType": "L2"}]
    ok(
        server,
        "collections/create",
        {"collectionName": name, "schema": schema, "indexParams": index},
    )
    rows = [
        {"id": i, "title": f"r{i}", "tags": [1, 2, 1], "v": v} for i, v in enumerate(vectors(2, 4))
    ]
    ok(server, "entities/insert", {"collectionName": name, "data": rows})

    def upsert(data: list[dict[str, Any]], ops: list[dict[str, str]]) -> dict[str, Any]:
        body = {"collectionName": name, "data": data, "partialUpdate": True, "fieldOps": ops}
        return post(server, "entities/upsert", body)

    assert (
        upsert([{"id": 0, "tags": [3]}], [{"fieldName": "tags", "op": "ARRAY_APPEND"}])["code"] == 0
    )
    assert (
        upsert([{"id": 1, "tags": [1]}], [{"fieldName": "tags", "op": "array_remove"}])["code"] == 0
    )
    got = ok(
        server,
        "entities/query",
        {"collectionName": name, "filter": "id >= 0", "outputFields": ["tags", "title"]},
    )
    assert {r["id"]: r["tags"] for r in got} == {0: [1, 2, 1, 3], 1: [2]}
    assert {r["title"] for r in got} == {"r0", "r1"}
    too_long = upsert([{"id": 0, "tags": [4]}], [{"fieldName": "tags", "op": "ARRAY_APPEND"}])
    assert too_long["code"] != 0 and "capacity" in too_long["message"]
    wrong = upsert([{"id": 0, "title": "x"}], [{"fieldName": "title", "op": "ARRAY_APPEND"}])
    assert 'op ARRAY_APPEND requires Array field, but field "title" is VarChar' in wrong["message"]
    unknown = upsert([{"id": 0, "tags": [1]}], [{"fieldName": "tags", "op": "ARRAY_POP"}])
    assert "unsupported partial update op: ARRAY_POP" in unknown["message"]


def test_a_vector_field_without_index_keeps_the_collection_unloaded(
    server: ServerProcess,
) -> None:
    fields = [
        {"fieldName": "id", "dataType": "Int64", "isPrimary": True},
        {"fieldName": "a", "dataType": "FloatVector", "elementTypeParams": {"dim": DIM}},
        {"fieldName": "b", "dataType": "FloatVector", "elementTypeParams": {"dim": DIM}},
    ]
    body = {
        "collectionName": "ep_half_indexed",
        "schema": {"fields": fields},
        "indexParams": [{"fieldName": "a", "indexName": "a_idx", "metricType": "L2"}],
    }
    reply = post(server, "collections/create", body)
    assert reply["code"] == 1100
    assert "there is no vector index on field: [b], please create index firstly" in reply["message"]
    info = ok(server, "collections/describe", {"collectionName": "ep_half_indexed"})
    assert info["load"] == "LoadStateNotLoad" and [i["indexName"] for i in info["indexes"]] == [
        "a_idx"
    ]


def test_describe_writes_defaults_as_milvus_marshals_them(server: ServerProcess) -> None:
    fields = [
        {"fieldName": "id", "dataType": "Int64", "isPrimary": True},
        {
            "fieldName": "s",
            "dataType": "VarChar",
            "elementTypeParams": {"max_length": 8},
            "defaultValue": "123",
            "nullable": True,
        },
        {"fieldName": "n", "dataType": "Int32", "defaultValue": 5},
        {"fieldName": "v", "dataType": "FloatVector", "elementTypeParams": {"dim": DIM}},
    ]
    ok(
        server,
        "collections/create",
        {"collectionName": "ep_defaults", "schema": {"fields": fields}},
    )
    described = ok(server, "collections/describe", {"collectionName": "ep_defaults"})["fields"]
    defaults = {f["name"]: f.get("defaultValue") for f in described}
    assert defaults["s"] == {"Data": {"StringData": "123"}}
    assert defaults["n"] == {"Data": {"IntData": 5}} and defaults["id"] is None


def test_timestamptz_default_fills_rows_that_leave_it_out(server: ServerProcess) -> None:
    fields = [
        {"fieldName": "id", "dataType": "Int64", "isPrimary": True},
        {
            "fieldName": "t",
            "dataType": "Timestamptz",
            "defaultValue": "2025-01-01T00:00:00Z",
            "nullable": True,
        },
        {"fieldName": "v", "dataType": "FloatVector", "elementTypeParams": {"dim": DIM}},
    ]
    index = [{"fieldName": "v", "metricType": "L2"}]
    body = {"collectionName": "ep_tz", "schema": {"fields": fields}, "indexParams": index}
    ok(server, "collections/create", body)
    rows = [{"id": 1, "v": vectors(1, 9)[0]}, {"id": 2, "v": vectors(1, 9)[0], "t": None}]
    ok(server, "entities/insert", {"collectionName": "ep_tz", "data": rows})
    got = ok(
        server, "entities/get", {"collectionName": "ep_tz", "id": [1, 2], "outputFields": ["t"]}
    )
    assert [r["t"] for r in sorted(got, key=lambda r: r["id"])] == ["2025-01-01T00:00:00Z"] * 2


def test_partial_upsert_into_auto_id_collection_moves_the_row_to_a_new_key(
    server: ServerProcess,
) -> None:
    schema = {
        "autoID": True,
        "fields": [
            {"fieldName": "id", "dataType": "Int64", "isPrimary": True},
            {"fieldName": "n", "dataType": "Int64"},
            {"fieldName": "title", "dataType": "VarChar", "elementTypeParams": {"max_length": 16}},
            {"fieldName": "v", "dataType": "FloatVector", "elementTypeParams": {"dim": DIM}},
        ],
    }
    index = [{"fieldName": "v", "metricType": "L2"}]
    ok(
        server,
        "collections/create",
        {"collectionName": "ep_auto", "schema": schema, "indexParams": index},
    )
    rows = [{"n": i, "title": f"t{i}", "v": v} for i, v in enumerate(vectors(2, 5))]
    old = ok(server, "entities/insert", {"collectionName": "ep_auto", "data": rows})["insertIds"]
    body = {
        "collectionName": "ep_auto",
        "data": [{"id": old[0], "title": "new"}],
        "partialUpdate": True,
    }
    new = ok(server, "entities/upsert", body)["upsertIds"]
    assert new[0] != old[0]
    got = ok(server, "entities/query", {"collectionName": "ep_auto", "filter": "n == 0"})
    assert [(r["id"], r["title"]) for r in got] == [(new[0], "new")] and len(got[0]["v"]) == DIM


def test_ignore_growing_leaves_unsealed_rows_out(server: ServerProcess) -> None:
    name = "ep_growing"
    ok(server, "collections/create", {"collectionName": name, "dimension": DIM})
    rows = [{"id": i, "vector": v} for i, v in enumerate(vectors(5, 11))]
    ok(server, "entities/insert", {"collectionName": name, "data": rows})
    body = {"collectionName": name, "data": [vectors(1, 12)[0]], "limit": 3}
    assert len(ok(server, "entities/search", body)) == 3
    skipping = {**body, "searchParams": {"ignoreGrowing": True}}
    assert ok(server, "entities/search", skipping) == []
    ok(server, "collections/flush", {"collectionName": name})
    assert len(ok(server, "entities/search", skipping)) == 3


def test_load_takes_its_field_list_and_replica_count(server: ServerProcess, books: str) -> None:
    target = {"collectionName": books}
    no_key = post(server, "collections/load", {**target, "loadFields": ["v", "title"]})
    assert no_key["code"] != 0 and "does not contain primary key field id" in no_key["message"]
    unknown = post(server, "collections/load", {**target, "loadFields": ["id", "v", "nope"]})
    assert unknown["code"] != 0 and "fieldName(nope) not found" in unknown["message"]
    replicas = post(server, "collections/load", {**target, "replicaNumber": 2})
    assert replicas["code"] != 0 and "service resource insufficient" in replicas["message"]
    parts = {**target, "partitionNames": ["_default"], "replicaNumber": 2}
    assert "service resource insufficient" in post(server, "partitions/load", parts)["message"]
    wrong = post(server, "collections/load", {**target, "replicaNumber": "two"})
    assert wrong["code"] != 0 and "replicaNumber" in wrong["message"]
    listed = {**target, "loadFields": ["id", "v"], "skipLoadDynamicField": True, "replicaNumber": 1}
    ok(server, "collections/load", listed)
    # A field left out of the list is still answered, read from storage when asked for.
    got = ok(server, "entities/query", {**target, "filter": "id == 3", "outputFields": ["title"]})
    assert [r["title"] for r in got] == ["t3"]
    ok(server, "collections/load", target)
