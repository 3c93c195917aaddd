"""A plain-Python, row-at-a-time reference evaluator of the filter language.

It interprets the syntax tree directly (never the checked plan), one row at a time,
with Milvus's (match, valid) semantics written out in the obvious way. The vectorised
evaluator must agree with it on every row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely

from elanus.expr import nodes as n
from elanus.expr.temporal import IntervalValue, parse_instant, parse_interval
from elanus.schema import CollectionSchema, DataType

MISSING = object()
NULL = object()


class Json:
    """A value found in JSON (or MISSING)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _is_num(v: Any) -> bool:
    return type(v) in (int, float)


def _same_type(a: Any, b: Any) -> bool:
    if isinstance(b, bool):
        return type(a) is bool
    if isinstance(b, (int, float)):
        return _is_num(a)
    return type(a) is type(b)


def like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.S)


_CMP = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


class Reference:
    def __init__(self, schema: CollectionSchema, params: Mapping[str, Any] | None = None) -> None:
        self.schema = schema
        self.params = dict(params or {})

    # values: a Python value, NULL (invalid), or Json(...)
    def column(self, node: n.Path, row: Mapping[str, Any]) -> Any:
        name, keys = node.name, node.keys
        field = self.schema.get(name)
        if name == "$meta" or field is None:
            doc = row["$meta"]
            path = keys if name == "$meta" else (name, *keys)
        else:
            value = row[name]
            if value is None:
                return NULL
            if field.dtype == DataType.JSON:
                doc, path = value, keys
            elif field.dtype == DataType.ARRAY and keys:
                i = keys[0]
                return value[i] if isinstance(i, int) and 0 <= i < len(value) else NULL
            else:
                return value
        for key in path:
            if isinstance(key, str) and type(doc) is dict:
                doc = doc.get(key, MISSING)
            elif isinstance(key, int) and type(doc) is list and 0 <= key < len(doc):
                doc = doc[key]
            else:
                doc = MISSING
        return Json(doc)

    def const(self, node: n.Node) -> Any:
        if isinstance(node, n.Literal):
            return node.value
        if isinstance(node, n.ListLit):
            return [self.const(i) for i in node.items]
        if isinstance(node, n.Template):
            return self.params[node.name]
        if isinstance(node, n.Iso):
            return ("ts", parse_instant(node.text))
        if isinstance(node, n.Interval):
            return parse_interval(node.text)
        if isinstance(node, (n.Unary, n.Arith)):
            return self.value(node, {})
        raise TypeError(node)

    def value(self, node: n.Node, row: Mapping[str, Any]) -> Any:
        if isinstance(node, n.Path):
            return self.column(node, row)
        if isinstance(node, n.Unary):
            v = self.value(node.operand, row)
            if v is NULL:
                return NULL
            if isinstance(v, Json):
                v = v.value if _is_num(v.value) else None
                if v is None:
                    return NULL
            return -v if node.op == "-" else v
        if isinstance(node, n.Arith):
            a, b = self.value(node.left, row), self.value(node.right, row)
            if isinstance(b, IntervalValue):
                return NULL if a is NULL else self.shift(a, b, node.op)
            a, b = self.num(a), self.num(b)
            if a is NULL or b is NULL:
                return NULL
            return self.arith(node.op, a, b)
        if isinstance(node, n.Call) and node.name.lower() == "array_length":
            v = self.value(node.args[0], row)
            if v is NULL:
                return NULL
            if isinstance(v, Json):
                return len(v.value) if type(v.value) is list else NULL
            return len(v)
        return self.const(node)

    @staticmethod
    def shift(a: Any, iv: IntervalValue, op: str) -> Any:
        import numpy as np

        from elanus.expr.temporal import add_interval

        if op == "-":
            iv = iv.negated()
        return int(add_interval(np.array([a], dtype=np.int64), iv)[0])

    @staticmethod
    def num(v: Any) -> Any:
        if isinstance(v, Json):
            return v.value if _is_num(v.value) else NULL
        return v

    @staticmethod
    def arith(op: str, a: Any, b: Any) -> Any:
        ints = isinstance(a, int) and isinstance(b, int)
        if op in ("/", "%") and b == 0:
            return NULL
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if ints:
                q = abs(a) // abs(b)
                return q if (a >= 0) == (b >= 0) else -q
            return a / b
        if op == "%":
            return int(math.fmod(a, b)) if ints else math.fmod(a, b)
        try:
            r = float(a) ** float(b)
        except (OverflowError, ZeroDivisionError):
            return NULL
        return r if isinstance(r, float) and math.isfinite(r) else NULL

    # predicates: (match, valid)
    def pred(self, node: n.Node, row: Mapping[str, Any]) -> tuple[bool, bool]:
        if isinstance(node, n.Logical):
            results = [self.pred(o, row) for o in node.operands]
            return _kleene(node.op, results)
        if isinstance(node, n.Not):
            m, v = self.pred(node.operand, row)
            return (not m) and v, v
        if isinstance(node, n.Comparison):
            if len(node.ops) == 1:
                return self.compare(node.ops[0], node.operands[0], node.operands[1], row)
            m1, v1 = self.compare(node.ops[0], node.operands[0], node.operands[1], row)
            m2, v2 = self.compare(node.ops[1], node.operands[1], node.operands[2], row)
            return _kleene("and", [(m1, v1), (m2, v2)])
        if isinstance(node, n.Term):
            v = self.value(node.value, row)
            items = self.const(node.items)
            if v is NULL or (isinstance(v, Json) and row_null(v)):
                return False, False
            if isinstance(v, Json):
                if not any(_same_type(v.value, i) for i in items):
                    return False, False
                hit = any(_same_type(v.value, i) and v.value == i for i in items)
            else:
                if self.is_ts(node.value):
                    items = [parse_instant(i) if isinstance(i, str) else i for i in items]
                if self.is_float32(node.value):
                    items = [float(np.float32(i)) if _is_num(i) else i for i in items]
                hit = v in items
            return (not hit if node.negate else hit), True
        if isinstance(node, n.Like):
            v = self.value(node.value, row)
            if v is NULL:
                return False, False
            if isinstance(v, Json):
                v = v.value
                if not isinstance(v, str):
                    return False, False
            hit = isinstance(v, str) and like_regex(node.pattern).fullmatch(v) is not None
            return hit, True
        if isinstance(node, n.IsNull):
            v = self.value(node.value, row)
            if self.is_json_key(node.value):
                found, valid = self.pred(n.Exists(node.value, node.pos), row)
                if node.negate:
                    return found, valid
                return (not found) and valid, valid
            null = v is NULL
            return (not null if node.negate else null), True
        if isinstance(node, n.Exists):
            v = self.value(node.value, row)
            if v is NULL:
                return False, False
            return v.value is not MISSING and v.value is not None, True
        if isinstance(node, n.Call):
            return self.call(node, row)
        if isinstance(node, n.Literal):
            return bool(node.value), True
        if isinstance(node, n.Path):
            return self.compare("==", node, n.Literal(True, 0), row)
        raise TypeError(node)

    def is_json_key(self, node: n.Node) -> bool:
        if not isinstance(node, n.Path):
            return False
        field = self.schema.get(node.name)
        if field is None:
            return True
        return field.dtype == DataType.JSON and bool(node.keys)

    def is_float32(self, node: n.Node) -> bool:
        if not isinstance(node, n.Path) or node.keys:
            return False
        f = self.schema.get(node.name)
        return f is not None and f.dtype == DataType.FLOAT

    def is_ts(self, node: n.Node) -> bool:
        if isinstance(node, n.Path):
            f = self.schema.get(node.name)
            return f is not None and f.dtype == DataType.TIMESTAMPTZ
        if isinstance(node, n.Arith):
            return self.is_ts(node.left) or self.is_ts(node.right)
        return False

    def compare(self, op: str, ln: n.Node, rn: n.Node, row: Mapping[str, Any]) -> tuple[bool, bool]:
        a, b = self.value(ln, row), self.value(rn, row)
        if isinstance(a, tuple) and a and a[0] == "ts":
            a = a[1]
        if isinstance(b, tuple) and b and b[0] == "ts":
            b = b[1]
        if self.is_ts(ln) and isinstance(b, str):
            b = parse_instant(b)
        if self.is_ts(rn) and isinstance(a, str):
            a = parse_instant(a)
        if a is NULL or b is NULL:
            return False, False
        # Milvus casts a literal to a FLOAT field's type before comparing.
        if self.is_float32(ln) and isinstance(rn, n.Literal) and _is_num(b):
            b = float(np.float32(b))
        if self.is_float32(rn) and isinstance(ln, n.Literal) and _is_num(a):
            a = float(np.float32(a))
        if isinstance(b, Json):
            a, b, op = b, a, _FLIP[op]
        if isinstance(a, Json):
            if row_null(a):
                return False, False
            if not _same_type(a.value, b):
                return False, False
            return _CMP[op](a.value, b), True
        return _CMP[op](a, b), True

    def call(self, node: n.Call, row: Mapping[str, Any]) -> tuple[bool, bool]:
        name = node.name.lower()
        if name.startswith(("json_contains", "array_contains")):
            v = self.value(node.args[0], row)
            items = self.const(node.args[1])
            if v is NULL:
                return False, False
            if isinstance(v, Json):
                if row_null(v):
                    return False, False
                seq = v.value if type(v.value) is list else None
            else:
                seq = v
            if seq is None:
                return False, True

            def has(item: Any) -> bool:
                return any(_same_type(e, item) and e == item for e in seq)

            if name.endswith("_all"):
                return all(has(i) for i in items), True
            if name.endswith("_any"):
                return any(has(i) for i in items), True
            return has(items), True
        if name.startswith("st_"):
            raw = row[node.args[0].name]  # type: ignore[union-attr]
            if raw is None:
                return False, False
            geom = shapely.from_wkt(raw)
            if name == "st_isvalid":
                return bool(shapely.is_valid(geom)), True
            query = shapely.from_wkt(self.const(node.args[1]))
            if name == "st_dwithin":
                return haversine_within(geom, query, float(self.const(node.args[2]))), True
            return bool(getattr(shapely, name[3:])(geom, query)), True
        raise TypeError(name)


def _kleene(op: str, results: list[tuple[bool, bool]]) -> tuple[bool, bool]:
    """AND/OR over (match, valid) pairs with SQL's three-valued logic, as Milvus does:
    a known false decides an AND and a true decides an OR, else unknown wins."""
    if op == "and":
        if any(v and not m for m, v in results):
            return False, True
        return all(m for m, _ in results), all(v for _, v in results)
    if any(m for m, _ in results):
        return True, True
    return False, all(v for _, v in results)


def row_null(v: Json) -> bool:
    return False


def haversine_within(geom: Any, query: Any, meters: float) -> bool:
    line = shapely.shortest_line(geom, query)
    (x1, y1), (x2, y2) = shapely.get_coordinates(line)
    lon1, lat1, lon2, lat2 = map(math.radians, (x1, y1, x2, y2))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(min(max(h, 0.0), 1.0))) <= meters


def evaluate_rows(
    tree: n.Node,
    schema: CollectionSchema,
    rows: list[dict[str, Any]],
    params: Mapping[str, Any] | None = None,
) -> list[bool]:
    ref = Reference(schema, params)
    return [ref.pred(tree, row)[0] for row in rows]
