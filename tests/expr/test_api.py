"""compile_filter's contract: errors, plan facts, caching, hooks and index leaves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from expr_data import make_rows, schema, to_columns

from elanus.errors import ExpressionError, NotSupportedError
from elanus.expr import ArrowColumnSource, FilterPlan, ScalarIndex, compile_filter, parse
from elanus.expr import plan as plan_module
from elanus.schema import CollectionSchema, DataType, FieldSchema

ROWS = make_rows(120, seed=5)
COLUMNS = to_columns(ROWS)
SOURCE = ArrowColumnSource(COLUMNS)


@pytest.mark.parametrize(
    ("expression", "message", "position"),
    [
        ('i32 > "x"', "comparisons between Int64 and VarChar are not supported", 0),
        ("s > 3", "comparisons between VarChar and Int64 are not supported", 0),
        ("json_contains(tags)", "takes 2 arguments, got 1", 0),
        ("array_length(tags, 1) > 0", "takes 1 arguments, got 2", 0),
        ('s == "abc', "unterminated string literal", 5),
        ("i32 > ", "unexpected end of expression", 6),
        ("i32 >> 1", "unexpected '>'", 5),
        ("vec > 1", "vector field vec cannot be used", 0),
        ("i32 > {missing}", "template variable name {missing} is not found", 6),
        ("i32 / 0 > 1", "division by zero", 0),
        ("f % 2 == 1", "modulo can only apply on integers", 0),
        ("b > true", "bool values support only == and !=", 0),
        ("i32 in 5", "in / not in takes a list", 7),
        ("1 < i32 > 5", "a range must use", 0),
        ("i32 > 99999999999999999999", "out of the int64 range", 6),
        ("unknown_fn(i32)", "function unknown_fn is not supported", 0),
        ("Json_Contains(tags, 1)", "all lowercase or all uppercase", 0),
        ("text_match(s, 'x')", "field s does not enable match", 0),
        ("ST_CONTAINS(s, 'POINT(0 0)')", "takes a GEOMETRY field", 0),
        ("ST_CONTAINS(geo, 'POINT(0 0')", "invalid WKT", 17),
        ("ST_CONTAINS(geo, 'POINT(1e999 0)')", "coordinates must be finite", 17),
        ("tags[99999999999] == 1", "array index 99999999999 is out of range", 0),
        ("ts > 'yesterday'", "invalid ISO-8601 timestamp", 0),
        ("ts + INTERVAL 'P1X' > ISO '2025-01-01T00:00:00Z'", "invalid ISO-8601 duration", 5),
        ("tags > 1", "comparisons between Array and Int64 are not supported", 0),
        ("1 == 1", "a comparison needs at least one field", 0),
        ("", "empty expression", None),
    ],
)
def test_errors_quote_expression_and_position(
    expression: str, message: str, position: int | None
) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_filter(expression, schema(), {})
    err = info.value
    assert err.code == 1100
    assert message in str(err)
    assert str(err).startswith("cannot parse expression")
    assert err.expression == expression
    assert err.position == position
    if expression:
        assert repr(expression) in str(err)


def test_unknown_name_without_dynamic_field() -> None:
    plain = CollectionSchema(fields=(FieldSchema("id", DataType.INT64, is_primary=True),))
    with pytest.raises(ExpressionError, match="field color not exist") as info:
        compile_filter('id > 1 and color == "red"', plain)
    assert info.value.position == 11
    with pytest.raises(ExpressionError, match="dynamic field is not enabled"):
        compile_filter('$meta["color"] == "red"', plain)


def test_plan_facts() -> None:
    plan = compile_filter('i32 > 5 and color == "red" and meta["k"] == 1', schema())
    assert isinstance(plan, FilterPlan)
    assert plan.expression == 'i32 > 5 and color == "red" and meta["k"] == 1'
    assert plan.fields == frozenset({"i32", "$meta", "meta"})
    assert plan.primary_keys is None


@pytest.mark.parametrize(
    ("expression", "keys"),
    [
        ("id in [3, 1, 3]", (3, 1)),
        ("id == 7", (7,)),
        ("7 == id", (7,)),
        ("id == 1 or id in [2, 3] || id == 4", (1, 2, 3, 4)),
        ("id in {ids}", (5, 6)),
        ("id in []", ()),
        ("id > 3", None),
        ("id in [1] and i32 > 0", None),
        ("id not in [1]", None),
        ("id == 1 or i32 == 1", None),
        ("i32 in [1]", None),
    ],
)
def test_primary_key_lookups_are_recognised(expression: str, keys: tuple[Any, ...] | None) -> None:
    assert compile_filter(expression, schema(), {"ids": [5, 6]}).primary_keys == keys


def test_varchar_primary_keys() -> None:
    s = CollectionSchema(fields=(FieldSchema("pk", DataType.VARCHAR, is_primary=True),))
    assert compile_filter('pk in ["a", "b"]', s).primary_keys == ("a", "b")


def test_plans_are_cached_by_text_schema_and_params(monkeypatch: pytest.MonkeyPatch) -> None:
    plan_module.clear_cache()
    calls: list[str] = []
    real = plan_module.parse

    def counting(text: str) -> Any:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(plan_module, "parse", counting)
    first = compile_filter("i32 > {lo}", schema(), {"lo": 1})
    assert compile_filter("i32 > {lo}", schema(), {"lo": 1}) is first
    other = compile_filter("i32 > {lo}", schema(), {"lo": 2})
    assert other is not first
    assert calls == ["i32 > {lo}"]  # parsed once, checked per parameter set
    copy = CollectionSchema(fields=schema().fields, enable_dynamic_field=True)
    assert compile_filter("i32 > {lo}", copy, {"lo": 1}) is not first


def test_template_parameters() -> None:
    got = compile_filter(
        "i32 > {lo} and s in {words} and f < {top}",
        schema(),
        {"lo": np.int64(-5), "words": ("apple", "berry"), "top": 3.5},
    ).evaluate(SOURCE)
    want = [r["i32"] > -5 and r["s"] in ("apple", "berry") and r["f"] < 3.5 for r in ROWS]
    assert got.tolist() == want
    with pytest.raises(ExpressionError, match="unsupported template parameter type"):
        compile_filter("i32 > {lo}", schema(), {"lo": object()})


def test_null_semantics_follow_milvus() -> None:
    cols = {"id": pa.array([1, 2, 3]), "a": pa.array([1, None, 3], pa.int64())}
    s = CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("a", DataType.INT64, nullable=True),
            FieldSchema("c", DataType.INT64),
        )
    )
    cols["c"] = pa.array([2, 2, 2])
    src = ArrowColumnSource(cols)

    def run(e: str) -> list[int]:
        return compile_filter(e, s).evaluate(src).astype(int).tolist()

    assert run("a != 1") == [0, 0, 1]
    assert run("not (a == 1)") == [0, 0, 1]
    assert run("a is null") == [0, 1, 0]
    # three-valued logic: unknown and true is unknown, and its negation is unknown too
    assert run("not (a == 1 and c == 2)") == [0, 0, 1]
    # a known false decides an AND, a true decides an OR, whatever is unknown
    assert run("not (a == 2 and c == 3)") == [1, 1, 1]
    assert run("not (a == 1 or c == 2)") == [0, 0, 0]
    assert run("not (a == 1 or c == 3)") == [0, 0, 1]
    assert run("not (a == 1 or a == 3)") == [0, 0, 0]


def test_text_match_hooks() -> None:
    fields = (
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema(
            "body",
            DataType.VARCHAR,
            params={"max_length": 100, "enable_analyzer": True, "enable_match": True},
        ),
    )
    s = CollectionSchema(fields=fields)
    cols = {"id": pa.array([1, 2, 3]), "body": pa.array(["a b", "b c", "c d"])}

    class WithText(ArrowColumnSource):
        def text_match(self, field: str, query: str) -> np.ndarray | None:
            return np.array([query in t for t in cols[field].to_pylist()])

        def phrase_match(self, field: str, query: str, slop: int) -> np.ndarray | None:
            return (
                np.array([t.startswith(query) for t in cols[field].to_pylist()])
                if slop == 2
                else None
            )

    plan = compile_filter("text_match(body, 'b') and not phrase_match(body, 'a', 2)", s)
    assert plan.evaluate(WithText(cols)).tolist() == [False, True, False]
    with pytest.raises(NotSupportedError, match="requires an analyzer-enabled field"):
        plan.evaluate(ArrowColumnSource(cols))
    with pytest.raises(ExpressionError, match="slop must be a non-negative integer"):
        compile_filter("phrase_match(body, 'a', -1)", s)


class _SortedIndex:
    """A minimal index satisfying the protocol, to prove leaves are routed to it."""

    def __init__(self, column: pa.Array) -> None:
        self.values = column.to_pylist()
        self.asked: list[str] = []

    def _mask(self, keep: Any) -> np.ndarray:
        return np.array([v is not None and keep(v) for v in self.values], dtype=bool)

    def equal(self, values: Sequence[Any]) -> np.ndarray | None:
        self.asked.append("equal")
        return self._mask(lambda v: v in values)

    def range(
        self, lower: Any, lower_inclusive: bool, upper: Any, upper_inclusive: bool
    ) -> np.ndarray | None:
        self.asked.append("range")

        def keep(v: Any) -> bool:
            if lower is not None and (v < lower or (v == lower and not lower_inclusive)):
                return False
            return not (upper is not None and (v > upper or (v == upper and not upper_inclusive)))

        return self._mask(keep)

    def like(self, pattern: str) -> np.ndarray | None:
        self.asked.append("like")
        return None  # cannot answer: the evaluator must scan

    def is_null(self) -> np.ndarray:
        return np.array([v is None for v in self.values], dtype=bool)


@pytest.mark.parametrize(
    "expression",
    [
        "i8 > 3",
        "i8 <= -3",
        "i8 == 5",
        "i8 != 5",
        "i8 in [1, 2, 3]",
        "i8 not in [1, 2, 3]",
        "i8 is null",
        "not (i8 > 3) or i8 is not null",
        "-5 < i8 < 50",
        's like "a%"',
        's >= "b" and s != "cherry"',
    ],
)
def test_index_leaves_match_scans(expression: str) -> None:
    indexes = {"i8": _SortedIndex(COLUMNS["i8"]), "s": _SortedIndex(COLUMNS["s"])}
    assert all(isinstance(i, ScalarIndex) for i in indexes.values())
    indexed = ArrowColumnSource(COLUMNS, indexes=indexes)
    plan = compile_filter(expression, schema())
    assert plan.evaluate(indexed).tolist() == plan.evaluate(SOURCE).tolist()
    assert any(i.asked for i in indexes.values()) or "null" in expression


def test_json_columns_are_parsed_once_per_column() -> None:
    from elanus.expr import jsonvalues

    arr = pa.array(['{"k": 1}', '{"k": 2}'] * 10)
    src = ArrowColumnSource({"id": pa.array(range(20)), "meta": arr})
    plan = compile_filter('meta["k"] == 1', schema())
    parses: list[int] = []
    real = jsonvalues._parse_column

    def counting(column: pa.Array) -> list[Any]:
        parses.append(len(column))
        return real(column)

    jsonvalues._parse_column = counting  # type: ignore[assignment]
    try:
        first = plan.evaluate(src)
        again = compile_filter('meta["k"] > 1 and meta["k"] < 5', schema()).evaluate(src)
        assert plan.evaluate(src).tolist() == first.tolist() == [True, False] * 10
        assert again.tolist() == [False, True] * 10
    finally:
        jsonvalues._parse_column = real  # type: ignore[assignment]
    assert parses == [20]
    entry = jsonvalues.column_cache.entries[jsonvalues.column_cache.key(arr)]
    assert ("json-path", ("k",)) in entry[1]


def test_syntax_tree_keeps_positions() -> None:
    tree = parse('a > 1 and meta["x"][0] in [1, 2]')
    right = tree.operands[1]  # type: ignore[union-attr]
    assert right.pos == 10
    assert right.value.keys == ("x", 0)
    assert right.items.items[1].pos == 30


def test_or_of_equalities_becomes_one_set_lookup() -> None:
    from elanus.expr import ir

    plan = compile_filter(
        'i32 == 1 or i32 in [2, 1] or meta["k"] == 1 or meta["k"] == true', schema()
    )
    assert isinstance(plan.predicate, ir.AnyOf)
    sets = [c for c in plan.predicate.children if isinstance(c, ir.InSet)]
    assert [s.values for s in sets] == [(1, 2), (1, True)]
    want = [
        r["i32"] in (1, 2)
        or (
            isinstance(r["meta"], dict)
            and "k" in r["meta"]
            and type(r["meta"]["k"]) in (int, bool)
            and r["meta"]["k"] in (1, True)
            and (r["meta"]["k"] is True or type(r["meta"]["k"]) is int)
        )
        for r in ROWS
    ]
    assert plan.evaluate(SOURCE).tolist() == want


def test_public_surface_is_pinned() -> None:
    import elanus.expr
    import elanus.index.scalar

    assert set(elanus.expr.__all__) == {
        "ArrowColumnSource",
        "ColumnSource",
        "ContainsIndex",
        "FilterPlan",
        "ScalarIndex",
        "SpatialIndex",
        "clear_cache",
        "compile_filter",
        "index_key",
        "parse",
        "parse_json_path",
    }
    assert set(elanus.index.scalar.__all__) == {
        "JSON_CAST_TYPES",
        "SCALAR_INDEX_TYPES",
        "ArrayIndex",
        "BitmapIndex",
        "InvertedIndex",
        "JsonPathIndex",
        "NgramIndex",
        "RTreeIndex",
        "ScalarIndexObject",
        "SortIndex",
        "TrieIndex",
        "create_scalar_index",
        "is_scalar_index_dir",
        "json_cast_arrow_type",
        "load_scalar_index",
        "validate_scalar_index",
    }


def test_json_integers_compare_exactly() -> None:
    s = CollectionSchema(
        fields=(FieldSchema("id", DataType.INT64, is_primary=True), FieldSchema("m", DataType.JSON))
    )
    docs = ['{"k": 9007199254740993}', '{"k": 9007199254740992}', '{"k": "9007199254740993"}']
    src = ArrowColumnSource({"id": pa.array([1, 2, 3]), "m": pa.array(docs)})

    def run(e: str) -> list[bool]:
        return compile_filter(e, s).evaluate(src).tolist()

    assert run('m["k"] == 9007199254740993') == [True, False, False]
    assert run('m["k"] in [9007199254740993]') == [True, False, False]
    assert run('m["k"] > 9007199254740992') == [True, False, False]
    # a string never compares with a number: unknown, so != does not match it either
    assert run('m["k"] != 9007199254740993') == [False, True, False]


@pytest.mark.parametrize("wkt", ["POINT EMPTY", "GEOMETRYCOLLECTION EMPTY"])
def test_empty_query_geometries_match_nothing(wkt: str) -> None:
    for op in ("ST_INTERSECTS", "ST_CONTAINS", "ST_WITHIN", "ST_EQUALS"):
        assert not compile_filter(f"{op}(geo, '{wkt}')", schema()).evaluate(SOURCE).any()
    assert not compile_filter(f"ST_DWITHIN(geo, '{wkt}', 1e9)", schema()).evaluate(SOURCE).any()
