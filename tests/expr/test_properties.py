"""Random well-formed expressions always compile, evaluate and agree with the reference;
random garbage is always rejected with ExpressionError, never another exception."""

from __future__ import annotations

import numpy as np
from expr_data import make_rows, schema, to_columns
from expr_reference import evaluate_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elanus.errors import ExpressionError
from elanus.expr import ArrowColumnSource, compile_filter, parse

ROWS = make_rows(60, seed=3)
SOURCE = ArrowColumnSource(to_columns(ROWS))

ints = st.integers(min_value=-200, max_value=200).map(str)
floats = st.sampled_from(["0.5", "1.25", "-3.0", "2e1", ".5"])
strings = st.sampled_from(['"apple"', "'berry'", '"a%"', '""', '"Ápfel"'])
cmp_ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
eq_ops = st.sampled_from(["==", "!="])
int_fields = st.sampled_from(["i8", "i32", "i64", "id", "tags[0]", "array_length(tags)"])
num_fields = st.one_of(int_fields, st.sampled_from(["f", "d"]))
json_paths = st.sampled_from(
    ['meta["k"]', 'meta["n"]', 'meta["nested"]["a"]', "color", "x", '$meta["x"]', 'meta["arr"][0]']
)
arith_ops = st.sampled_from(["+", "-", "*"])


@st.composite
def numeric_term(draw: st.DrawFn) -> str:
    field = draw(num_fields)
    if draw(st.booleans()):
        return f"{field} {draw(arith_ops)} {draw(ints)}"
    return field


@st.composite
def leaf(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return f"{draw(numeric_term())} {draw(cmp_ops)} {draw(st.one_of(ints, floats))}"
    if kind == 1:
        items = draw(st.lists(ints, max_size=4))
        neg = draw(st.sampled_from(["in", "not in"]))
        return f"{draw(int_fields)} {neg} [{', '.join(items)}]"
    if kind == 2:
        return f"s {draw(cmp_ops)} {draw(strings)}"
    if kind == 3:
        return f"s like {draw(strings)}"
    if kind == 4:
        value = draw(st.one_of(ints, floats, strings, st.sampled_from(["true", "false"])))
        op = draw(eq_ops) if value in ("true", "false") else draw(cmp_ops)
        return f"{draw(json_paths)} {op} {value}"
    if kind == 5:
        field = draw(st.sampled_from(["i8", "d", "s", "b", "meta", "words", 'meta["k"]', "color"]))
        return f"{field} {draw(st.sampled_from(['is null', 'is not null']))}"
    if kind == 6:
        fn = draw(st.sampled_from(["array_contains", "json_contains"]))
        target = "tags" if fn == "array_contains" else 'meta["arr"]'
        return f"{fn}({target}, {draw(ints)})"
    if kind == 7:
        return f"b {draw(eq_ops)} {draw(st.sampled_from(['true', 'false']))}"
    if kind == 8:
        return f"exists {draw(json_paths)}"
    lo, hi = sorted([draw(ints), draw(ints)], key=int)
    return f"{lo} < {draw(num_fields)} <= {hi}"


def expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        leaf(),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or", "&&", "||", "AND", "OR"]), inner).map(
                lambda t: f"({t[0]}) {t[1]} ({t[2]})"
            ),
            inner.map(lambda e: f"not ({e})"),
            inner.map(lambda e: f"!({e})"),
        ),
        max_leaves=6,
    )


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(expressions())
def test_well_formed_expressions_evaluate_like_the_reference(expression: str) -> None:
    plan = compile_filter(expression, schema())
    got = plan.evaluate(SOURCE)
    assert got.dtype == np.bool_ and len(got) == len(ROWS)
    want = evaluate_rows(parse(expression), schema(), ROWS)
    assert got.tolist() == want, expression


ALPHABET = st.sampled_from(
    list("abcdijks_ 0123456789.\"'[](){}<>=!&|+-*/%$,#@^~\\\n")
    + [
        " and ",
        " or ",
        " not ",
        " in ",
        " like ",
        "meta",
        "tags",
        "json_contains(",
        "exists ",
        "is null",
        "ISO ",
        "INTERVAL ",
    ]
)


def _must_be_expression_error(text: str) -> None:
    try:
        plan = compile_filter(text, schema())
    except ExpressionError as err:
        assert err.code == 1100
        assert str(err).startswith(
            ("cannot parse expression", "predicate is not a boolean expression")
        )
        return
    plan.evaluate(SOURCE)  # it happened to be valid: then it must also run


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(ALPHABET, max_size=30).map("".join))
def test_random_garbage_gives_expression_error(text: str) -> None:
    _must_be_expression_error(text)


@settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(expressions(), st.data())
def test_mutated_expressions_give_expression_error(expression: str, data: st.DataObject) -> None:
    pos = data.draw(st.integers(0, len(expression)))
    cut = data.draw(st.integers(0, 3))
    insert = data.draw(st.sampled_from(["", "(", ")", '"', "[", "==", "and", "1", ","]))
    _must_be_expression_error(expression[:pos] + insert + expression[pos + cut :])
