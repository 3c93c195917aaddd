"""Engine results as the Python values pymilvus users get.

Columns become Python lists once per column (vectorised), then rows are zipped
together; the per-row work is proportional to the rows returned (k hits or the
query's limit), never to the collection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from elanus.engine.requests import QueryResult, SearchResults
from elanus.schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType
from elanus.schema.scalars import timestamptz_text
from elanus.schema.vector_validity import VALIDITY_PREFIX, is_validity_column

__all__ = ["Hit", "Hits", "SearchResult", "column_values", "query_rows", "search_hits"]


class Hit(dict):  # type: ignore[type-arg]
    """One hit: ``{pk_name: id, "distance": d, "entity": {...}}``.

    As in pymilvus, ``hit[name]`` falls back to the entity's fields, and
    ``hit.id`` / ``hit.distance`` / ``hit.fields`` read the parts.
    """

    def __init__(self, data: dict[str, Any], pk_name: str) -> None:
        super().__init__(data)
        self._pk_name = pk_name

    def __getitem__(self, key: Any) -> Any:
        try:
            return super().__getitem__(key)
        except KeyError:
            return super().__getitem__("entity")[key]

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        try:
            return self[item]
        except KeyError:
            raise AttributeError(item) from None

    @property
    def id(self) -> Any:
        return dict.get(self, self._pk_name)

    @property
    def pk(self) -> Any:
        return self.id

    @property
    def distance(self) -> float:
        return float(dict.get(self, "distance", 0.0))

    @property
    def score(self) -> float:
        return self.distance

    @property
    def fields(self) -> dict[str, Any]:
        entity: dict[str, Any] = dict.get(self, "entity", {})
        return entity

    def to_dict(self) -> dict[str, Any]:
        return dict(self)

    def __reduce__(self) -> Any:
        # Hits of a search are built as a per-key-name subclass (_hit_type); copies
        # and pickles are plain Hits.
        return (Hit, (dict(self), self._pk_name))


_HIT_TYPES: dict[str, Callable[[dict[str, Any]], Hit]] = {}


def _hit_type(pk_name: str) -> Callable[[dict[str, Any]], Hit]:
    """``Hit`` with the key name fixed on the class: each hit is then made by dict's
    own constructor, with no Python ``__init__`` per hit."""
    cls = _HIT_TYPES.get(pk_name)
    if cls is None:
        attrs = {"__init__": dict.__init__, "_pk_name": pk_name, "__module__": __name__}
        cls = _HIT_TYPES[pk_name] = type("Hit", (Hit,), attrs)
    return cls


class Hits(list):  # type: ignore[type-arg]
    """The hits of one query; ``ids`` and ``distances`` as lists."""

    def __init__(self, hits: list[Hit], ids: list[Any], distances: list[float]) -> None:
        super().__init__(hits)
        self.ids = ids
        self.distances = distances


class SearchResult(list):  # type: ignore[type-arg]
    """One ``Hits`` per query vector."""

    def __init__(self, per_query: list[Hits], session_ts: int = 0) -> None:
        super().__init__(per_query)
        self.extra: dict[str, Any] = {}
        self.recalls = None
        self._session_ts = session_ts

    def get_session_ts(self) -> int:
        return self._session_ts


def _parse_json(texts: list[Any]) -> list[Any]:
    return [None if t is None else orjson.loads(t) for t in texts]


def column_values(schema: CollectionSchema, name: str, column: Any) -> list[Any]:
    """One output column as Python values, one per row."""
    field = schema.get(name)
    dtype = field.dtype if field is not None else None
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if isinstance(column, pa.Array):
        if name == DYNAMIC_FIELD_NAME or dtype == DataType.JSON:
            return _parse_json(column.to_pylist())
        if dtype == DataType.TIMESTAMPTZ or pa.types.is_timestamp(column.type):
            return list(timestamptz_text(column).to_pylist())
        return list(column.to_pylist())
    if isinstance(column, np.ndarray):
        if dtype == DataType.FLOAT_VECTOR or column.dtype == np.float32:
            return list(column.tolist())
        if dtype == DataType.BINARY_VECTOR:
            return [bytes(row) for row in column]
        if dtype == DataType.BFLOAT16_VECTOR:
            import ml_dtypes

            return list(np.ascontiguousarray(column).view(ml_dtypes.bfloat16))
        if column.ndim == 1:
            return list(column.tolist())
        return list(column)
    if hasattr(column, "tocsr") or hasattr(column, "indptr"):
        csr = column.tocsr() if hasattr(column, "tocsr") else column
        out: list[Any] = []
        indptr, indices, data = csr.indptr, csr.indices, csr.data
        for i in range(csr.shape[0]):
            lo, hi = indptr[i], indptr[i + 1]
            out.append(dict(zip(indices[lo:hi].tolist(), data[lo:hi].tolist())))
        return out
    return list(column)


def _rows(
    schema: CollectionSchema, columns: dict[str, Any], names: list[str], count: int
) -> list[dict[str, Any]]:
    validity = {n: columns[n] for n in names if is_validity_column(n) and n in columns}
    if validity:
        names = [n for n in names if n not in validity]
    values = {name: column_values(schema, name, columns[name]) for name in names if name in columns}
    for hidden, valid in validity.items():
        name = hidden[len(VALIDITY_PREFIX) :]
        if name in values:
            # A nullable vector field's rows without a vector read None.
            values[name] = [v if ok else None for v, ok in zip(values[name], _flags(valid))]
    meta = values.pop(DYNAMIC_FIELD_NAME, None)
    keys = list(values)
    lists = [values[k] for k in keys]
    if meta is None and keys and all(len(col) == count for col in lists):
        return [dict(zip(keys, row)) for row in zip(*lists)]
    rows: list[dict[str, Any]] = []
    for i in range(count):
        row = {k: col[i] for k, col in zip(keys, lists)}
        if meta is not None and meta[i]:
            row.update(meta[i])
        rows.append(row)
    return rows


def _flags(valid: Any) -> list[bool]:
    if isinstance(valid, (pa.Array, pa.ChunkedArray)):
        return [bool(v) for v in valid.to_pylist()]
    return np.asarray(valid, dtype=bool).tolist()


def query_rows(schema: CollectionSchema, result: QueryResult) -> list[dict[str, Any]]:
    names = list(result.columns)
    return _rows(schema, result.columns, names, result.num_rows)


def search_hits(
    schema: CollectionSchema, results: SearchResults, round_decimal: int = -1
) -> SearchResult:
    ids = column_values(schema, results.primary_field_name, results.ids)
    dist_list = np.asarray(results.distances, dtype=np.float32).tolist()
    if round_decimal is not None and round_decimal >= 0:
        # Rounded in float64 so 0.95 reads 0.95, not float32's 0.949999988.
        dist_list = [round(d, round_decimal) for d in dist_list]
    names = [
        n for n in results.fields if n != results.primary_field_name or n in results.output_fields
    ]
    # No output fields (the usual vector search): every entity is a fresh empty dict,
    # with no per-row zip over columns.
    entities = _rows(schema, results.fields, names, len(ids)) if names else None
    pk_name = results.primary_field_name
    make = _hit_type(pk_name)
    per_query: list[Hits] = []
    topks = results.topks
    lo = 0
    for q in range(results.nq):
        hi = lo + int(topks[q])
        q_ids = ids[lo:hi]
        q_dist = dist_list[lo:hi]
        if entities is None:
            hits = [make({pk_name: i, "distance": d, "entity": {}}) for i, d in zip(q_ids, q_dist)]
        else:
            hits = [
                make({pk_name: i, "distance": d, "entity": e})
                for i, d, e in zip(q_ids, q_dist, entities[lo:hi])
            ]
        per_query.append(Hits(hits, q_ids, q_dist))
        lo = hi
    return SearchResult(per_query, results.session_timestamp)
