"""Requests to and results from the engine: plain values shared by every front door.

Columns follow the shared convention (docs/engine.md): scalar columns are pyarrow
Arrays, dense vectors 2-D numpy arrays, sparse vectors scipy ``csr_array``, the
dynamic field the column ``$meta`` (JSON text per row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from elanus.errors import ParameterError

__all__ = [
    "Column",
    "ConsistencyLevel",
    "FunctionScoreSpec",
    "HybridSearchRequest",
    "IndexSpec",
    "QueryRequest",
    "QueryResult",
    "RankerSpec",
    "SearchRequest",
    "SearchResults",
    "WriteResult",
]

# A column in the shared convention: pyarrow.Array | numpy.ndarray | scipy.sparse.csr_array
Column = Any


class ConsistencyLevel:
    """Milvus's consistency levels, by name and by wire value."""

    STRONG = "Strong"
    SESSION = "Session"
    BOUNDED = "Bounded"
    EVENTUALLY = "Eventually"
    CUSTOMIZED = "Customized"
    ALL = (STRONG, SESSION, BOUNDED, EVENTUALLY, CUSTOMIZED)
    WIRE = {STRONG: 0, SESSION: 1, BOUNDED: 2, EVENTUALLY: 3, CUSTOMIZED: 4}

    @classmethod
    def parse(cls, value: object) -> str:
        if value is None:
            return cls.BOUNDED
        if value in cls.ALL:  # already a canonical name (every read's stored level)
            return str(value)
        if isinstance(value, int) or (hasattr(value, "value") and not isinstance(value, str)):
            number = int(getattr(value, "value", value))  # type: ignore[call-overload]
            for name, wire in cls.WIRE.items():
                if wire == number:
                    return name
        text = str(value).strip().lower()
        for name in cls.ALL:
            if name.lower() == text:
                return name
        raise ParameterError(f"invalid consistency level: {value}")


@dataclass(frozen=True)
class WriteResult:
    """The outcome of insert / upsert / delete.

    ``ids``: primary keys of the rows written (or deleted), in input order;
    ``count``: how many; ``timestamp``: the hybrid timestamp the write was stamped
    with (what Session consistency and ``guarantee_timestamp`` refer to).
    """

    ids: list[Any]
    count: int
    timestamp: int


@dataclass(frozen=True)
class IndexSpec:
    """One index as a user asked for it (Milvus names and parameters, unvalidated)."""

    field_name: str
    index_type: str = "AUTOINDEX"
    index_name: str = ""
    metric_type: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryRequest:
    filter: str = ""
    ids: list[Any] | None = None
    output_fields: list[str] | None = None
    partition_names: list[str] | None = None
    limit: int | None = None
    offset: int = 0
    filter_params: dict[str, Any] | None = None
    consistency_level: str | None = None
    guarantee_timestamp: int = 0
    # Order rows by primary key (what Milvus's iterators rely on) when True.
    order_by_pk: bool = False
    # ORDER BY as Milvus's ``order_by_fields`` spells it ("price:desc,name"), or "".
    order_by: str = ""
    # GROUP BY fields of an aggregation query (aggregates such as ``sum(x)`` are
    # named in ``output_fields``).
    group_by_fields: list[str] | None = None
    # The IANA zone TIMESTAMPTZ values are written in ("" : the collection's).
    timezone: str = ""


@dataclass(frozen=True)
class QueryResult:
    """Rows as columns, in ``output_fields`` order (the primary key always included).

    ``count(*)`` queries give one column ``count(*)`` with one row; aggregation
    queries give one row per group, with the group fields and aggregates asked for
    (no primary key).
    """

    columns: dict[str, Column]
    num_rows: int
    output_fields: list[str]


@dataclass(frozen=True)
class SearchRequest:
    """One vector search (also one leg of a hybrid search).

    ``queries``: a 2-D numpy array for dense fields, a csr_array for sparse ones,
    or a list of str when the field is the output of a BM25 or text-embedding
    function. ``search_params`` carries Milvus's params as given (``metric_type``,
    ``params``: {ef, nprobe, radius, range_filter, ...}).
    """

    queries: Any
    anns_field: str | None = None
    limit: int = 10
    offset: int = 0
    filter: str = ""
    filter_params: dict[str, Any] | None = None
    output_fields: list[str] | None = None
    partition_names: list[str] | None = None
    search_params: dict[str, Any] = field(default_factory=dict)
    round_decimal: int = -1
    group_by_field: str | None = None
    group_size: int = 1
    strict_group_size: bool = False
    consistency_level: str | None = None
    guarantee_timestamp: int = 0
    # Rerank functions applied to this search's hits (Milvus's ``ranker`` on search).
    ranker: FunctionScoreSpec | None = None
    # ORDER BY as Milvus's ``order_by_fields`` spells it ("price:desc,meta[\"k\"]"), or "".
    order_by: str = ""
    # The IANA zone TIMESTAMPTZ values are written in ("" : the collection's).
    timezone: str = ""


@dataclass(frozen=True)
class RankerSpec:
    """How a hybrid search merges its legs: ``kind`` is "rrf", "weighted", "decay", ...

    ``params`` as Milvus names them (``k``; ``weights``, ``norm_score``; decay's
    ``function``, ``origin``, ``scale``, ``offset``, ``decay``, ``input_field_names``).
    """

    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FunctionScoreSpec:
    """Rerank functions of a plain search, as Milvus's ``FunctionScore`` carries them.

    ``functions``: boost functions (applied to every candidate, combined by
    ``params["function_mode"]`` and applied by ``params["boost_mode"]``, both
    ``multiply`` by default) and at most one other (decay, model, rrf, weighted)
    applied to the ``limit + offset`` best hits afterwards.
    """

    functions: tuple[RankerSpec, ...]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HybridSearchRequest:
    requests: list[SearchRequest]
    ranker: RankerSpec
    limit: int = 10
    offset: int = 0
    output_fields: list[str] | None = None
    partition_names: list[str] | None = None
    round_decimal: int = -1
    group_by_field: str | None = None
    group_size: int = 1
    strict_group_size: bool = False
    consistency_level: str | None = None
    guarantee_timestamp: int = 0


@dataclass(frozen=True)
class SearchResults:
    """Hits of ``nq`` queries, flattened as Milvus's wire format does.

    Query i owns hits ``offsets[i]:offsets[i+1]`` (``offsets`` = cumsum of
    ``topks`` with a leading 0). ``ids`` are primary keys, ``distances`` float32
    in Milvus's sign convention for the metric, ``fields`` the output columns
    aligned with the hits, ``group_by_values`` the group key of each hit when
    grouping.
    """

    nq: int
    topks: list[int]
    ids: Column
    distances: np.ndarray
    fields: dict[str, Column]
    output_fields: list[str]
    primary_field_name: str
    group_by_values: Column | None = None
    metric_type: str = ""
    # The timestamp the read was served at (lets iterators resume at one snapshot).
    session_timestamp: int = 0

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(np.asarray(self.topks, dtype=np.int64))])
