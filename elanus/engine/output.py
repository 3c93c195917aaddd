"""Output fields: which columns a query or search returns, and gathering them by position.

Hits and query rows are identified by (segment position in the snapshot, local row).
Gathering groups the positions by segment, takes each segment's rows in one call per
column, concatenates, and puts them back in hit order: the Python work is per segment
and per field, never per row. The one exception is picking dynamic keys out of
``$meta`` JSON text, which touches only the rows being returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import scipy.sparse as sp

from elanus.engine.snapshot import Snapshot
from elanus.errors import ParameterError
from elanus.schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType, FieldSchema, FunctionType
from elanus.schema.arrow import scalar_arrow_type
from elanus.schema.types import dense_vector_numpy_dtype, vector_row_width
from elanus.schema.vector_validity import (
    is_validity_column,
    nullable_vector_fields,
    validity_column_name,
)

__all__ = [
    "COUNT_FIELD",
    "OutputPlan",
    "empty_column",
    "gather_columns",
    "plan_output",
]

COUNT_FIELD = "count(*)"


@dataclass(frozen=True)
class OutputPlan:
    """What to return, computed from the request before any data is touched.

    ``fields``: schema fields whose columns are gathered; ``dynamic_keys``: keys
    taken out of ``$meta`` (returned as a ``$meta`` column holding only those keys,
    as Milvus's wire format does); ``whole_meta``: ``$meta`` returned as stored;
    ``names``: the output field names reported back, in order.
    """

    fields: tuple[str, ...]
    dynamic_keys: tuple[str, ...] = ()
    whole_meta: bool = False
    names: tuple[str, ...] = ()

    @property
    def wants_meta(self) -> bool:
        return self.whole_meta or bool(self.dynamic_keys)

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the columns a result carries."""
        return self.fields + ((DYNAMIC_FIELD_NAME,) if self.wants_meta else ())


def _bm25_outputs(schema: CollectionSchema) -> frozenset[str]:
    return frozenset(
        name
        for fn in schema.functions
        if fn.function_type == FunctionType.BM25
        for name in fn.output_field_names
    )


# Resolved plans by (schema identity, request); the schema object is kept with its plan
# so a recycled id() never answers for a different schema.
_PLAN_CACHE: dict[tuple[Any, ...], tuple[CollectionSchema, OutputPlan]] = {}
_PLAN_CACHE_MAX = 1024


def plan_output(
    schema: CollectionSchema, requested: list[str] | None, *, include_primary: bool
) -> OutputPlan:
    """Resolve ``output_fields`` as Milvus does (cached per schema and request)."""
    key = (id(schema), include_primary, *(str(r) for r in requested or ()))
    hit = _PLAN_CACHE.get(key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    plan = _plan_output(schema, requested, include_primary=include_primary)
    if len(_PLAN_CACHE) >= _PLAN_CACHE_MAX:
        _PLAN_CACHE.clear()
    _PLAN_CACHE[key] = (schema, plan)
    return plan


def _plan_output(
    schema: CollectionSchema, requested: list[str] | None, *, include_primary: bool
) -> OutputPlan:
    """Resolve ``output_fields`` as Milvus does.

    ``*`` means every field (vectors included) and the whole dynamic field; a name
    that is not a schema field is a dynamic key when the dynamic field is enabled,
    an error otherwise. The output of a BM25 function cannot be retrieved.
    ``include_primary`` puts the primary key first (queries always return it).
    """
    bm25 = _bm25_outputs(schema)
    pk = schema.primary_field.name
    fields: list[str] = [pk] if include_primary else []
    keys: list[str] = []
    whole_meta = False
    for raw in requested or []:
        name = str(raw).strip()
        if name == "":
            raise ParameterError(f"`output_fields` value {list(requested or [])} is illegal")
        if name == "*":
            fields.extend(f.name for f in schema.fields if f.name not in bm25)
            whole_meta = whole_meta or schema.enable_dynamic_field
            continue
        if name == COUNT_FIELD:
            raise ParameterError(f"{COUNT_FIELD} should be the only output field")
        if schema.has_field(name):
            if name in bm25:
                raise ParameterError(
                    f"not allowed to retrieve raw data of field {name}: "
                    "it is the output of a BM25 function"
                )
            fields.append(name)
            continue
        if name == DYNAMIC_FIELD_NAME:
            if not schema.enable_dynamic_field:
                raise ParameterError(f"field {name} not exist")
            whole_meta = True
            continue
        if not schema.enable_dynamic_field:
            raise ParameterError(f"field {name} not exist")
        if not name.startswith(DYNAMIC_FIELD_NAME) and not _KEY_NAME.match(name):
            raise ParameterError(f"parse output field name failed: {name}")
        keys.append(_dynamic_key(name))
    fields = list(dict.fromkeys(fields))
    keys = [] if whole_meta else list(dict.fromkeys(keys))
    names = list(fields) + keys
    # A nullable vector field travels with its hidden validity column, so the
    # front doors can answer None for the rows without a vector.
    fields.extend(
        validity_column_name(f.name) for f in nullable_vector_fields(schema) if f.name in fields
    )
    if whole_meta:
        names.append(DYNAMIC_FIELD_NAME)
    return OutputPlan(tuple(fields), tuple(keys), whole_meta, tuple(names))


# A dynamic key named bare in output_fields must read as an identifier.
_KEY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _dynamic_key(name: str) -> str:
    """``$meta["k"]`` and ``k`` both name the dynamic key ``k``."""
    prefix = DYNAMIC_FIELD_NAME + "["
    if name.startswith(prefix) and name.endswith("]"):
        inner = name[len(prefix) : -1].strip()
        if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "\"'":
            return inner[1:-1]
        raise ParameterError(f"invalid dynamic output field {name}")
    return name


# --- gathering -----------------------------------------------------------------------


def gather_columns(
    snapshot: Snapshot,
    plan: OutputPlan,
    segment_pos: np.ndarray,
    rows: np.ndarray,
) -> dict[str, Any]:
    """Columns of ``plan`` for the hits at (``segment_pos[i]``, ``rows[i]``), in hit order."""
    if len(snapshot.segments) == 1 and len(rows):
        # One segment: every hit is in it, in hit order.
        groups: list[tuple[int, np.ndarray]] = [(0, np.asarray(rows, dtype=np.int64))]
        inverse: np.ndarray | None = None
    else:
        groups, inverse = _by_segment(
            np.asarray(segment_pos, dtype=np.int64), np.asarray(rows, dtype=np.int64)
        )
    out: dict[str, Any] = {}
    schema = snapshot.schema
    for name in plan.fields:
        fs = None if is_validity_column(name) else schema.field(name)
        parts = [_take(snapshot, seg, name, fs, take_rows) for seg, take_rows in groups]
        out[name] = _reorder(_concat(parts, fs), inverse)
    if plan.wants_meta:
        parts = [
            _take(snapshot, seg, DYNAMIC_FIELD_NAME, None, take_rows) for seg, take_rows in groups
        ]
        meta = _reorder(_concat(parts, None), inverse)
        if not plan.whole_meta:
            meta = _pick_keys(meta, plan.dynamic_keys)
        out[DYNAMIC_FIELD_NAME] = meta
    return out


def _by_segment(
    segment_pos: np.ndarray, rows: np.ndarray
) -> tuple[list[tuple[int, np.ndarray]], np.ndarray | None]:
    """Rows to take per segment, and the permutation back to hit order (None: in order)."""
    n = segment_pos.size
    if n == 0:
        return [], None
    first = int(segment_pos[0])
    if first == int(segment_pos[-1]) and (n <= 2 or not (segment_pos != first).any()):
        # All hits in one segment (the common case): take them in hit order directly.
        return [(first, rows)], None
    order = np.lexsort((rows, segment_pos))
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    sorted_seg = segment_pos[order]
    sorted_rows = rows[order]
    bounds = np.flatnonzero(np.diff(sorted_seg)) + 1
    starts = np.concatenate([[0], bounds]).astype(np.int64)
    ends = np.concatenate([bounds, [sorted_seg.size]]).astype(np.int64)
    groups = [(int(sorted_seg[s]), sorted_rows[s:e]) for s, e in zip(starts, ends) if e > s]
    return groups, inverse


def _take(snapshot: Snapshot, seg: int, name: str, fs: FieldSchema | None, rows: np.ndarray) -> Any:
    view = snapshot.segments[seg]
    if fs is not None and fs.is_primary:
        column: Any = view.data.primary_keys()
    else:
        column = _column_or_none(view.data, name)
    if type(column) is np.ndarray:  # int64 keys and dense vectors: the usual case
        return column[rows]
    if column is None:
        # A field added after this segment was written: its rows hold nulls.
        return empty_column(fs, rows.size, null=True)
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        taken = column.take(pa.array(rows, type=pa.int64()))
        return taken.combine_chunks() if isinstance(taken, pa.ChunkedArray) else taken
    if sp.issparse(column):
        return sp.csr_array(column[rows])
    return np.asarray(column)[rows]


def _column_or_none(data: Any, name: str) -> Any:
    try:
        return data.column(name)
    except KeyError:
        return None


def _concat(parts: list[Any], fs: FieldSchema | None) -> Any:
    if not parts:
        return empty_column(fs, 0)
    first = parts[0]
    if len(parts) == 1:
        return first
    if isinstance(first, pa.Array):
        return pa.concat_arrays([_as_type(p, first.type) for p in parts])
    if sp.issparse(first):
        return sp.csr_array(sp.vstack(parts, format="csr"))
    return np.concatenate(parts)


def _as_type(part: pa.Array, target: pa.DataType) -> pa.Array:
    return part if part.type == target else part.cast(target)


def _reorder(column: Any, inverse: np.ndarray | None) -> Any:
    if inverse is None:
        return column
    if inverse.size and np.array_equal(inverse, np.arange(inverse.size)):
        return column
    if isinstance(column, pa.Array):
        return column.take(pa.array(inverse, type=pa.int64()))
    if sp.issparse(column):
        return sp.csr_array(column[inverse])
    return column[inverse]


def _pick_keys(meta: pa.Array, keys: tuple[str, ...]) -> pa.Array:
    """Keep only ``keys`` in each returned row's dynamic object (rows being returned only)."""
    picked: list[str | None] = []
    for text in meta.to_pylist():
        if text is None:
            picked.append(None)
            continue
        value = orjson.loads(text)
        if isinstance(value, dict):
            value = {k: value[k] for k in keys if k in value}
        picked.append(orjson.dumps(value).decode())
    return pa.array(picked, type=pa.string())


def empty_column(fs: FieldSchema | None, size: int, *, null: bool = False) -> Any:
    """A column of ``size`` rows for field ``fs`` (``None``: ``$meta``): zeros or nulls."""
    if fs is None:
        return pa.nulls(size, pa.string()) if null or size else pa.array([], pa.string())
    if fs.dtype == DataType.SPARSE_FLOAT_VECTOR:
        return sp.csr_array((size, 2**32), dtype=np.float32)
    if fs.dtype.is_dense_vector:
        width = vector_row_width(fs.dtype, fs.dim or 0)
        return np.zeros((size, width), dtype=dense_vector_numpy_dtype(fs.dtype))
    return pa.nulls(size, arrow_type(fs))


def arrow_type(fs: FieldSchema) -> pa.DataType:
    """The in-memory Arrow type of a scalar field (the shared column convention)."""
    try:
        return scalar_arrow_type(fs.dtype, fs.element_type)
    except ValueError:
        raise ParameterError(
            f"field {fs.name} of type {fs.dtype.name} has no scalar column"
        ) from None
