"""Every filter input ends in a result or an ExpressionError: lone surrogates and
integers beyond int64 anywhere a value can stand are refused, and an expression's
size (characters, syntax-tree nodes) and nesting are capped, one nesting rule for
parentheses, ``not``, signs, arithmetic, lists and calls alike."""

from __future__ import annotations

from typing import Any

import pytest
from expr_data import SCHEMA, make_rows, to_columns

from elanus.errors import ExpressionError
from elanus.expr import ArrowColumnSource, clear_cache, compile_filter, parse
from elanus.expr import nodes as n
from elanus.expr.limits import MAX_DEPTH, MAX_EXPRESSION_LENGTH, MAX_NODES

SOURCE = ArrowColumnSource(to_columns(make_rows(40, seed=5)))
BIG = 2**70


def run(expression: str, params: dict[str, Any] | None = None) -> Any:
    clear_cache()
    return compile_filter(expression, SCHEMA, params).evaluate(SOURCE)


def refused(expression: str, params: dict[str, Any] | None = None) -> str:
    with pytest.raises(ExpressionError) as info:
        run(expression, params)
    return str(info.value)


# -- lone surrogates ----------------------------------------------------------------

SURROGATE_FILTERS = [
    's == "\ud800"',
    's == "\\ud800"',
    "s == '\\uDFFF'",
    's == "\\ud83d\\ude00"',
    's like "a\ud800%"',
    's in ["a", "\ud800"]',
    'color == "\ud800"',
    'meta["\ud800"] == 1',
    'meta["\\udc00"] == "x"',
    '$meta["\ud800"] == 1',
    "\ud800x == 1",
    'array_contains(words, "\ud800")',
    'json_contains(meta["arr"], "\\ud800")',
    'meta["k"] == "\ud800"',
]


@pytest.mark.parametrize("expression", SURROGATE_FILTERS)
def test_a_lone_surrogate_in_the_text_is_refused(expression: str) -> None:
    message = refused(expression)
    assert "surrogate" in message or "unexpected character" in message


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("s == {v}", "\ud800"),
        ('meta["k"] == {v}', "a\udfff"),
        ("color == {v}", "\ud800"),
        ("s in {v}", ["ok", "\ud800"]),
        ('json_contains(meta["arr"], {v})', "\ud800"),
        ("array_contains_any(words, {v})", ["\ud800"]),
        ('s like "a%" and s == {v}', "\ud800"),
    ],
)
def test_a_template_string_with_a_lone_surrogate_is_refused(expression: str, value: Any) -> None:
    assert "surrogate" in refused(expression, {"v": value})


def test_a_proper_unicode_escape_still_reads_as_its_character() -> None:
    clear_cache()
    plan = compile_filter('s == "\\u00c1pfel"', SCHEMA)
    assert plan.evaluate(SOURCE).dtype == bool


# -- integers beyond int64 ----------------------------------------------------------

OVERSIZED_TEMPLATES = [
    "tags[0] == {v}",
    'meta["k"] == {v}',
    'meta["nested"]["a"] > {v}',
    "color == {v}",
    '$meta["x"] < {v}',
    "i64 == {v}",
    "i64 > {v}",
    "{v} < i64 < 5",
    "i64 + {v} == 1",
    "i64 * {v} > 0",
    'meta["k"] + 1 == {v}',
    "array_length(tags) == {v}",
    "array_contains(tags, {v})",
    'json_contains(meta["arr"], {v})',
    "array_contains_any(tags, [{v}])",
]


@pytest.mark.parametrize("expression", OVERSIZED_TEMPLATES)
@pytest.mark.parametrize("value", [BIG, -BIG, 2**63])
def test_a_template_integer_beyond_int64_is_refused(expression: str, value: int) -> None:
    assert "out of the int64 range" in refused(expression, {"v": value})


@pytest.mark.parametrize(
    "expression",
    ["i64 in {v}", "tags[0] in {v}", 'meta["k"] in {v}', "color not in {v}"],
)
def test_a_template_list_with_an_integer_beyond_int64_is_refused(expression: str) -> None:
    assert "out of the int64 range" in refused(expression, {"v": [1, BIG]})


@pytest.mark.parametrize(
    "expression",
    [
        f"tags[0] == {BIG}",
        f'meta["k"] == {BIG}',
        f"color in [1, {BIG}]",
        f"i64 in [1, 2, {BIG}]",
        "9223372036854775807 + 1 == i64",
        "i64 + 4611686018427387904 * 4 > 1",
        "meta['k'] == -9223372036854775807 - 2",
        "i64 == --9223372036854775808",
        f'json_contains_any(meta["arr"], [1, {BIG}])',
    ],
)
def test_an_integer_literal_or_folded_constant_beyond_int64_is_refused(expression: str) -> None:
    assert "out of the int64 range" in refused(expression)


@pytest.mark.parametrize("expression", ["f == (-8.0) ** 0.5", "i64 > (0 - 2) ** -0.5 + 1"])
def test_a_constant_power_that_is_not_a_real_number_is_refused(expression: str) -> None:
    assert "is not a real number" in refused(expression)


@pytest.mark.parametrize("expression", ["i64 in [01]", "meta[01] == 1", "tags[007] > 1"])
def test_an_integer_with_a_leading_zero_is_refused(expression: str) -> None:
    assert "invalid integer literal" in refused(expression)


def test_int64_min_is_a_valid_literal() -> None:
    assert run("i64 > -9223372036854775808").dtype == bool
    assert run('meta["k"] >= -9223372036854775808').dtype == bool


@pytest.mark.parametrize("expression", ["f > 1e300", "f < -3.4e39", "f in [1e300]"])
def test_a_float_beyond_float32_compared_with_a_float_field_evaluates(expression: str) -> None:
    assert run(expression).dtype == bool


# -- size and nesting -----------------------------------------------------------------


def nested(form: str, depth: int) -> str:
    """An expression whose nesting is ``depth`` levels of one construct."""
    if form == "parens":
        return "(" * depth + "i64 == 1" + ")" * depth
    if form == "not":
        return "not " * depth + "i64 == 1"
    if form == "minus":
        return "i64 == " + "-" * depth + "1"
    if form == "plus_chain":
        return "i64" + " + 1" * depth + " == 1"
    if form == "power":
        return "i64 == " + "2 ** " * depth + "1"
    if form == "lists":
        return "json_contains(meta, " + "[" * depth + "1" + "]" * depth + ")"
    raise AssertionError(form)


FORMS = ["parens", "not", "minus", "plus_chain", "power", "lists"]


@pytest.mark.parametrize("form", FORMS)
def test_one_nesting_limit_applies_to_every_construct(form: str) -> None:
    message = refused(nested(form, MAX_DEPTH + 1))
    assert f"exceeds the maximum allowed depth {MAX_DEPTH}" in message


@pytest.mark.parametrize("form", FORMS)
def test_nesting_well_inside_the_limit_is_accepted(form: str) -> None:
    text = nested(form, MAX_DEPTH // 2 - 2)
    try:
        run(text)
    except ExpressionError as err:
        # Type errors are fine (a deep power is a float); the nesting limit is not.
        assert "maximum allowed depth" not in str(err)


@pytest.mark.parametrize("form", ["parens", "not", "minus", "lists"])
def test_nesting_far_past_the_limit_is_refused_before_it_is_built(form: str) -> None:
    # 16,000 unclosed levels would take seconds (and the stack) to build: the parser
    # stops at the limit, so the message names the depth, not the missing close.
    text = nested(form, 16_000)
    if form == "parens":
        text = "(" * 16_000
    with pytest.raises(ExpressionError, match="maximum allowed depth"):
        parse(text)


def count_nodes(node: object) -> int:
    """Nodes of a syntax tree as the limit counts them (a path's keys count too)."""
    if isinstance(node, n.Path):
        return 1 + len(node.keys)
    children: list[object] = []
    for name in ("operand", "left", "right", "value", "items"):
        child = getattr(node, name, None)
        if isinstance(child, tuple):
            children.extend(child)
        elif child is not None and not isinstance(child, (str, int, float, bool)):
            children.append(child)
    for name in ("operands", "args"):
        children.extend(getattr(node, name, ()))
    children.extend(v for _, v in getattr(node, "kwargs", ()))
    return 1 + sum(count_nodes(c) for c in children)


def test_a_long_flat_filter_is_not_nesting() -> None:
    text = " or ".join(f"i64 == {i}" for i in range(2_000))
    assert run(text).dtype == bool
    assert count_nodes(parse(text)) == 2_000 * 3 + 1


def test_a_filter_with_too_many_nodes_is_refused() -> None:
    terms = MAX_NODES // 3 + 1
    text = " or ".join(f"i64 == {i % 7}" for i in range(terms))
    message = refused(text)
    assert f"exceeds the maximum allowed {MAX_NODES} syntax-tree nodes" in message


def test_node_limit_counts_what_was_written() -> None:
    assert count_nodes(parse("i64 == 1")) == 3
    assert count_nodes(parse('meta["a"][0] == 1')) == 5
    assert count_nodes(parse("not (a > 1 and b < 2)")) == 8
    assert count_nodes(parse("a in [1, 2, 3]")) == 6


def test_a_long_constant_list_is_one_value_not_many_nodes() -> None:
    ids = ", ".join(str(i) for i in range(MAX_NODES + 10))
    assert run(f"id in [{ids}]").dtype == bool


def test_an_expression_longer_than_the_character_limit_is_refused() -> None:
    text = "i64 == 1 or " + " " * MAX_EXPRESSION_LENGTH + "i64 == 2"
    message = refused(text)
    assert f"exceeds the maximum allowed length {MAX_EXPRESSION_LENGTH}" in message


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000])
def test_deeply_nested_template_lists_are_refused(depth: int) -> None:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    message = refused('json_contains(meta["arr"], {v})', {"v": value})
    assert "maximum allowed depth" in message
