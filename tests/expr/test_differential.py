"""Several hundred expressions, each checked row by row against the reference evaluator."""

from __future__ import annotations

import random

import numpy as np
import pytest
from expr_data import make_rows, schema, to_columns
from expr_reference import evaluate_rows

from elanus.expr import ArrowColumnSource, compile_filter, parse

ATOMS = [
    # comparisons on every scalar type
    "i8 > 0",
    "i8 >= -5",
    "i8 < 100",
    "i8 <= 127",
    "i8 == 3",
    "i8 != 3",
    "i8 > 1000",
    "i8 < -1000",
    "i32 > 10",
    "i32 == 0",
    "i32 != 0",
    "-10 < i32 < 10",
    "-10 <= i32 <= 10",
    "10 > i32 >= -3",
    "i64 > 5",
    "i64 < 1000000",
    "i64 == -4",
    "i64 != 7",
    "i64 >= 500000000000",
    "5 < i64",
    "f > 2.5",
    "f <= -1.25",
    "f == 0.0",
    "f != 1.5",
    "f > 2",
    "f < i32",
    "d > 1",
    "d < 0.125",
    "d == 0",
    "d >= f",
    "d != d",
    "b == true",
    "b == false",
    "b != true",
    "b == True",
    "b != False",
    's == "apple"',
    's != "apple"',
    's > "banana"',
    's <= "b"',
    "s == ''",
    's < "Ápfel"',
    '"a" < s < "c"',
    # in / not in
    "i8 in [1, 2, 3]",
    "i8 not in [1, 2, 3]",
    "i32 in []",
    "i32 not in []",
    "i64 in [-4, 0, 4, 2.0]",
    "f in [0.5, 1.5, -2.25]",
    's in ["apple", "berry", "z"]',
    's not in ["apple"]',
    "b in [true]",
    "id in [0, 3, 6, 30, 9999]",
    "id == 3",
    "id not in [0, 3]",
    # like
    's like "a%"',
    's like "%y"',
    's like "%an%"',
    's like "a_b"',
    r's like "a\%b"',
    r's like "a\_b"',
    's like "_"',
    's like ""',
    's like "%"',
    'not (s like "b%")',
    # arithmetic
    "i32 + 5 > 10",
    "i32 - 5 == 0",
    "i32 * 2 < -20",
    "i32 / 3 == 2",
    "i32 / 3 == -2",
    "i32 % 4 == 1",
    "i32 % 4 == -1",
    "i8 % 2 == 0",
    "f * 2 >= 5",
    "f / 2 > 1",
    "i32 ** 2 > 100",
    "-i32 > 5",
    "i32 * 2 + 1 in [1, 3, 5]",
    "(i32 + 1) * 2 == 4",
    "i64 / 0.5 > 10",
    "2 * i32 > 7",
    # null handling
    "i8 is null",
    "i8 is not null",
    "d is null",
    "s IS NULL",
    "s IS NOT NULL",
    "b is null",
    "meta is null",
    "meta is not null",
    "words is null",
    "ts is null",
    "geo is not null",
    "not (i8 > 0)",
    "not (i8 != 5)",
    "not (i8 is null)",
    # JSON field
    'meta["k"] == 1',
    'meta["k"] > 0',
    'meta["k"] < 2.5',
    'meta["k"] == "apple"',
    'meta["k"] != "apple"',
    'meta["k"] == true',
    'meta["k"] != true',
    'meta["k"] >= "b"',
    'meta["n"] > 3',
    'meta["n"] != 0',
    'meta["n"] in [1, 2, 3]',
    'meta["n"] not in [1, 2, 3]',
    'meta["k"] in ["apple", 1, true]',
    'meta["nested"]["a"] == 2',
    'meta["nested"]["b"] like "b%"',
    'meta["arr"][0] == 1',
    'meta["arr"][1] == "x"',
    'meta["k"] like "a%"',
    'meta["missing"] == 1',
    'meta["missing"] != 1',
    'meta["n"] + 1 > 5',
    'meta["n"] * 2 == 4',
    'exists meta["k"]',
    'exists meta["nested"]["a"]',
    'not exists meta["arr"]',
    'meta["k"] is null',
    'meta["k"] is not null',
    '0 < meta["n"] < 5',
    'meta["n"] % 3 == 0',
    'json_contains(meta["arr"], 1)',
    'json_contains(meta["arr"], "x")',
    'json_contains(meta["arr"], true)',
    'json_contains(meta["k"], 2)',
    'json_contains_all(meta["arr"], [1, 2])',
    'json_contains_any(meta["arr"], [3, "x"])',
    'JSON_CONTAINS(meta["arr"], 2.5)',
    'json_contains_all(meta["arr"], [])',
    'json_contains_any(meta["arr"], [])',
    'array_length(meta["arr"]) == 2',
    'array_length(meta["arr"]) > 0',
    'array_length(meta["k"]) >= 1',
    # dynamic field
    'color == "red"',
    'color != "red"',
    'color in ["red", "blue"]',
    "color == 1",
    "color == true",
    "x > 0",
    "x <= -1",
    '$meta["x"] == 2',
    '$meta["color"] like "%e%"',
    "exists color",
    'exists $meta["x"]',
    "color is null",
    "x is not null",
    "x + 1 == 0",
    "not (x > 0)",
    # arrays
    "array_contains(tags, 3)",
    "array_contains(tags, 99)",
    "array_contains_all(tags, [1, 2])",
    "array_contains_any(tags, [5, 6])",
    "ARRAY_CONTAINS(tags, 0)",
    "array_length(tags) == 0",
    "array_length(tags) > 2",
    "tags[0] == 1",
    "tags[1] > 2",
    "tags[3] >= 0",
    "tags[0] in [1, 2]",
    'array_contains(words, "apple")',
    'array_contains_any(words, ["berry", "cherry"])',
    'array_contains_all(words, ["apple", "banana"])',
    'words[0] == "apple"',
    'words[0] like "b%"',
    "array_length(words) == 1",
    "not array_contains(tags, 3)",
    'not array_contains(words, "apple")',
    # timestamps
    'ts > "1970-01-05T00:00:00Z"',
    "ts <= ISO '1970-01-03T00:00:00+00:00'",
    "ts == ISO '1970-01-02T00:00:00Z'",
    "ts != ISO '1970-01-02T00:00:00Z'",
    "ts + INTERVAL 'P1D' > ISO '1970-01-06T00:00:00Z'",
    "ts - INTERVAL 'PT3H' < ISO '1970-01-02T00:00:00Z'",
    "ts + INTERVAL 'P1DT2H' >= ISO '1970-01-04T02:00:00Z'",
    'ts in ["1970-01-02T00:00:00Z", "1970-01-03T01:00:00Z"]',
    "ts > '1970-01-04T08:00:00+08:00'",
    "ts + INTERVAL 'P1M' > ISO '1970-02-05T00:00:00Z'",
    # geometry
    "ST_INTERSECTS(geo, 'POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))')",
    "st_within(geo, 'POLYGON((0 0, 3 0, 3 3, 0 3, 0 0))')",
    "ST_CONTAINS(geo, 'POINT(1.5 1.5)')",
    "ST_EQUALS(geo, 'POINT(1 1)')",
    "ST_TOUCHES(geo, 'POINT(2 2)')",
    "ST_OVERLAPS(geo, 'POLYGON((0.5 0.5, 1.5 0.5, 1.5 1.5, 0.5 1.5, 0.5 0.5))')",
    "ST_CROSSES(geo, 'LINESTRING(0 0.5, 5 0.5)')",
    "ST_DWITHIN(geo, 'POINT(0 0)', 200000)",
    "ST_ISVALID(geo)",
    "not ST_INTERSECTS(geo, 'POINT(1 1)')",
    # templates
    "i32 > {lo}",
    "i32 in {ids}",
    "s == {word}",
    'meta["n"] < {lo}',
    "{lo} < i32 < {hi}",
    "f > {ratio}",
    # constant predicates and folding
    "true",
    "false",
    "i32 > 2 * 3",
    "i32 > -(2 + 3)",
    "i32 > 0x0a",
    "i32 < 0b101",
    "i32 > 1e1",
    "i32 > 7 / 2",
    "i32 % 5 == 7 % 5",
    # logic
    "i8 > 0 and i32 > 0",
    "i8 > 0 && i32 > 0",
    "i8 > 0 or i32 > 0",
    "i8 > 0 || i32 > 0",
    "not i8 > 0",
    "!(i8 > 0)",
    "not (i8 > 0 and s == 'apple')",
    "not (i8 > 0 or s == 'apple')",
    "i8 > 0 and not (d < 0)",
    "(i8 > 0 or d > 0) and not (b == true)",
    "i8 > 0 or i32 > 0 and s like 'a%'",
    "not not (i8 == 3)",
    "NOT (meta['n'] > 3 AND color == 'red')",
    "i8 > 0 AND i32 > 0 OR b == true",
    "id in [0, 3] or id == 6",
]

PARAMS = {"lo": 3, "hi": 30, "ids": [1, 2, 3, 4, 5], "word": "berry", "ratio": 1.5}
COMBINATORS = [
    "({}) and ({})",
    "({}) or ({})",
    "not (({}) and ({}))",
    "not (({}) or ({}))",
    "({}) and not ({})",
]


def _combined(count: int) -> list[str]:
    rng = random.Random(11)
    out = []
    for _ in range(count):
        a, b = rng.sample(ATOMS, 2)
        out.append(rng.choice(COMBINATORS).format(a, b))
    return out


EXPRESSIONS = ATOMS + _combined(250)
ROWS = make_rows(240)
SOURCE = ArrowColumnSource(to_columns(ROWS))


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_matches_reference(expression: str) -> None:
    plan = compile_filter(expression, schema(), PARAMS)
    got = plan.evaluate(SOURCE)
    assert got.dtype == np.bool_ and got.shape == (len(ROWS),)
    want = evaluate_rows(parse(expression), schema(), ROWS, PARAMS)
    bad = [i for i in range(len(ROWS)) if bool(got[i]) != want[i]]
    assert not bad, f"{expression}: rows {bad[:5]} differ, e.g. {ROWS[bad[0]]}"


def test_suite_is_large_and_selective() -> None:
    assert len(EXPRESSIONS) >= 400
    plan = compile_filter("i8 > 0", schema())
    hits = plan.evaluate(SOURCE).sum()
    assert 0 < hits < len(ROWS)
