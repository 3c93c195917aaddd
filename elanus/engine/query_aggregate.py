"""Running an aggregation query: GROUP BY and count/sum/min/max/avg over matching rows.

The rows a query matches (filter, ids, partitions and deletes applied through the
same masks as any query) have their group and aggregated columns gathered once;
Arrow's hash aggregation (``Table.group_by``) then computes every group in C++,
so no Python runs per row. Null keys form a group of their own and aggregates
skip nulls, except ``count(*)``, which counts rows. Without group fields the
answer is one row, also when no row matches (counts 0, other aggregates null).

Result types follow Milvus: counts are Int64, ``sum`` Int64 over integers and
Double over FLOAT/DOUBLE, ``avg`` Double, ``min``/``max`` the field's own type.
Groups come out ordered by their keys (ascending, nulls last) unless ORDER BY
asks otherwise; offset and limit then cut the groups.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from elanus.engine.columns_source import as_arrow_array
from elanus.engine.output import OutputPlan, gather_columns
from elanus.engine.query_aggregate_plan import AggregationPlan
from elanus.engine.query_order import OrderKey
from elanus.engine.requests import QueryResult
from elanus.engine.snapshot import Snapshot
from elanus.schema.vector_validity import validity_column_name

__all__ = ["execute_aggregation"]

# Arrow's hash aggregate for each function, and its options.
_ARROW_FUNCTIONS: dict[str, tuple[str, Any]] = {
    "count": ("count", pc.CountOptions(mode="only_valid")),
    "sum": ("sum", pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)),
    "min": ("min", pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)),
    "max": ("max", pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)),
    "avg": ("mean", pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)),
}


def execute_aggregation(
    snapshot: Snapshot,
    segment_pos: np.ndarray,
    rows: np.ndarray,
    plan: AggregationPlan,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> QueryResult:
    """Aggregate the matching rows, at (``segment_pos[i]``, ``rows[i]``) in ``snapshot``,
    as ``plan`` says."""
    inputs, num_rows = _gather_inputs(snapshot, segment_pos, rows, plan)
    grouped, names = _group(inputs, num_rows, plan)
    if plan.group_by:
        grouped = grouped.take(_group_order(grouped, plan))
        stop = grouped.num_rows if limit is None else offset + int(limit)
        grouped = grouped.slice(offset, max(0, stop - offset))
    columns: dict[str, Any] = {}
    for name in plan.outputs:
        columns[name] = grouped.column(names[name]).combine_chunks()
    return QueryResult(columns, grouped.num_rows, list(plan.outputs))


def _gather_inputs(
    snapshot: Snapshot, segment_pos: np.ndarray, rows: np.ndarray, plan: AggregationPlan
) -> tuple[dict[str, pa.Array], int]:
    """The group fields and aggregated fields of every matching row, as Arrow arrays."""
    schema = snapshot.schema
    wanted: list[str] = list(plan.group_by)
    vectors: list[str] = []
    for agg in plan.aggregates:
        if agg.field is None or agg.field in wanted or agg.field in vectors:
            continue
        if schema.field(agg.field).dtype.is_vector:
            # Only count() takes a vector field, and which rows hold one is all it needs.
            vectors.append(agg.field)
        else:
            wanted.append(agg.field)
    hidden = [validity_column_name(n) for n in vectors if schema.field(n).nullable]
    columns = gather_columns(snapshot, OutputPlan(tuple(wanted + hidden)), segment_pos, rows)
    out = {name: as_arrow_array(columns[name]) for name in wanted}
    for name in vectors:
        valid = columns.get(validity_column_name(name))
        held = np.ones(rows.size, dtype=bool)
        if valid is not None:
            flags = pc.fill_null(as_arrow_array(valid).cast(pa.bool_()), False)
            held = np.asarray(flags.to_numpy(zero_copy_only=False), dtype=bool)
        # A row without a vector reads null, so count() skips it.
        out[name] = pa.array(held, mask=~held)
    return out, int(rows.size)


def _group(
    inputs: dict[str, pa.Array], num_rows: int, plan: AggregationPlan
) -> tuple[pa.Table, dict[str, str]]:
    """One row per group (key columns ``k<i>``, then each distinct aggregate once),
    and the column that answers each output name."""
    # A column of the row count's length, so count(*) works with no other column.
    arrays: dict[str, pa.Array] = {"rows": pa.nulls(num_rows)}
    names: dict[str, str] = {}
    for i, name in enumerate(plan.group_by):
        arrays[f"k{i}"] = inputs[name]
        names[name] = f"k{i}"
    specs: list[tuple[Any, ...]] = []
    computed: dict[tuple[str, str | None], str] = {}
    for agg in plan.aggregates:
        key = (agg.function, agg.field)
        if key not in computed:
            if agg.field is None:
                specs.append(([], "count_all"))
                computed[key] = "count_all"
            else:
                source = f"a{len(computed)}"
                arrays[source] = inputs[agg.field]
                function, options = _ARROW_FUNCTIONS[agg.function]
                specs.append((source, function, options))
                computed[key] = f"{source}_{function}"
        names.setdefault(agg.name, computed[key])
    keys = [f"k{i}" for i in range(len(plan.group_by))]
    grouped = pa.table(arrays).group_by(keys, use_threads=False).aggregate(specs)
    return grouped, names


def _group_order(grouped: pa.Table, plan: AggregationPlan) -> pa.Array:
    """The order of the groups: ORDER BY keys first, then every key ascending, nulls
    last, so equal ORDER BY values still come out in one fixed order."""
    keys = list(plan.order_by) + [
        OrderKey(name) for name in plan.group_by if name not in {k.field for k in plan.order_by}
    ]
    arrays: dict[str, pa.Array] = {}
    sort_keys: list[tuple[str, str]] = []
    for i, key in enumerate(keys):
        values = grouped.column(f"k{plan.group_by.index(key.field)}")
        is_null = pc.is_null(values)
        # False sorts first: a null flag is False where nulls go first.
        arrays[f"n{i}"] = pc.invert(is_null) if key.nulls_first else is_null
        arrays[f"v{i}"] = values
        sort_keys += [
            (f"n{i}", "ascending"),
            (f"v{i}", "ascending" if key.ascending else "descending"),
        ]
    return pc.sort_indices(pa.table(arrays), sort_keys=sort_keys)
