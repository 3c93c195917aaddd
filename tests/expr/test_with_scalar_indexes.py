"""Every scalar index type answers filter leaves with exactly the rows a scan selects."""

from __future__ import annotations

import pytest
from expr_data import make_rows, schema, to_columns
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_differential import ATOMS, PARAMS, _combined
from test_properties import expressions

from elanus.expr import ArrowColumnSource, ScalarIndex, compile_filter
from elanus.index.scalar import create_scalar_index

ROWS = make_rows(200, seed=19)
COLUMNS = to_columns(ROWS)
SCAN = ArrowColumnSource(COLUMNS)

PLANS = {
    "INVERTED": ["id", "i8", "i32", "i64", "f", "d", "b", "s", "ts"],
    "BITMAP": ["i8", "i32", "b", "s"],
    "STL_SORT": ["id", "i8", "i32", "i64", "f", "d", "s", "ts"],
    "TRIE": ["s"],
    "NGRAM": ["s"],
}
NGRAM_PARAMS = {"min_gram": 2, "max_gram": 3}
SCALAR_ATOMS = [
    a for a in ATOMS if not any(k in a for k in ("meta", "tags", "words", "geo", "color", "x "))
]
EXPRESSIONS = (
    SCALAR_ATOMS
    + _combined(120)
    + [
        's like "%an%"',
        's like "%rr%"',
        's like "ap%"',
        's like "b_n%"',
        's like "%"',
        's == ""',
        "f > 0.25 and f < 5",
        "d >= -1.5",
        "i32 in [-3, 0, 7, 1.5]",
        "i8 > 2.5",
        "i8 < 127.5",
    ]
)


def _source(index_type: str) -> ArrowColumnSource:
    indexes = {}
    for name in PLANS[index_type]:
        field = schema().get(name)
        assert field is not None
        params = NGRAM_PARAMS if index_type == "NGRAM" else {}
        indexes[name] = create_scalar_index(index_type, field, COLUMNS[name], params)
    return ArrowColumnSource(COLUMNS, indexes=indexes)


SOURCES = {t: _source(t) for t in PLANS}


def test_indexes_satisfy_the_protocol() -> None:
    for source in SOURCES.values():
        for name in ("s",):
            index = source.scalar_index(name)
            if index is not None:
                assert isinstance(index, ScalarIndex)


@pytest.mark.parametrize("index_type", sorted(PLANS))
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_indexed_results_equal_scan(index_type: str, expression: str) -> None:
    plan = compile_filter(expression, schema(), PARAMS)
    assert plan.evaluate(SOURCES[index_type]).tolist() == plan.evaluate(SCAN).tolist()


@settings(
    max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(expressions(), st.sampled_from(sorted(PLANS)))
def test_random_expressions_agree_with_and_without_indexes(
    expression: str, index_type: str
) -> None:
    plan = compile_filter(expression, schema())
    assert plan.evaluate(SOURCES[index_type]).tolist() == plan.evaluate(SCAN).tolist()
