"""compile_filter: expression text + schema (+ template parameters) → FilterPlan.

Parsing is the slow step, so both the syntax tree (by text) and the checked plan (by
text, schema identity and parameters) are cached; a plan is immutable and may be
evaluated on many segments at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from elanus.errors import ExpressionError
from elanus.expr import ir
from elanus.expr import nodes as n
from elanus.expr.checker import check
from elanus.expr.evaluator import evaluate
from elanus.expr.limits import MAX_DEPTH
from elanus.expr.parser import parse
from elanus.expr.source import ColumnSource
from elanus.schema import CollectionSchema

__all__ = ["FilterPlan", "clear_cache", "compile_filter"]

_TREE_CACHE_SIZE = 2048
_PLAN_CACHE_SIZE = 2048


@dataclass(frozen=True)
class FilterPlan:
    """A checked filter, ready to run on any segment of the collection.

    ``fields``: the columns it reads (``"$meta"`` when it uses dynamic keys).
    ``primary_keys``: when the whole filter only selects primary keys (``pk in [..]``,
    ``pk == v`` and ORs of those), the key values, so the engine can look rows up
    instead of scanning; otherwise None.
    """

    expression: str
    fields: frozenset[str]
    primary_keys: tuple[Any, ...] | None
    predicate: ir.Predicate = field(repr=False)

    def evaluate(self, source: ColumnSource) -> np.ndarray:
        """Bool mask of the rows of ``source`` that match, length ``source.num_rows``."""
        return evaluate(self.predicate, source)


class _Lru:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


_trees = _Lru(_TREE_CACHE_SIZE)
_plans = _Lru(_PLAN_CACHE_SIZE)


def clear_cache() -> None:
    _trees.clear()
    _plans.clear()


def _freeze(value: Any, depth: int = 0) -> Any:
    """A hashable cache key for a template value; TypeError when there is none (the
    checker then says what is wrong with the value)."""
    if depth > MAX_DEPTH:
        raise TypeError
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_freeze(v, depth + 1) for v in value))
    if isinstance(value, (bool, int, float, str)) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, np.generic):
        return _freeze(value.item(), depth + 1)
    raise TypeError


def _params_key(params: Mapping[str, Any] | None) -> Any:
    if not params:
        return ()
    try:
        return tuple(sorted((str(k), _freeze(v)) for k, v in params.items()))
    except TypeError:
        return None


def parse_cached(expression: str) -> n.Node:
    tree = _trees.get(expression)
    if tree is None:
        tree = parse(expression)
        _trees.put(expression, tree)
    return tree  # type: ignore[no-any-return]


def compile_filter(
    expression: str,
    schema: CollectionSchema,
    params: Mapping[str, Any] | None = None,
) -> FilterPlan:
    """Parse and check a Milvus filter expression against ``schema``.

    Raises ExpressionError (code 1100) quoting the expression and the position.
    """
    if not isinstance(expression, str):
        raise ExpressionError(
            f"cannot parse expression: expected a string, got {type(expression).__name__}"
        )
    pkey = _params_key(params)
    key = (expression, id(schema), pkey) if pkey is not None else None
    if key is not None:
        cached = _plans.get(key)
        if cached is not None and cached[0] is schema:
            return cached[1]  # type: ignore[no-any-return]
    tree = parse_cached(expression)
    try:
        predicate, columns = check(tree, expression, schema, params or {})
    except RecursionError:
        raise ExpressionError(
            "cannot parse expression: nested too deeply", expression=expression
        ) from None
    plan = FilterPlan(
        expression=expression,
        fields=columns,
        primary_keys=_primary_keys(predicate, schema),
        predicate=predicate,
    )
    if key is not None:
        _plans.put(key, (schema, plan))
    return plan


def _primary_keys(predicate: ir.Predicate, schema: CollectionSchema) -> tuple[Any, ...] | None:
    pk = next((f for f in schema.fields if f.is_primary), None)
    if pk is None:
        return None
    found: list[Any] = []

    def collect(node: ir.Predicate) -> bool:
        if isinstance(node, ir.AnyOf):
            return all(collect(c) for c in node.children)
        if isinstance(node, ir.InSet):
            target = node.value
            values = node.values
        elif isinstance(node, ir.Compare) and node.op == "==" and isinstance(node.right, ir.Const):
            target = node.left
            values = (node.right.value,)
        else:
            return False
        if not (
            isinstance(target, ir.ColumnValue) and target.column == pk.name and not target.path
        ):
            return False
        if target.kind == "int" and not all(
            isinstance(v, int) and not isinstance(v, bool) for v in values
        ):
            return False
        found.extend(values)
        return True

    if not collect(predicate):
        return None
    return tuple(dict.fromkeys(found))
