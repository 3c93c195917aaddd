"""Schema validation follows Milvus's rules, limits and messages."""

from __future__ import annotations

from typing import Any

import pytest

from elanus.errors import SchemaError
from elanus.schema import CollectionSchema, DataType, FieldSchema, FunctionSchema, FunctionType
from elanus.schema.validate import validate_name, validate_schema

PK = FieldSchema("id", DataType.INT64, is_primary=True)
VEC = FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 8})


def schema(*fields: FieldSchema, functions: tuple[FunctionSchema, ...] = ()) -> CollectionSchema:
    return CollectionSchema(fields=fields, functions=functions)


def test_field_ids_start_at_100_in_order() -> None:
    out = validate_schema(schema(PK, VEC, FieldSchema("n", DataType.INT32)))
    assert [f.field_id for f in out.fields] == [100, 101, 102]


@pytest.mark.parametrize(
    ("kind", "name", "message"),
    [
        ("collection", "", "collection name should not be empty"),
        (
            "collection",
            "1abc",
            "the first character of a collection name must be an underscore or letter",
        ),
        ("collection", "a-b", "collection name can only contain numbers, letters and underscores"),
        ("collection", "a" * 256, "must be less than 255 characters"),
        (
            "alias",
            "9x",
            "the first character of a collection alias must be an underscore or letter",
        ),
        ("database", "", "database name couldn't be empty"),
        ("database", "d b", "database name can only contain numbers, letters and underscores"),
        ("field", "", "field name should not be empty"),
        ("field", "1x", "The first character of a field name must be an underscore or letter."),
        ("field", "a.b", "Field name can only contain numbers, letters, and underscores."),
        ("field", "like", "like is keyword in milvus."),
        ("field", "é", "The first character of a field name must be an underscore or letter."),
        ("partition", "", "Partition name should not be empty."),
        ("partition", "p$", "Partition name can only contain numbers, letters and underscores."),
    ],
)
def test_bad_names(kind: str, name: str, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        validate_name(kind, name)
    assert message in info.value.message
    # Milvus gives database names their own code.
    assert info.value.code == (802 if kind == "database" else 1100)


@pytest.mark.parametrize("name", ["abc", "_x", "A1_b", "a" * 255])
def test_good_names(name: str) -> None:
    for kind in ("collection", "alias", "database", "field", "partition"):
        assert validate_name(kind, name) == name


BAD: list[tuple[str, tuple[FieldSchema, ...], str]] = [
    ("no pk", (VEC,), "primary key is not specified"),
    (
        "two pks",
        (PK, FieldSchema("id2", DataType.INT64, is_primary=True), VEC),
        "there are more than one primary key, field name = id, id2",
    ),
    (
        "float pk",
        (FieldSchema("id", DataType.FLOAT, is_primary=True), VEC),
        "should be Int64 or VarChar",
    ),
    (
        "varchar pk without max_length",
        (FieldSchema("id", DataType.VARCHAR, is_primary=True), VEC),
        "type param(max_length) should be specified for the field(id)",
    ),
    ("no vector", (PK,), "schema does not contain vector field"),
    ("dim missing", (PK, FieldSchema("v", DataType.FLOAT_VECTOR)), "dimension is not defined"),
    (
        "dim 1",
        (PK, FieldSchema("v", DataType.FLOAT_VECTOR, params={"dim": 1})),
        "invalid dimension: 1. should be in range 2 ~ 32768",
    ),
    (
        "dim too big",
        (PK, FieldSchema("v", DataType.FLOAT16_VECTOR, params={"dim": 32769})),
        "float vector dimension should be in range 2 ~ 32768",
    ),
    (
        "binary dim not multiple of 8",
        (PK, FieldSchema("v", DataType.BINARY_VECTOR, params={"dim": 10})),
        "binary vector dimension should be multiple of 8",
    ),
    (
        "sparse with dim",
        (PK, FieldSchema("v", DataType.SPARSE_FLOAT_VECTOR, params={"dim": 8})),
        "dim should not be specified for sparse vector field",
    ),
    (
        "varchar too long",
        (PK, VEC, FieldSchema("s", DataType.VARCHAR, params={"max_length": 65536})),
        "should be in (0, 65535], but got 65536",
    ),
    (
        "array without capacity",
        (PK, VEC, FieldSchema("a", DataType.ARRAY, element_type=DataType.INT64)),
        "type param(max_capacity) should be specified for array field a",
    ),
    (
        "array capacity too big",
        (
            PK,
            VEC,
            FieldSchema(
                "a", DataType.ARRAY, element_type=DataType.INT64, params={"max_capacity": 4097}
            ),
        ),
        "the maximum capacity specified for a Array should be in (0, 4096]",
    ),
    (
        "array of json",
        (
            PK,
            VEC,
            FieldSchema(
                "a", DataType.ARRAY, element_type=DataType.JSON, params={"max_capacity": 4}
            ),
        ),
        "element type JSON is not supported",
    ),
    ("duplicate", (PK, VEC, FieldSchema("vec", DataType.INT8)), "duplicated field name vec found"),
    (
        "nullable pk",
        (FieldSchema("id", DataType.INT64, is_primary=True, nullable=True), VEC),
        "primary field not support null",
    ),
    (
        "auto_id on non-pk",
        (PK, VEC, FieldSchema("n", DataType.INT64, auto_id=True)),
        "only primary field can speficy AutoID with true",
    ),
    (
        "default of wrong type",
        (PK, VEC, FieldSchema("n", DataType.INT32, default_value="x")),
        "type (default_value) of field (n) is not equal to the type(INT32) of field",
    ),
    (
        "vector default",
        (PK, FieldSchema("v", DataType.FLOAT_VECTOR, params={"dim": 4}, default_value=1)),
        "vector field not support default_value",
    ),
    (
        "two partition keys",
        (
            PK,
            VEC,
            FieldSchema("a", DataType.INT64, is_partition_key=True),
            FieldSchema("b", DataType.INT64, is_partition_key=True),
        ),
        "there are more than one partition key, field name = a, b",
    ),
    (
        "float partition key",
        (PK, VEC, FieldSchema("a", DataType.FLOAT, is_partition_key=True)),
        "the data type of partition key should be Int64 or VarChar",
    ),
    (
        "pk as partition key",
        (FieldSchema("id", DataType.INT64, is_primary=True, is_partition_key=True), VEC),
        "the partition key field must not be primary field",
    ),
    (
        "two clustering keys",
        (
            PK,
            VEC,
            FieldSchema("a", DataType.INT64, is_clustering_key=True),
            FieldSchema("b", DataType.INT64, is_clustering_key=True),
        ),
        "there are more than one clustering key",
    ),
    (
        "string type",
        (PK, VEC, FieldSchema("s", DataType.STRING)),
        "please use VarChar type instead",
    ),
    (
        "explicit dynamic",
        (PK, VEC, FieldSchema("d", DataType.JSON, is_dynamic=True)),
        "cannot explicitly set a field as a dynamic field",
    ),
    (
        "too many vectors",
        (PK,)
        + tuple(FieldSchema(f"v{i}", DataType.FLOAT_VECTOR, params={"dim": 2}) for i in range(11)),
        "maximum vector field's number should be limited to 10",
    ),
    (
        "too many fields",
        (PK, VEC) + tuple(FieldSchema(f"f{i}", DataType.INT8) for i in range(63)),
        "maximum field's number should be limited to 64",
    ),
]


@pytest.mark.parametrize(("case", "fields", "message"), BAD, ids=[c[0] for c in BAD])
def test_bad_schemas(case: str, fields: tuple[FieldSchema, ...], message: str) -> None:
    with pytest.raises(SchemaError) as info:
        validate_schema(schema(*fields))
    assert message in info.value.message, info.value.message


def test_every_type_accepted() -> None:
    fields = (
        FieldSchema(
            "pk", DataType.VARCHAR, is_primary=True, auto_id=True, params={"max_length": 64}
        ),
        FieldSchema("b", DataType.BOOL),
        FieldSchema("i8", DataType.INT8, nullable=True),
        FieldSchema("i16", DataType.INT16, default_value=3),
        FieldSchema("i32", DataType.INT32),
        FieldSchema("i64", DataType.INT64, is_partition_key=True),
        FieldSchema("f", DataType.FLOAT, default_value=1),
        FieldSchema("d", DataType.DOUBLE, is_clustering_key=True),
        FieldSchema("s", DataType.VARCHAR, params={"max_length": 10}, default_value="x"),
        FieldSchema("j", DataType.JSON, nullable=True, default_value={"a": 1}),
        FieldSchema(
            "a",
            DataType.ARRAY,
            element_type=DataType.VARCHAR,
            params={"max_capacity": 4, "max_length": 8},
        ),
        FieldSchema("ts", DataType.TIMESTAMPTZ, nullable=True),
        FieldSchema("g", DataType.GEOMETRY, nullable=True),
        FieldSchema("fv", DataType.FLOAT_VECTOR, params={"dim": 4}),
        FieldSchema("hv", DataType.FLOAT16_VECTOR, params={"dim": 4}),
        FieldSchema("bv", DataType.BFLOAT16_VECTOR, params={"dim": 4}),
        FieldSchema("iv", DataType.INT8_VECTOR, params={"dim": 4}),
    )
    out = validate_schema(schema(*fields))
    assert out.field("f").default_value == 1.0
    assert out.field("j").default_value == '{"a":1}'
    assert out.primary_field.name == "pk"


def _bm25(input_field: FieldSchema, output_field: FieldSchema) -> CollectionSchema:
    fn = FunctionSchema("bm", FunctionType.BM25, (input_field.name,), (output_field.name,))
    return schema(PK, input_field, output_field, functions=(fn,))


def test_bm25_marks_output() -> None:
    text = FieldSchema(
        "text", DataType.VARCHAR, params={"max_length": 100, "enable_analyzer": True}
    )
    out = validate_schema(_bm25(text, FieldSchema("sparse", DataType.SPARSE_FLOAT_VECTOR)))
    assert out.field("sparse").is_function_output
    assert not out.field("text").is_function_output


@pytest.mark.parametrize(
    ("text", "sparse", "message"),
    [
        (
            FieldSchema("text", DataType.VARCHAR, params={"max_length": 100}),
            FieldSchema("sparse", DataType.SPARSE_FLOAT_VECTOR),
            "must set enable_analyzer to true",
        ),
        (
            FieldSchema(
                "text", DataType.VARCHAR, params={"max_length": 100, "enable_analyzer": "true"}
            ),
            FieldSchema("sparse", DataType.FLOAT_VECTOR, params={"dim": 4}),
            "must be a SPARSE_FLOAT_VECTOR field",
        ),
        (
            FieldSchema("text", DataType.INT64),
            FieldSchema("sparse", DataType.SPARSE_FLOAT_VECTOR),
            "must be a VARCHAR field",
        ),
    ],
)
def test_bad_bm25(text: FieldSchema, sparse: FieldSchema, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        validate_schema(_bm25(text, sparse))


def test_function_with_unknown_field() -> None:
    fn = FunctionSchema("bm", FunctionType.BM25, ("nope",), ("vec",))
    with pytest.raises(SchemaError, match="function input field not found: nope"):
        validate_schema(schema(PK, VEC, functions=(fn,)))


def test_dynamic_meta_name_is_reserved() -> None:
    bad: Any = FieldSchema("$meta", DataType.JSON)
    with pytest.raises(SchemaError):
        validate_schema(schema(PK, VEC, bad))
