"""Random filter texts and template values, and the one rule every filter input obeys:
it compiles and evaluates to a row mask, or it raises an ``ElanusError``.

The generators take a ``random.Random``: the test suite hands them hypothesis's
(shrinkable) one, ``scripts/fuzz.py`` a seeded one or one fed by atheris's bytes.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
from expr_data import SCHEMA, make_rows, to_columns

from elanus.errors import ElanusError
from elanus.expr import ArrowColumnSource, compile_filter
from elanus.index.scalar import create_scalar_index

__all__ = ["SOURCES", "check_filter", "filter_text", "mutate", "template_values"]

_ROWS = make_rows(48, seed=11)
_COLUMNS = to_columns(_ROWS)
_INDEXED = {
    name: create_scalar_index("INVERTED", SCHEMA.field(name), _COLUMNS[name], {})
    for name in ("id", "i32", "i64", "s", "b")
}
SOURCES = (ArrowColumnSource(_COLUMNS), ArrowColumnSource(_COLUMNS, indexes=_INDEXED))

FIELDS = [f.name for f in SCHEMA.fields] + ["color", "x", "nope", "$meta", "vec", "_x1"]
JSON_TARGETS = ['meta["k"]', 'meta["arr"]', 'meta["nested"]["a"]', '$meta["x"]', "meta[0]"]
ELEMENTS = ["tags[0]", "tags[7]", "words[1]", "tags[2147483648]", "i64[0]"]
INTS = [
    "0",
    "1",
    "-1",
    "7",
    "127",
    "128",
    "-129",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551616",
    "1180591620717411303424",
    "0x7f",
    "0b101",
    "0o17",
    "01",
]
FLOATS = ["0.5", "-2.25", "1e300", "1e400", "-1e400", ".5", "3.", "1e-320", "3.4e38", "3.5e38"]
STRINGS = [
    '"apple"',
    "'berry'",
    '""',
    '"a%"',
    '"%an%"',
    r'"a\%b"',
    r'"\\"',
    r'"\n\t"',
    r'"\u00c1pfel"',
    r'"\ud800"',
    r'"\udfff\ud800"',
    r'"\ud83d\ude00"',
    '"\ud800"',
    "'\udc80x'",
    '"Ápfel"',
    '"中文"',
    '"\x00"',
    r'r"50\%"',
    r'"\"',
    '"unterminated',
]
CMP = ["==", "!=", "<", "<=", ">", ">="]
ARITH = ["+", "-", "*", "/", "%", "**"]
FUNCTIONS = [
    "array_contains",
    "array_contains_all",
    "array_contains_any",
    "json_contains",
    "json_contains_all",
    "json_contains_any",
    "array_length",
    "ST_EQUALS",
    "st_intersects",
    "ST_DWITHIN",
    "st_isvalid",
    "text_match",
    "phrase_match",
    "Json_Contains",
    "unknown_fn",
]
WKT = ['"POINT (1 1)"', '"POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0))"', '"POINT (nan 1)"', '"nonsense"']
TEMPLATE_NAMES = ["p", "q", "ids", "missing"]
SOUP = (
    ["(", ")", "[", "]", "{", "}", ",", "=", "!", "&&", "||", "\\", '"', "'", "#", "@", "$"]
    + [" and ", " or ", " not ", " in ", " not in ", " like ", " is null", " is not null "]
    + [" exists ", " ISO ", " INTERVAL ", " true ", " False ", "{p}", "{ids}", "\ud800", "\u00e9"]
    + CMP
    + ARITH
)


def _value(rng: random.Random, depth: int) -> str:
    kind = rng.randrange(12 if depth < 3 else 9)
    if kind == 0:
        return rng.choice(INTS)
    if kind == 1:
        return rng.choice(FLOATS)
    if kind == 2:
        return rng.choice(STRINGS)
    if kind == 3:
        return rng.choice(FIELDS)
    if kind == 4:
        return rng.choice(JSON_TARGETS)
    if kind == 5:
        return rng.choice(ELEMENTS)
    if kind == 6:
        return "{" + rng.choice(TEMPLATE_NAMES) + "}"
    if kind == 7:
        return rng.choice(["true", "false", "ISO '2025-01-01T00:00:00Z'", "INTERVAL 'P1D'"])
    if kind == 8:
        target = rng.choice(["i64", "f", "tags[0]", 'meta["k"]'])
        return f"{target} {rng.choice(ARITH)} {rng.choice(INTS + FLOATS)}"
    if kind == 9:
        items = [_value(rng, depth + 1) for _ in range(rng.randrange(5))]
        return "[" + ", ".join(items) + "]"
    if kind == 10:
        return f"{rng.choice(['-', '+', '-+'])}{_value(rng, depth + 1)}"
    return f"({_value(rng, depth + 1)} {rng.choice(ARITH)} {_value(rng, depth + 1)})"


NUMERIC_TARGETS = ["i8", "i32", "i64", "f", "d", "id", "tags[0]", "array_length(tags)", "x"]
NUMERIC_TARGETS += ['meta["k"]', 'meta["n"]', "color", "i64 + 1", "f * 2", 'meta["n"] % 3']
STRING_TARGETS = ["s", "words[0]", 'meta["k"]', "color", 'meta["nested"]["b"]']
PICK = {
    "num": lambda rng: rng.choice(INTS + FLOATS + ["{p}", "{q}"]),
    "str": lambda rng: rng.choice(STRINGS + ["{p}"]),
}


def _typed_leaf(rng: random.Random) -> str:
    """A leaf the checker mostly accepts, so that evaluation is reached too."""
    kind = rng.randrange(8)
    if kind == 0:
        return f"{rng.choice(NUMERIC_TARGETS)} {rng.choice(CMP)} {PICK['num'](rng)}"
    if kind == 1:
        return f"{rng.choice(STRING_TARGETS)} {rng.choice(CMP)} {PICK['str'](rng)}"
    if kind == 2:
        items = ", ".join(PICK["num"](rng) for _ in range(rng.randrange(4)))
        return f"{rng.choice(NUMERIC_TARGETS)} {rng.choice(['in', 'not in'])} [{items}]"
    if kind == 3:
        return f"{rng.choice(STRING_TARGETS)} like {rng.choice(STRINGS)}"
    if kind == 4:
        fn = rng.choice(FUNCTIONS[:6])
        target = rng.choice(["tags", "words", 'meta["arr"]', "meta"])
        items = ", ".join(PICK[rng.choice(["num", "str"])](rng) for _ in range(rng.randrange(3)))
        arg = f"[{items}]" if fn.endswith(("all", "any")) else PICK["num"](rng)
        return f"{fn}({target}, {arg})"
    if kind == 5:
        op = rng.choice(["st_intersects", "ST_WITHIN", "st_contains"])
        return f"{op}(geo, {rng.choice(WKT + ['{p}'])})"
    if kind == 6:
        return f"ts {rng.choice(CMP)} ISO '{rng.choice(['2025-01-01T00:00:00Z', '2025-13-01'])}'"
    target = rng.choice(["i8", "s", "meta", 'meta["k"]', "ts"])
    return f"{target} is not null"


def _predicate(rng: random.Random, depth: int) -> str:
    kind = rng.randrange(14 if depth < 4 else 10)
    if kind == 0:
        return _typed_leaf(rng)
    if kind == 1:
        return f"{_value(rng, depth)} {rng.choice(CMP)} {_value(rng, depth)}"
    if kind == 2:
        low, high = rng.choice(INTS), rng.choice(INTS)
        return f"{low} {rng.choice(['<', '<='])} {_value(rng, depth)} < {high}"
    if kind == 3:
        neg = rng.choice([" in ", " not in "])
        return f"{_value(rng, depth)}{neg}{rng.choice([_value(rng, depth + 3), '{ids}'])}"
    if kind == 4:
        return f"{_value(rng, depth)} like {rng.choice(STRINGS)}"
    if kind == 5:
        return f"{_value(rng, depth)} {rng.choice(['is null', 'is not null', 'IS NULL'])}"
    if kind == 6:
        return f"exists {rng.choice(JSON_TARGETS + FIELDS)}"
    if kind == 7:
        fn = rng.choice(FUNCTIONS)
        args = [rng.choice(JSON_TARGETS + ["tags", "words", "s", "geo", "meta"])]
        args += [rng.choice([_value(rng, depth + 2), *WKT]) for _ in range(rng.randrange(3))]
        if rng.random() < 0.1:
            args.append("minimum_should_match=1")
        return f"{fn}({', '.join(args)})"
    if kind == 8:
        return rng.choice(["true", "false", "b", "s", "1", "meta", '"x"', _typed_leaf(rng)])
    if kind == 9:
        return f"{_value(rng, depth)} {rng.choice(CMP)} {_value(rng, depth)} {rng.choice(CMP)} 5"
    if kind == 10:
        return f"not {_predicate(rng, depth + 1)}"
    if kind == 11:
        return f"({_predicate(rng, depth + 1)})"
    op = rng.choice([" and ", " or ", " && ", " || ", " AND "])
    return op.join(_predicate(rng, depth + 1) for _ in range(rng.randrange(2, 4)))


def filter_text(rng: random.Random) -> str:
    """A filter: usually one the grammar reads (well or ill typed), sometimes mangled."""
    text = _predicate(rng, 0)
    if rng.random() < 0.3:
        text = mutate(rng, text)
    return text


def mutate(rng: random.Random, text: str) -> str:
    """Delete, repeat, insert or replace a few pieces of ``text``."""
    for _ in range(rng.randrange(1, 4)):
        pos = rng.randrange(len(text) + 1)
        action = rng.randrange(5)
        if action == 0:
            text = text[:pos] + text[pos + rng.randrange(1, 4) :]
        elif action == 1:
            text = text[:pos] + rng.choice(SOUP) + text[pos:]
        elif action == 2:
            text = text[:pos] + chr(rng.randrange(0x110000)) + text[pos:]
        elif action == 3:
            piece = text[pos : pos + rng.randrange(1, 8)]
            text = text[:pos] + piece * rng.randrange(2, 5) + text[pos:]
        else:
            text = rng.choice(["(", "not ", "-", "["]) * rng.randrange(1, 130) + text
    return text


def _template_value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(16 if depth < 3 else 12)
    if kind == 0:
        return rng.randint(-5, 5)
    if kind == 1:
        return rng.choice([2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**70, -(2**100)])
    if kind == 2:
        return rng.choice([0.5, -2.25, 1e300, math.inf, -math.inf, math.nan, -0.0, 3.5e38])
    if kind == 3:
        return rng.choice(["apple", "", "\ud800", "a\udfff", "Ápfel", "%", "\x00", "中文"])
    if kind == 4:
        return rng.random() < 0.5
    if kind == 5:
        return None
    if kind == 6:
        return rng.choice([np.int64(3), np.float32(0.5), np.bool_(True), np.str_("x")])
    if kind == 7:
        return rng.choice([b"bytes", {"k": 1}, object(), {1, 2}, 1 + 2j, np.array([1, 2])])
    if kind == 8:
        return "ISO '2025-01-01T00:00:00Z'"
    if kind == 9:
        return rng.choice(["POINT (1 1)", "POLYGON ((0 0, 1 0, 1 1, 0 0))", "nonsense"])
    if kind == 10:
        nested: Any = 1
        for _ in range(rng.choice([2, 99, 101, 150])):
            nested = [nested]
        return nested
    if kind == 11:
        return rng.randrange(2**64)
    return [_template_value(rng, depth + 1) for _ in range(rng.randrange(4))]


def template_values(rng: random.Random) -> dict[str, Any]:
    """Values for some of the template names ``filter_text`` uses (never all, at times)."""
    names = rng.sample(TEMPLATE_NAMES[:3], rng.randrange(4))
    return {name: _template_value(rng, 0) for name in names}


def check_filter(text: str, params: dict[str, Any] | None) -> str:
    """Compile and evaluate on every source: "ok" or "refused" (an ElanusError).

    Anything else escapes: that is the defect the fuzzers look for."""
    try:
        plan = compile_filter(text, SCHEMA, params)
        for source in SOURCES:
            mask = plan.evaluate(source)
            assert mask.dtype == np.bool_ and len(mask) == len(_ROWS), text
    except ElanusError as err:
        str(err).encode("utf-8")  # the message must be sendable as it is
        return "refused"
    return "ok"
