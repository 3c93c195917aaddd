"""Search by primary keys: each given key's stored vector becomes a query.

Milvus accepts ``ids`` in place of query vectors. The vectors are read from the
same snapshot the search runs on; for the output of a BM25 or text-embedding
function the stored input text is read instead, so the usual text encoding turns
it into the query. Keys are looked up across the whole collection (not only the
partitions searched), in the order given. A key whose stored vector (or input
text) is null gives a query that matches nothing, as in Milvus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from elanus.engine.output import gather_columns, plan_output
from elanus.engine.query_filter import snapshot_masks
from elanus.engine.snapshot import Snapshot
from elanus.errors import ParameterError
from elanus.schema import DataType, FieldSchema
from elanus.schema.vector_validity import validity_column_name

__all__ = ["KeyQueryValues", "PrimaryKeyQueries", "resolve_key_queries"]


@dataclass(frozen=True)
class PrimaryKeyQueries:
    """Search input given as primary keys instead of vectors (one query per key)."""

    keys: tuple[Any, ...]


@dataclass(frozen=True)
class KeyQueryValues:
    """The stored values to search with, one per key, and which of them are null."""

    values: Any
    null: np.ndarray  # bool, True where the key's stored value is null


class _KeyLookup:
    """A filter plan that is exactly a primary-key lookup."""

    def __init__(self, keys: list[Any]) -> None:
        self.primary_keys = keys


def _checked_keys(snapshot: Snapshot, keys: tuple[Any, ...]) -> list[Any]:
    if not keys:
        raise ParameterError("`ids` value [] is illegal")
    pk = snapshot.schema.primary_field
    if pk.dtype == DataType.INT64:
        if not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in keys):
            raise ParameterError("primary key is int64, but IDs type mismatch")
        wanted: list[Any] = [int(k) for k in keys]
    else:
        if not all(isinstance(k, str) for k in keys):
            raise ParameterError("primary key is varchar, but IDs type mismatch")
        wanted = list(keys)
    if len(set(wanted)) != len(wanted):
        raise ParameterError("duplicate IDs found in search request")
    return wanted


def _source_field(snapshot: Snapshot, fs: FieldSchema) -> str:
    """The stored column whose values are the queries: a function's input for its output."""
    for fn in snapshot.schema.functions:
        if fs.name in fn.output_field_names:
            return fn.input_field_names[0]
    return fs.name


def resolve_key_queries(
    snapshot: Snapshot, fs: FieldSchema, queries: PrimaryKeyQueries
) -> KeyQueryValues:
    """The stored values of ``fs`` (or its function's input text) for each key, in key order."""
    wanted = _checked_keys(snapshot, queries.keys)
    masks = snapshot_masks(snapshot, _KeyLookup(wanted))
    rows = [np.flatnonzero(m) for m in masks.masks]
    segment_pos = np.concatenate(
        [np.full(r.size, i, dtype=np.int64) for i, r in enumerate(rows)] or [np.zeros(0, np.int64)]
    )
    row_pos = np.concatenate(rows or [np.zeros(0, np.int64)]).astype(np.int64)
    pk_name = snapshot.schema.primary_field.name
    source = _source_field(snapshot, fs)
    plan = plan_output(snapshot.schema, [pk_name, source], include_primary=False)
    columns = gather_columns(snapshot, plan, segment_pos, row_pos)
    found_keys = columns[pk_name]
    if isinstance(found_keys, (pa.Array, pa.ChunkedArray)):
        found_keys = found_keys.to_pylist()
    else:
        found_keys = np.asarray(found_keys).tolist()
    # One dict entry per found key: proportional to nq, not to the collection.
    where = {k: i for i, k in enumerate(found_keys)}
    missing = [k for k in wanted if k not in where]
    if missing:
        shown = " ".join(str(k) for k in missing)
        raise ParameterError(
            f"some of the provided primary key IDs do not exist: missing IDs = [{shown}]"
        )
    order = np.asarray([where[k] for k in wanted], dtype=np.int64)
    values = columns[source]
    if source != fs.name:
        if isinstance(values, (pa.Array, pa.ChunkedArray)):
            values = values.to_pylist()
        texts = [values[i] for i in order.tolist()]
        null = np.fromiter((t is None for t in texts), dtype=bool, count=len(texts))
        return KeyQueryValues(["" if t is None else t for t in texts], null)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        raise ParameterError(f"field {fs.name} cannot be read as query vectors")
    validity = columns.get(validity_column_name(source))
    if validity is None:
        null = np.zeros(order.size, dtype=bool)
    else:
        if isinstance(validity, (pa.Array, pa.ChunkedArray)):
            validity = validity.to_numpy(zero_copy_only=False)
        null = ~np.asarray(validity, dtype=bool)[order]
    return KeyQueryValues(values[order], null)
