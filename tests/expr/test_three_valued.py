"""Milvus's three-valued filter logic: a missing JSON path, a JSON null or a value of
another kind is unknown, and neither it nor its negation matches; AND and OR follow
SQL's rules (a known false decides an AND, a true decides an OR)."""

from __future__ import annotations

import pyarrow as pa

from elanus.expr import ArrowColumnSource, compile_filter
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
