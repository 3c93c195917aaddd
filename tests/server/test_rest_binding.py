"""REST v2 requests read as Milvus binds them: bodies, headers, typed fields and
free-form ``params``, and the JSON envelope for every answer."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from conftest import ServerProcess
from test_rest import ok, post, vectors

DIM = 8


def raw_post(server: ServerProcess, path: str, raw: bytes, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(
        f"{server.http_url}{path}", data=raw, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status == 200
        return json.loads(reply.read())


def test_null_body_is_an_empty_request_and_an_empty_body_is_refused(
    server: ServerProcess,
) -> None:
    ok(server, "collections/create", {"collectionName": "bind_null", "dimension": DIM})
    for path in ("collections/list", "aliases/list", "databases/list"):
        reply = post(server, path, b"null")
        assert reply["code"] == 0, reply
    assert "bind_null" in post(server, "collections/list", b"null")["data"]
    empty = post(server, "collections/list", b"")
    assert empty["code"] == 1801 and "{} is valid" in empty["message"]
    array = post(server, "collections/list", b"[]")
    assert array["code"] == 1801 and "can only accept json format request" in array["message"]


def test_db_name_header_picks_the_database_when_the_body_names_none(
    server: ServerProcess,
) -> None:
    ok(server, "databases/create", {"dbName": "bind_hdr"})
    ok(
        server,
        "collections/create",
        {"collectionName": "in_hdr", "dimension": DIM, "dbName": "bind_hdr"},
    )
    listed = raw_post(
        server,
        "/v2/vectordb/collections/list",
        b"{}",
        {"Content-Type": "application/json", "DB-Name": "bind_hdr"},
    )
    assert listed == {"code": 0, "data": ["in_hdr"]}


def test_every_unknown_path_answers_in_the_json_envelope(server: ServerProcess) -> None:
    reply = raw_post(server, "/v2/vectordb/jobs/import/create", b"{}", {})
    assert reply["code"] != 0 and "not supported by Elanus" in reply["message"]
    assert "/v2/vectordb/jobs/import/create" in reply["message"]
    made_up = raw_post(server, "/v2/vectordb/no/such", b"{}", {})
    assert made_up["code"] != 0 and "not supported by Elanus" in made_up["message"]


def test_wrong_json_types_are_1801_and_missing_fields_1802(server: ServerProcess) -> None:
    wrong = post(server, "collections/describe", {"collectionName": 7})
    assert wrong["code"] == 1801 and "cannot unmarshal number" in wrong["message"]
    missing = post(server, "collections/describe", {})
    assert missing["code"] == 1802 and "collectionName" in missing["message"]
    no_dimension = post(server, "collections/create", {"collectionName": "bind_nodim"})
    assert no_dimension["code"] == 1100 and "dimension is required" in no_dimension["message"]
    text_dimension = post(
        server, "collections/create", {"collectionName": "bind_textdim", "dimension": "8"}
    )
    assert text_dimension["code"] == 1801


def test_numbers_in_params_are_read_from_their_text(server: ServerProcess) -> None:
    body = {
        "collectionName": "bind_params",
        "dimension": DIM,
        "params": {"shardsNum": "2", "consistencyLevel": "Strong", "ttlSeconds": 3600},
    }
    ok(server, "collections/create", body)
    info = ok(server, "collections/describe", {"collectionName": "bind_params"})
    assert info["shardsNum"] == 2 and info["consistencyLevel"] == "Strong"
    assert {"key": "collection.ttl.seconds", "value": "3600"} in info["properties"]
    bad_level = post(
        server,
        "collections/create",
        {
            "collectionName": "bind_level",
            "dimension": DIM,
            "params": {"consistencyLevel": "strong"},
        },
    )
    assert bad_level["code"] == 1100 and "consistencyLevel can only be" in bad_level["message"]
    off = {
        "collectionName": "bind_static",
        "dimension": DIM,
        "params": {"enableDynamicField": "false"},
    }
    ok(server, "collections/create", off)
    assert (
        ok(server, "collections/describe", {"collectionName": "bind_static"})["enableDynamicField"]
        is False
    )


def test_properties_are_written_as_milvus_writes_them(server: ServerProcess) -> None:
    ok(
        server,
        "databases/create",
        {"dbName": "bind_props", "properties": {"database.force.deny.writing": True}},
    )
    props = ok(server, "databases/describe", {"dbName": "bind_props"})["properties"]
    assert {"key": "database.force.deny.writing", "value": "true"} in props
    ok(
        server,
        "databases/alter",
        {"dbName": "bind_props", "properties": {"database.max.collections": 5}},
    )
    ok(
        server,
        "databases/drop_properties",
        {"dbName": "bind_props", "propertyKeys": ["database.force.deny.writing"]},
    )
    props = ok(server, "databases/describe", {"dbName": "bind_props"})["properties"]
    assert props == [{"key": "database.max.collections", "value": "5"}]


def test_schema_type_names_are_case_sensitive_and_defaults_checked(server: ServerProcess) -> None:
    def create(fields: list[dict[str, Any]]) -> dict[str, Any]:
        pk = {"fieldName": "id", "dataType": "Int64", "isPrimary": True}
        vec = {"fieldName": "v", "dataType": "FloatVector", "elementTypeParams": {"dim": DIM}}
        return post(
            server,
            "collections/create",
            {"collectionName": "bind_types", "schema": {"fields": [pk, vec, *fields]}},
        )

    lower = create([{"fieldName": "n", "dataType": "int64"}])
    assert lower["code"] == 1100 and "invalid(case sensitive)" in lower["message"]
    json_default = create([{"fieldName": "j", "dataType": "JSON", "defaultValue": {"a": 1}}])
    assert json_default["code"] == 1100 and "default" in json_default["message"]
    wrong_default = create([{"fieldName": "n", "dataType": "Int64", "defaultValue": "x"}])
    assert wrong_default["code"] == 1100 and "long default value" in wrong_default["message"]
    assert create([{"fieldName": "n", "dataType": "Int64", "defaultValue": 3}])["code"] == 0


@pytest.mark.parametrize(
    ("kind", "data", "metric"),
    [
        ("BinaryVector", "AAE=", "HAMMING"),
        ("SparseFloatVector", {"indices": [1, 5], "values": [0.5, 0.25]}, "IP"),
        ("Float16Vector", [0.5] * DIM, "COSINE"),
    ],
)
def test_quick_setup_takes_the_vector_field_type(
    server: ServerProcess, kind: str, data: Any, metric: str
) -> None:
    name = f"bind_quick_{kind.lower()}"
    body: dict[str, Any] = {"collectionName": name, "vectorFieldType": kind}
    if kind != "SparseFloatVector":
        body["dimension"] = 16 if kind == "BinaryVector" else DIM
    ok(server, "collections/create", body)
    info = ok(server, "collections/describe", {"collectionName": name})
    assert {f["name"]: f["type"] for f in info["fields"]}["vector"] == kind
    assert info["indexes"][0]["metricType"] == metric
    ok(server, "entities/insert", {"collectionName": name, "data": [{"id": 1, "vector": data}]})
    ok(server, "collections/flush", {"collectionName": name})
    hits = ok(server, "entities/search", {"collectionName": name, "data": [data], "limit": 1})
    assert [h["id"] for h in hits] == [1]


def test_quick_setup_refusals_name_the_setting(server: ServerProcess) -> None:
    bad_kind = post(
        server,
        "collections/create",
        {"collectionName": "bind_q1", "dimension": DIM, "vectorFieldType": "Vector"},
    )
    assert bad_kind["code"] == 1100 and "vectorFieldType can only be" in bad_kind["message"]
    sparse_dim = post(
        server,
        "collections/create",
        {"collectionName": "bind_q2", "dimension": DIM, "vectorFieldType": "SparseFloatVector"},
    )
    assert "dimension should not be specified" in sparse_dim["message"]
    bad_metric = post(
        server,
        "collections/create",
        {"collectionName": "bind_q3", "dimension": DIM, "metricType": "HAMMING"},
    )
    assert "does not support metric type" in bad_metric["message"]


def test_64_bit_integers_are_text_without_the_allow_int64_header(server: ServerProcess) -> None:
    ok(server, "collections/create", {"collectionName": "bind_int64", "dimension": DIM})
    rows = [{"id": 2**60 + i, "vector": v, "big": 2**55} for i, v in enumerate(vectors(2, 3))]
    plain = post(
        server,
        "entities/insert",
        {"collectionName": "bind_int64", "data": rows},
        int64_numbers=False,
    )
    assert plain["data"]["insertIds"] == [str(2**60), str(2**60 + 1)]
    got = post(
        server,
        "entities/get",
        {"collectionName": "bind_int64", "id": [2**60], "outputFields": ["id"]},
        int64_numbers=False,
    )
    assert got["data"] == [{"id": str(2**60)}]
    assert ok(
        server,
        "entities/get",
        {"collectionName": "bind_int64", "id": [2**60], "outputFields": ["id"]},
    ) == [{"id": 2**60}]
