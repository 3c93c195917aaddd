"""Milvus's three-valued filter logic: a missing JSON path, a JSON null or a value of
another kind is unknown, and neither it nor its negation matches; AND and OR follow
SQL's rules (a known false decides an AND, a true decides an OR). Also the literal
rules Milvus's client suite checks: raw strings and lone escapes in LIKE patterns,
and FLOAT fields compared at float32."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from elanus.errors import ExpressionError
from elanus.expr import ArrowColumnSource, compile_filter
from elanus.index.scalar import create_scalar_index
from elanus.schema import CollectionSchema, DataType, FieldSchema

SCHEMA = CollectionSchema(
    fields=(
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("j", DataType.JSON, nullable=True),
    )
)
# row: 0 null column, 1 {}, 2 a=null, 3 a="x", 4 a=2, 5 a=3
DOCS = [None, "{}", '{"a": null}', '{"a": "x"}', '{"a": 2}', '{"a": 3}']
SOURCE = ArrowColumnSource({"id": pa.array(range(6)), "j": pa.array(DOCS, pa.string())})


def rows(expr: str) -> list[int]:
    mask = compile_filter(expr, SCHEMA).evaluate(SOURCE)
    return [i for i, hit in enumerate(mask.tolist()) if hit]


def test_only_values_of_the_literals_kind_are_known() -> None:
    assert rows('j["a"] == 2') == [4]
    assert rows('j["a"] != 2') == [5]
    assert rows('j["a"] not in [2]') == [5]
    assert rows('not (j["a"] > 2)') == [4]
    assert rows('j["a"] != "x"') == []
    assert rows('not (j["a"] like "x%")') == []


def test_arithmetic_on_a_missing_path_is_unknown() -> None:
    assert rows('j["a"] + 1 != 3') == [5]
    assert rows('not (j["a"] + 1 > 3)') == [4]


def test_and_or_follow_three_valued_logic() -> None:
    assert rows('not (j["a"] > 100 and j["a"] < 50)') == [4, 5]
    assert rows('not (j["a"] == 2 or j["a"] == 3)') == []
    assert rows('not (j["a"] == 2 or j["b"] == 1)') == []
    assert rows('j["a"] == 2 or j["b"] == 1') == [4]


LIKE_SCHEMA = CollectionSchema(
    fields=(
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("v", DataType.VARCHAR, params={"max_length": 16}),
    )
)
WORDS = ["abc%def", "abc_def", "abcXdef", "xyzabc%"]
WORD_SOURCE = ArrowColumnSource({"id": pa.array(range(4)), "v": pa.array(WORDS)})


def words(expr: str) -> list[str]:
    mask = compile_filter(expr, LIKE_SCHEMA).evaluate(WORD_SOURCE)
    return [w for w, hit in zip(WORDS, mask.tolist(), strict=True) if hit]


def test_raw_string_keeps_like_escapes_verbatim() -> None:
    assert words(r'v like r"abc\%def"') == ["abc%def"]
    assert words(r"v like R'abc\_%'") == ["abc_def"]
    assert words(r'v like r"%abc\%%"') == ["abc%def", "xyzabc%"]
    assert words(r'v like "abc\\%def"') == ["abc%def"]  # the plain-string spelling
    assert words('v like "abc_def"') == ["abc%def", "abc_def", "abcXdef"]


@pytest.mark.parametrize("expr", [r'v like "abc\\"', r'v like "\\"', r'v like r"abc\"'])
def test_like_pattern_ending_in_a_lone_escape_is_refused(expr: str) -> None:
    with pytest.raises(ExpressionError):
        compile_filter(expr, LIKE_SCHEMA)


@pytest.mark.parametrize("index_type", [None, "INVERTED", "STL_SORT"])
def test_a_float_field_compares_with_its_literal_rounded_to_float32(
    index_type: str | None,
) -> None:
    field = FieldSchema("f", DataType.FLOAT)
    schema = CollectionSchema(fields=(FieldSchema("id", DataType.INT64, is_primary=True), field))
    literal = -542032.7544474776  # stored as float32 -542032.75
    columns = {"id": pa.array([0, 1]), "f": pa.array([literal, 1.0], type=pa.float32())}
    indexes = {}
    if index_type is not None:
        indexes["f"] = create_scalar_index(index_type, field, columns["f"], {})
    source = ArrowColumnSource(columns, indexes=indexes)

    def hits(expr: str) -> list[bool]:
        return compile_filter(expr, schema).evaluate(source).tolist()

    assert hits(f"f == {literal}") == [True, False]
    assert hits(f"f in [{literal}]") == [True, False]
    assert hits(f"f > {literal}") == [False, True]
    assert hits(f"f not in [{literal}]") == [False, True]


WORDING_SCHEMA = CollectionSchema(
    fields=(
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("n", DataType.INT64),
        FieldSchema("s", DataType.VARCHAR, params={"max_length": 8}),
        FieldSchema("j", DataType.JSON),
        FieldSchema("v", DataType.FLOAT_VECTOR, params={"dim": 2}),
        FieldSchema(
            "arr",
            DataType.ARRAY,
            element_type=DataType.INT64,
            params={"max_capacity": 4},
        ),
    )
)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("v is null", "IsNull/IsNotNull operations are not supported on vector fields"),
        ("v is not null", "IsNull/IsNotNull operations are not supported on vector fields"),
        ("arr[0] is null", "IsNull/IsNotNull operations are not supported on array element"),
        ('j["k"] < n', "two column comparison with JSON type is not supported"),
        ("s >= 0", "comparisons between VarChar and Int64 are not supported"),
        ("n + id == 1", "arithmetic between two fields is not supported"),
        ("n * 2 - id > 1", "arithmetic between two fields is not supported"),
        ('j["a"] + n > 1', "arithmetic between two fields is not supported"),
    ],
)
def test_refusals_are_worded_as_milvus_words_them(expr: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        compile_filter(expr, WORDING_SCHEMA)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("n", "predicate is not a boolean expression: n, data type: Int64"),
        ("12-n", "predicate is not a boolean expression: 12-n, data type: Int64"),
        ("b", "predicate is not a boolean expression: b, data type: Bool"),
        ("!b", "not op can only be applied on boolean expression"),
        ("n > 0 and b", "'and' can only be used between boolean expressions"),
    ],
)
def test_a_bare_value_is_not_a_predicate(expr: str, message: str) -> None:
    schema = CollectionSchema(
        fields=(*WORDING_SCHEMA.fields, FieldSchema("b", DataType.BOOL)),
    )
    with pytest.raises(ExpressionError, match=re.escape(message)):
        compile_filter(expr, schema)
    assert compile_filter("b == true and not (b != false)", schema) is not None
