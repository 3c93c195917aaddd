"""Milvus's boolean filter language: parse → typed syntax tree → check against the
schema → evaluate vectorised on a segment's columns (or on scalar indexes).

Entry point: ``compile_filter(expression, schema, params) -> FilterPlan``; then
``plan.evaluate(source)`` for each segment.
"""

from elanus.expr.parser import parse
from elanus.expr.plan import FilterPlan, clear_cache, compile_filter
from elanus.expr.source import ArrowColumnSource, ColumnSource, ScalarIndex

__all__ = [
    "ArrowColumnSource",
    "ColumnSource",
    "FilterPlan",
    "ScalarIndex",
    "clear_cache",
    "compile_filter",
    "parse",
]
