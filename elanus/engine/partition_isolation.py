"""The collection property ``partitionkey.isolation``.

With isolation on, Milvus builds each partition-key value's index apart and a
search must name exactly one value: its filter needs ``key == value`` joined to the
rest by AND, never under OR or NOT, never ``in``, ``!=`` or a range on the key. Elanus
keeps one index per segment, so isolation changes no index here; what it changes is
what a search may ask, refused with Milvus's wording. It needs a partition key field,
and like ``query_mode`` it can change only while the collection has no vector index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from elanus.errors import ParameterError
from elanus.expr import compile_filter, ir
from elanus.schema import CollectionSchema

__all__ = [
    "ISOLATION_KEY",
    "check_isolation_change",
    "check_isolation_properties",
    "check_isolated_search",
    "isolation_enabled",
]

ISOLATION_KEY = "partitionkey.isolation"
_NOT_FOUND = (
    "partition key not found in expr or the expr is invalid when validating partition key isolation"
)
# Milvus's names for the comparisons a range on the key would be.
_OP_NAMES = {
    "<": "LessThan",
    "<=": "LessEqual",
    ">": "GreaterThan",
    ">=": "GreaterEqual",
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "=="}


def _parse_bool(value: object) -> bool:
    """Go's strconv.ParseBool over the lower-cased text, as Milvus reads the value."""
    text = str(value).lower()
    if text in ("1", "t", "true"):
        return True
    if text in ("0", "f", "false"):
        return False
    raise ParameterError(
        f'failed to parse partition key isolation: strconv.ParseBool: parsing "{text}": '
        "invalid syntax"
    )


def isolation_enabled(properties: Mapping[str, object] | None) -> bool:
    raw = (properties or {}).get(ISOLATION_KEY)
    if raw is None:
        return False
    try:
        return _parse_bool(raw)
    except ParameterError:
        return False


def check_isolation_properties(
    properties: Mapping[str, object] | None, schema: CollectionSchema, collection: str
) -> None:
    """Refuse a value that is not a boolean, and isolation without a partition key."""
    if not properties or ISOLATION_KEY not in properties:
        return
    if _parse_bool(properties[ISOLATION_KEY]) and schema.partition_key_field is None:
        raise ParameterError(
            "partition key isolation mode is enabled but no partition key field is set. "
            "Please set the partition key first: illegal collection schema"
            f"[collection={collection}]"
        )


def check_isolation_change(
    old: Mapping[str, object],
    set_keys: Mapping[str, object],
    dropped: Iterable[str],
    indexed_vector_field: str | None,
) -> None:
    """Turning isolation on or off needs the vector index dropped first (702)."""
    before = isolation_enabled(old)
    if ISOLATION_KEY in set_keys:
        after = _parse_bool(set_keys[ISOLATION_KEY])
    elif ISOLATION_KEY in set(dropped):
        after = False
    else:
        return
    if after != before and indexed_vector_field is not None:
        raise ParameterError(
            "can not alter partition key isolation mode if the collection already has a "
            "vector index. Please drop the index first: index duplicates"
            f"[indexName={indexed_vector_field}]",
            code=702,
        )


def check_isolated_search(
    schema: CollectionSchema, expression: str, params: Mapping[str, Any] | None
) -> None:
    """A search of an isolated collection must pin one partition-key value."""
    key = schema.partition_key_field
    if key is None:
        return
    if not expression or not expression.strip():
        raise ParameterError(_NOT_FOUND)
    predicate = compile_filter(expression, schema, params).predicate
    if not _pins_key(predicate, key.name):
        raise ParameterError(_NOT_FOUND)


def _is_key(value: object, key: str) -> bool:
    return isinstance(value, ir.ColumnValue) and value.column == key and not value.path


def _mentions_key(node: object, key: str) -> bool:
    """Whether ``node`` reads the key at all (a NOT or OR over it is refused)."""
    if _is_key(node, key):
        return True
    if isinstance(node, (ir.AllOf, ir.AnyOf)):
        return any(_mentions_key(c, key) for c in node.children)
    if isinstance(node, ir.Negate):
        return _mentions_key(node.child, key)
    if isinstance(node, ir.Compare):
        return _is_key(node.left, key) or _is_key(node.right, key)
    if isinstance(node, ir.InSet):
        return _is_key(node.value, key)
    return False


def _pins_key(node: ir.Predicate, key: str) -> bool:
    """True when ``node`` fixes the key to one value; raises for the forms Milvus refuses."""
    if isinstance(node, ir.AllOf):
        found = [_pins_key(c, key) for c in node.children]
        return any(found)
    if isinstance(node, ir.AnyOf):
        # ORs of equalities arrive merged into IN sets: any use of the key is an OR.
        if any(_mentions_key(c, key) for c in node.children):
            raise ParameterError("partition key isolation does not support OR")
        return False
    if isinstance(node, ir.Negate):
        child = node.child
        if isinstance(child, ir.Compare) and child.op == "==" and _mentions_key(child, key):
            raise ParameterError("partition key isolation does not support NotEqual")
        if isinstance(child, ir.InSet) and _is_key(child.value, key):
            raise ParameterError("partition key isolation does not support IN")
        if _mentions_key(child, key):
            raise ParameterError("partition key isolation does not support NOT")
        return False
    if isinstance(node, ir.InSet) and _is_key(node.value, key):
        raise ParameterError("partition key isolation does not support IN")
    if isinstance(node, ir.Compare):
        if _is_key(node.left, key) and isinstance(node.right, ir.Const):
            op = node.op
        elif _is_key(node.right, key) and isinstance(node.left, ir.Const):
            op = _FLIPPED.get(node.op, node.op)
        else:
            return False
        if op == "==":
            return True
        raise ParameterError(f"partition key isolation does not support {_OP_NAMES.get(op, op)}")
    return False
