"""Milvus's boolean filter language: parse → typed syntax tree → check against the
schema → evaluate vectorised on a segment's columns (or on scalar indexes).

Entry point: ``compile_filter(expression, schema, params) -> FilterPlan``; then
``plan.evaluate(source)`` for each segment.
"""

from elanus.expr.parser import parse
from elanus.expr.plan import FilterPlan, clear_cache, compile_filter
from elanus.expr.source import (
    ArrowColumnSource,
    ColumnSource,
    ContainsIndex,
    ScalarIndex,
    SpatialIndex,
    index_key,
    parse_json_path,
)

__all__ = [
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
]
