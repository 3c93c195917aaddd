"""What an aggregation query asks for, checked against the schema before any data is read.

Milvus reads aggregation from a query's output fields: an entry such as
``count(*)``, ``sum(price)`` or ``AVG(score)`` (function name in any case) is an
aggregate, and ``group_by_fields`` lists the grouping columns. With either
present the query answers one row per group (a single row without grouping)
whose columns are the requested group fields and aggregates, in request order.

The checks follow Milvus's order and wording: aggregates and plain output
fields first, then the group fields, then ORDER BY (which may name group fields
only), then that every plain output field is a group field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from elanus.engine.query_order import OrderKey, parse_order_by
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType
from elanus.schema.type_names import milvus_type_name

__all__ = [
    "AGGREGATE_FUNCTIONS",
    "Aggregate",
    "AggregationPlan",
    "parse_aggregate",
    "plan_aggregation",
    "wants_aggregation",
]

AGGREGATE_FUNCTIONS = ("count", "sum", "min", "max", "avg")

# The spelling Milvus accepts: a function name in any case, then one field name
# (word characters) or ``*`` in parentheses, spaces allowed inside.
_AGGREGATE = re.compile(r"^(sum|count|avg|min|max)\s*\(\s*([\w*]*)\s*\)$", re.IGNORECASE)

_INTEGERS = frozenset({DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64})
_NUMBERS = _INTEGERS | {DataType.FLOAT, DataType.DOUBLE}
# The field types each function takes (count takes any field).
_ACCEPTS = {
    "sum": _NUMBERS,
    "avg": _NUMBERS,
    "min": _NUMBERS | {DataType.VARCHAR, DataType.STRING, DataType.TIMESTAMPTZ},
    "max": _NUMBERS | {DataType.VARCHAR, DataType.STRING, DataType.TIMESTAMPTZ},
}
# Exact types only: floating point keys would split equal-looking values.
_GROUPABLE = _INTEGERS | {DataType.VARCHAR, DataType.TIMESTAMPTZ}


@dataclass(frozen=True)
class Aggregate:
    """One aggregate: ``function`` in lower case, ``field`` (None for ``count(*)``),
    ``name`` the output name as the request spelled it."""

    function: str
    field: str | None
    name: str


@dataclass(frozen=True)
class AggregationPlan:
    """Group fields, aggregates, the output columns in request order, and the
    ORDER BY keys (group fields only)."""

    group_by: tuple[str, ...]
    aggregates: tuple[Aggregate, ...]
    outputs: tuple[str, ...]
    order_by: tuple[OrderKey, ...] = ()

    @property
    def counts_rows(self) -> bool:
        """Whether ``count(*)`` is among the aggregates."""
        return any(a.field is None for a in self.aggregates)


def parse_aggregate(text: str) -> tuple[str, str] | None:
    """(function in lower case, its argument) when ``text`` is an aggregate expression."""
    match = _AGGREGATE.match(text.strip())
    if match is None:
        return None
    return match.group(1).lower(), match.group(2).strip()


def split_group_by(group_by: list[str] | str | None) -> tuple[str, ...]:
    """``group_by_fields`` as a tuple of names (the wire joins them with commas)."""
    if group_by is None:
        return ()
    items = group_by.split(",") if isinstance(group_by, str) else group_by
    return tuple(dict.fromkeys(s for s in (str(i).strip() for i in items) if s))


def wants_aggregation(output_fields: list[str], group_by: tuple[str, ...], order_by: str) -> bool:
    """Whether a query aggregates. A lone ``count(*)`` without grouping or ORDER BY
    is the plain row count, answered from the masks without reading columns."""
    aggregates = [f for f in output_fields if parse_aggregate(f) is not None]
    if group_by:
        return True
    if not aggregates:
        return False
    lone_count = len(output_fields) == 1 and aggregates[0].replace(" ", "").lower() == "count(*)"
    return not lone_count or bool(order_by.strip())


def plan_aggregation(
    schema: CollectionSchema,
    output_fields: list[str],
    group_by: tuple[str, ...],
    order_by: str = "",
) -> AggregationPlan:
    """Check an aggregation query as Milvus does and give its plan."""
    aggregates: list[Aggregate] = []
    plain: list[str] = []
    outputs: list[str] = []
    for raw in output_fields:
        name = str(raw).strip()
        parsed = parse_aggregate(name)
        if parsed is not None:
            aggregates.append(_aggregate(schema, parsed[0], parsed[1], name))
        else:
            _check_plain(schema, name)
            plain.append(name)
        outputs.append(name)
    for name in group_by:
        field = schema.get(name)
        if field is None:
            raise ParameterError(f"field {name} not exist")
        if field.dtype not in _GROUPABLE:
            raise ParameterError(
                f"group by field {name} has unsupported data type {milvus_type_name(field.dtype)}"
            )
    keys = _order_keys(schema, order_by, group_by)
    for name in plain:
        if name not in group_by:
            raise ParameterError(
                f"output field '{name}' is not allowed: with group_by_fields or aggregates, "
                "output fields can only be group by fields or aggregation expressions"
            )
    if not outputs:
        outputs = list(group_by)
    return AggregationPlan(
        group_by=group_by,
        aggregates=tuple(aggregates),
        outputs=tuple(dict.fromkeys(outputs)),
        order_by=keys,
    )


def _aggregate(schema: CollectionSchema, function: str, argument: str, name: str) -> Aggregate:
    if argument == "*":
        if function != "count":
            raise ParameterError(f"{function}(*) is not supported, only count(*) is allowed")
        return Aggregate(function, None, name)
    field = schema.get(argument)
    if field is None:
        raise ParameterError(f"target field {argument} for aggregation:{function} does not exist")
    accepted = _ACCEPTS.get(function)
    if accepted is not None and field.dtype not in accepted:
        # Milvus raises this one without marking it an input error: code 65535.
        raise ParameterError(
            f"aggregation operator {function} does not support data type "
            f"{milvus_type_name(field.dtype)}",
            code=65535,
        )
    return Aggregate(function, field.name, name)


def _check_plain(schema: CollectionSchema, name: str) -> None:
    """A plain output field must exist (a dynamic key counts when the field is on)."""
    if name == "*" or schema.has_field(name) or schema.enable_dynamic_field:
        return
    raise ParameterError(f"field {name} not exist")


def _order_keys(
    schema: CollectionSchema, order_by: str, group_by: tuple[str, ...]
) -> tuple[OrderKey, ...]:
    """ORDER BY keys of an aggregation: group fields only, never an aggregate."""
    if not order_by.strip():
        return ()
    targets = {g.lower() for g in group_by}
    for spec in order_by.split(","):
        name = spec.split(":")[0].strip().lower()
        if not name:
            continue
        if parse_aggregate(name) is not None:
            raise ParameterError(f"ORDER BY on aggregate expression '{name}' is not yet supported")
        if name not in targets:
            raise ParameterError(
                f"ORDER BY field '{name}' is not valid: when using GROUP BY or aggregates, "
                f"ORDER BY can only reference GROUP BY columns. Valid targets are: "
                f"[{' '.join(group_by)}]"
            )
    return parse_order_by(order_by, schema)
