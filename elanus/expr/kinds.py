"""Kinds of values in a checked filter, and small rewrites of checked predicates."""

from __future__ import annotations

from typing import Any

from elanus.expr import ir
from elanus.expr.temporal import IntervalValue
from elanus.schema import DataType

__all__ = [
    "CONTAINS",
    "FLIP",
    "FUNCTIONS",
    "GEO_OPS",
    "KIND",
    "NUMERIC",
    "describe",
    "kind_of_literal",
    "merge_equalities",
]

KIND = {
    DataType.BOOL: "bool",
    DataType.INT8: "int",
    DataType.INT16: "int",
    DataType.INT32: "int",
    DataType.INT64: "int",
    DataType.FLOAT: "float",
    DataType.DOUBLE: "float",
    DataType.STRING: "str",
    DataType.VARCHAR: "str",
    DataType.TEXT: "str",
    DataType.JSON: "json",
    DataType.ARRAY: "array",
    DataType.GEOMETRY: "geo",
    DataType.TIMESTAMPTZ: "ts",
}
NUMERIC = frozenset({"int", "float"})
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
GEO_OPS = {
    "st_equals": 2,
    "st_touches": 2,
    "st_overlaps": 2,
    "st_crosses": 2,
    "st_contains": 2,
    "st_intersects": 2,
    "st_within": 2,
    "st_dwithin": 3,
    "st_isvalid": 1,
}
CONTAINS = {
    "json_contains": "one",
    "array_contains": "one",
    "json_contains_all": "all",
    "array_contains_all": "all",
    "json_contains_any": "any",
    "array_contains_any": "any",
}
FUNCTIONS = frozenset({*GEO_OPS, *CONTAINS, "array_length", "text_match", "phrase_match"})


def kind_of_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, IntervalValue):
        return "interval"
    if isinstance(value, (list, tuple)):
        return "list"
    raise TypeError(type(value).__name__)


def merge_equalities(children: list[ir.Predicate]) -> list[ir.Predicate]:
    """``a == 1 or a == 2 or a in [3]`` → ``a in [1, 2, 3]``: one pass over the column
    instead of one per operand (generated filters often OR thousands of keys)."""
    groups: dict[ir.Value, list[Any]] = {}
    out: list[ir.Predicate | ir.Value] = []
    for child in children:
        if isinstance(child, ir.InSet):
            target, values = child.value, child.values
        elif (
            isinstance(child, ir.Compare) and child.op == "==" and isinstance(child.right, ir.Const)
        ):
            target, values = child.left, (child.right.value,)
        else:
            out.append(child)
            continue
        if target not in groups:
            groups[target] = []
            out.append(target)
        groups[target].extend(values)
    merged: list[ir.Predicate] = []
    for item in out:
        if isinstance(item, (ir.ColumnValue, ir.ArithValue, ir.Length, ir.Const)):
            # keyed by type too: True == 1 in Python, but not in a filter
            unique = {(type(v), v): v for v in groups[item]}
            merged.append(ir.InSet(item, tuple(unique.values())))
        else:
            merged.append(item)
    return merged


def describe(value: ir.Value) -> str:
    names = {
        "int": "Int64",
        "float": "Double",
        "bool": "Bool",
        "str": "VarChar",
        "json": "JSON",
        "array": "Array",
        "geo": "Geometry",
        "ts": "Timestamptz",
        "interval": "Interval",
        "list": "List",
    }
    label = names.get(value.kind, value.kind)
    if isinstance(value, ir.ColumnValue):
        return (
            f"field {value.column} ({label})"
            if not value.path
            else f"{value.column}{list(value.path)} ({label})"
        )
    return label
