"""Behaviours Milvus's own client suite checks, held against a real ``elanus serve``:
error wording, defaults of index creation, field ids, describe shapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient, MilvusException

DIM = 8


def _schema(client: MilvusClient) -> Any:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("title", DataType.VARCHAR, max_length=64)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    return schema


@pytest.fixture
def fresh(client: MilvusClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A collection name unique to the test, dropped afterwards."""
    name = "b_" + request.node.name.replace("[", "_").replace("]", "").replace("-", "_")
    yield name
    client.drop_collection(name)


def test_invalid_parameter_errors_end_with_the_kind(client: MilvusClient) -> None:
    with pytest.raises(MilvusException) as info:
        client.create_collection("1bad", dimension=DIM)
    assert info.value.code == 1100
    assert info.value.message.endswith(": invalid parameter")
    assert "Invalid collection name: 1bad" in info.value.message


def test_schema_without_vector_field_is_refused(client: MilvusClient, fresh: str) -> None:
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    with pytest.raises(MilvusException) as info:
        client.create_collection(fresh, schema=schema)
    assert "schema does not contain vector field: invalid parameter" in info.value.message


def _rows(n: int) -> list[dict[str, Any]]:
    vectors = np.random.default_rng(3).random((n, DIM), dtype=np.float32)
    return [{"id": i, "title": f"t{i}", "vec": vectors[i].tolist()} for i in range(n)]


@pytest.mark.parametrize("name", ["12-s", "(mn)", "a b"])
def test_malformed_collection_names_are_refused_on_every_call(
    client: MilvusClient, name: str
) -> None:
    for call in (
        client.describe_collection,
        client.load_collection,
        client.release_collection,
        client.has_collection,
    ):
        with pytest.raises(MilvusException) as info:
            call(name)
        assert f"Invalid collection name: {name}" in info.value.message


def test_describe_missing_collection_wording(client: MilvusClient) -> None:
    with pytest.raises(MilvusException) as info:
        client.describe_collection("no_such_collection")
    assert info.value.code == 100
    assert "can't find collection[database=default][collection=no_such_collection]" in (
        info.value.message
    )


def test_load_without_any_index_names_the_collection(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, schema=_schema(client))
    with pytest.raises(MilvusException) as info:
        client.load_collection(fresh)
    assert info.value.code == 700
    assert f"index not found[collection={fresh}]" in info.value.message


def test_load_partitions_needs_partition_names(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, dimension=DIM)
    with pytest.raises(MilvusException) as info:
        client.load_partitions(fresh, [])
    assert "due to no partition specified" in info.value.message


def test_released_partition_cannot_be_searched(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, dimension=DIM)
    client.create_partition(fresh, "p1")
    client.release_partitions(fresh, ["p1"])
    with pytest.raises(MilvusException) as info:
        client.search(fresh, [[0.1] * DIM], partition_names=["p1"])
    assert info.value.code == 201
    assert "partition not loaded" in info.value.message
    with pytest.raises(MilvusException) as info:
        client.query(fresh, "id >= 0", partition_names=["p1"])
    assert "partition not loaded" in info.value.message
    assert client.search(fresh, [[0.1] * DIM], partition_names=["_default"]) == [[]]


@pytest.mark.parametrize(
    ("dtype", "value", "wire"),
    [
        (DataType.INT8, "abc", "DataType_VarChar"),
        (DataType.INT8, 1, "DataType_Int64"),
        (DataType.FLOAT, False, "DataType_Bool"),
        (DataType.FLOAT, 1, "DataType_Int64"),
    ],
)
def test_default_value_must_sit_in_the_field_types_slot(
    client: MilvusClient, fresh: str, dtype: DataType, value: Any, wire: str
) -> None:
    schema = _schema(client)
    schema.add_field("extra", dtype, default_value=value)
    with pytest.raises(MilvusException) as info:
        client.create_collection(fresh, schema=schema)
    type_name = {DataType.INT8: "Int8", DataType.FLOAT: "Float"}[dtype]
    assert (
        f"type ({type_name}) of field (extra) is not equal to the type({wire}) of default_value"
        in (info.value.message)
    )


def test_default_value_refused_on_arrays_and_vectors(client: MilvusClient, fresh: str) -> None:
    schema = _schema(client)
    schema.add_field(
        "tags", DataType.ARRAY, element_type=DataType.INT64, max_capacity=4, default_value=1
    )
    with pytest.raises(MilvusException) as info:
        client.create_collection(fresh, schema=schema)
    assert "type not support default_value, type:Array" in info.value.message


def test_default_value_in_its_slot_is_used(client: MilvusClient, fresh: str) -> None:
    schema = _schema(client)
    schema.add_field("score", DataType.DOUBLE, default_value=2.5)
    schema.add_field("flag", DataType.BOOL, default_value=True)
    client.create_collection(fresh, schema=schema)
    fields = {f["name"]: f for f in client.describe_collection(fresh)["fields"]}
    assert fields["score"]["default_value"].double_data == 2.5


@pytest.mark.parametrize("name", ["12-s", "(mn)", "  "])
def test_malformed_database_names_use_their_own_code(client: MilvusClient, name: str) -> None:
    for call in (client.create_database, client.drop_database):
        with pytest.raises(MilvusException) as info:
            call(name)
        assert info.value.code == 802
        assert (
            "the first character of a database name must be an underscore or letter: "
            f"invalid database name[database={name}]"
        ) in info.value.message


def test_malformed_partition_name_on_insert(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, schema=_schema(client))
    with pytest.raises(MilvusException) as info:
        client.insert(fresh, _rows(2), partition_name="(mn)")
    assert "Invalid partition name: (mn)." in info.value.message
    with pytest.raises(MilvusException) as info:
        client.has_partition(fresh, " ")
    assert "Invalid partition name: . Partition name should not be empty." in info.value.message


def test_vectors_of_the_wrong_dim_are_a_flat_run_that_does_not_divide(
    client: MilvusClient, fresh: str
) -> None:
    client.create_collection(fresh, schema=_schema(client))
    rows = [{"id": i, "title": "t", "vec": [0.5] * (DIM + 1)} for i in range(3)]
    with pytest.raises(MilvusException) as info:
        client.insert(fresh, rows)
    assert f"the length({3 * (DIM + 1)}) of float data should divide the dim({DIM})" in (
        info.value.message
    )


def test_mmap_cannot_change_while_loaded(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, dimension=DIM)
    with pytest.raises(MilvusException) as info:
        client.alter_collection_properties(fresh, properties={"mmap.enabled": True})
    assert "can not alter mmap properties if collection loaded" in info.value.message
    client.release_collection(fresh)
    client.alter_collection_properties(fresh, properties={"mmap.enabled": True})


def test_upsert_batch_with_repeated_keys_is_refused(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, schema=_schema(client))
    rows = _rows(3)
    rows[2]["id"] = 0
    with pytest.raises(MilvusException) as info:
        client.upsert(fresh, rows)
    assert "duplicate primary keys are not allowed in the same batch" in info.value.message
    client.insert(fresh, rows)  # insert keeps both rows, as Milvus does


def test_upsert_into_missing_collection_wording(client: MilvusClient) -> None:
    with pytest.raises(MilvusException) as info:
        client.upsert("no_such_collection", _rows(1))
    assert "can't find collection[database=default][collection=no_such_collection]" in (
        info.value.message
    )


def test_creating_an_existing_partition_again_is_a_no_op(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, dimension=DIM)
    client.create_partition(fresh, "p1")
    client.create_partition(fresh, "p1")
    assert sorted(client.list_partitions(fresh)) == ["_default", "p1"]


def test_alias_rules(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, dimension=DIM)
    other = fresh + "_other"
    client.create_collection(other, dimension=DIM)
    try:
        with pytest.raises(MilvusException) as info:
            client.create_alias(fresh, "12-s")
        assert "Invalid collection alias: 12-s" in info.value.message
        with pytest.raises(MilvusException) as info:
            client.alter_alias("no_such_collection", "a1")
        assert "collection not found[collection=no_such_collection]" in info.value.message
        with pytest.raises(MilvusException) as info:
            client.alter_alias(fresh, other)
        assert f"alias and collection name conflict[database=default][alias={other}]" in (
            info.value.message
        )
        client.create_alias(fresh, fresh + "_a")
        with pytest.raises(MilvusException) as info:
            client.rename_collection(other, fresh + "_a")
        assert f"alias and collection name conflict[database=default][alias={fresh}_a]" in (
            info.value.message
        )
        with pytest.raises(MilvusException) as info:
            client.create_collection(fresh + "_a", dimension=DIM)
        assert "alias and collection name conflict" in info.value.message
    finally:
        client.drop_alias(fresh + "_a")
        client.drop_collection(other)


def test_json_path_indexes_get_path_names_by_default(client: MilvusClient, fresh: str) -> None:
    schema = _schema(client)
    schema.add_field("doc", DataType.JSON)
    client.create_collection(fresh, schema=schema)
    index = client.prepare_index_params()
    for path in ("doc['a']['b']", "doc['a'][0]"):
        index.add_index(
            "doc", index_type="INVERTED", params={"json_cast_type": "DOUBLE", "json_path": path}
        )
    client.create_index(fresh, index)
    names = client.list_indexes(fresh, field_name="doc")
    assert sorted(names) == ["doc/a/0", "doc/a/b"]


def test_query_order_by(client: MilvusClient, fresh: str) -> None:
    schema = _schema(client)
    schema.add_field("score", DataType.INT32, nullable=True)
    client.create_collection(fresh, schema=schema, index_params=_vector_index(client))
    rows = _rows(6)
    for i, row in enumerate(rows):
        row["score"] = None if i % 3 == 0 else i
    client.insert(fresh, rows)
    asc = client.query(fresh, "id >= 0", limit=10, order_by_fields=["score:asc"])
    assert [r["score"] for r in asc] == [1, 2, 4, 5, None, None]
    desc = client.query(
        fresh, "id >= 0", limit=3, order_by_fields=[{"field": "score", "order": "desc"}]
    )
    assert [r["score"] for r in desc] == [None, None, 5]
    last = client.query(fresh, "id >= 0", limit=2, order_by_fields=["score:desc:nulls_last"])
    assert [r["score"] for r in last] == [5, 4]
    for spec, message in [
        (["vec:asc"], "order_by field 'vec' has type FloatVector which is not sortable"),
        (["nope:asc"], "order_by field 'nope' does not exist in collection schema"),
        (["score:up"], "invalid order direction 'up' for field 'score', must be 'asc' or 'desc'"),
    ]:
        with pytest.raises(MilvusException) as info:
            client.query(fresh, "id >= 0", limit=2, order_by_fields=spec)
        assert message in info.value.message
    with pytest.raises(MilvusException) as info:
        client.query(fresh, "id >= 0", order_by_fields=["score:asc"])
    assert "ORDER BY requires explicit limit" in info.value.message


def test_bad_filter_is_a_failure_to_plan(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, schema=_schema(client), index_params=_vector_index(client))
    with pytest.raises(MilvusException) as info:
        client.query(fresh, "id in title", limit=2)
    assert info.value.message.startswith(
        "failed to create query plan: cannot parse expression: id in title, error: "
    )


def _vector_index(client: MilvusClient) -> Any:
    index = client.prepare_index_params()
    index.add_index("vec", metric_type="L2")
    return index


def test_search_names_a_missing_partition(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, dimension=DIM)
    with pytest.raises(MilvusException) as info:
        client.search(fresh, [[0.1] * DIM], partition_names=["nope"])
    assert "partition name nope not found" in info.value.message


def test_query_window_wording(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, schema=_schema(client), index_params=_vector_index(client))
    with pytest.raises(MilvusException) as info:
        client.query(fresh, "id >= 0", limit=10, offset=-1)
    assert "invalid max query result window, offset [-1] is invalid, should be gte than 0" in (
        info.value.message
    )


def test_partition_key_collections_refuse_partition_loads(client: MilvusClient, fresh: str) -> None:
    schema = _schema(client)
    schema.add_field("tenant", DataType.INT64, is_partition_key=True)
    client.create_collection(fresh, schema=schema, index_params=_vector_index(client))
    partition = client.list_partitions(fresh)[0]
    with pytest.raises(MilvusException) as info:
        client.load_partitions(fresh, [partition])
    assert "disable load partitions if partition key mode is used" in info.value.message
    with pytest.raises(MilvusException) as info:
        client.release_partitions(fresh, [partition])
    assert "disable release partitions if partition key mode is used" in info.value.message


def test_binary_ivf_lists_its_metrics(client: MilvusClient, fresh: str) -> None:
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("bits", DataType.BINARY_VECTOR, dim=16)
    client.create_collection(fresh, schema=schema)
    index = client.prepare_index_params()
    index.add_index(
        "bits", index_type="BIN_IVF_FLAT", metric_type="SUBSTRUCTURE", params={"nlist": 8}
    )
    with pytest.raises(MilvusException) as info:
        client.create_index(fresh, index)
    assert "metric type SUBSTRUCTURE not found or not supported, supported: [HAMMING JACCARD]" in (
        info.value.message
    )


def test_search_looks_a_malformed_name_up_instead_of_checking_it(client: MilvusClient) -> None:
    with pytest.raises(MilvusException) as info:
        client.search("12-s", [[0.1] * DIM])
    assert "collection not found[database=default][collection=12-s]" in info.value.message


def test_search_window_limits_wording(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, dimension=DIM)
    with pytest.raises(MilvusException) as info:
        client.search(fresh, [[0.1] * DIM], limit=16385)
    assert "topk [16385] is invalid, it should be in range [1, 16384], but got 16385" in (
        info.value.message
    )
    with pytest.raises(MilvusException) as info:
        client.search(fresh, np.zeros((16385, DIM), dtype=np.float32).tolist(), limit=1)
    assert (
        "nq [16385] is invalid, nq (number of search vector per search request) should be in "
        "range [1, 16384], but got 16385"
    ) in info.value.message


def test_output_field_names_must_parse(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, dimension=DIM)  # dynamic field on
    for bad in ("%", "-"):
        with pytest.raises(MilvusException) as info:
            client.search(fresh, [[0.1] * DIM], output_fields=[bad])
        assert f"parse output field name failed: {bad}" in info.value.message
    with pytest.raises(MilvusException) as info:
        client.query(fresh, "id >= 0", output_fields=[""], limit=1)
    assert "`output_fields` value [''] is illegal" in info.value.message


def test_search_on_a_missing_vector_field_fails_to_plan(client: MilvusClient, fresh: str) -> None:
    client.create_collection(fresh, dimension=DIM)
    with pytest.raises(MilvusException) as info:
        client.search(fresh, [[0.1] * DIM], anns_field="nope")
    assert (
        "failed to create query plan: failed to get field schema by name: fieldName(nope) not found"
    ) in info.value.message
