"""Search planning: what a search will do, as plain values, before any vector is touched.

``plan_search`` validates a request against the schema and the index definitions
(field, metric, limits, range and grouping parameters) and gives a ``SearchSpec``;
``plan_segments`` then picks, per segment and from how many rows pass the filter,
between the segment's vector index (with the usable rows as an ID selector) and an
exact scan. See docs/search.md for why the thresholds are what they are.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from elanus.engine.snapshot import Snapshot
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType, FieldSchema, FunctionType

__all__ = [
    "EXACT",
    "EXACT_SUBSET",
    "INDEX",
    "INDEX_MIN_FRACTION",
    "MAX_TOPK",
    "SKIP",
    "SearchSpec",
    "SegmentSearchPlan",
    "check_window",
    "choose_strategy",
    "default_metric",
    "plan_search",
    "plan_segments",
    "resolve_group_field",
]

MAX_TOPK = 16384
MAX_GROUP_SIZE = 1024

# Strategies for one segment.
SKIP = "skip"  # no usable row
INDEX = "index"  # the segment's vector index, usable rows as an ID selector
EXACT = "exact"  # exact scan of the whole segment, unusable rows masked out
EXACT_SUBSET = "exact_subset"  # exact scan of the usable rows, gathered first

# Below this fraction of usable rows an index search with an ID selector loses
# recall (graph walks stall among excluded nodes, IVF lists run dry) while an exact
# scan of the survivors is cheap; see docs/search.md.
INDEX_MIN_FRACTION = 0.1
# Segments this small are scanned: an index search costs more than the scan.
EXACT_MAX_ROWS = 2048
# An exact scan masks out unusable rows while most rows are usable, and gathers the
# survivors first when few are (copying them costs less than scoring the rest).
SUBSET_MAX_FRACTION = 0.5

# Request keys that are not index search parameters.
_NOT_INDEX_PARAMS = frozenset(
    {
        "metric_type",
        "params",
        "radius",
        "range_filter",
        "offset",
        "limit",
        "topk",
        "anns_field",
        "round_decimal",
        "ignore_growing",
        "group_by_field",
        "group_size",
        "strict_group_size",
        "consistency_level",
        "guarantee_timestamp",
        "iterator",
        "search_iter_v2",
        "search_iter_batch_size",
        "search_iter_last_bound",
        "search_iter_id",
        "collection_id",
        "reduce_stop_for_best",
        "hints",
        "analyzer_name",
    }
)

_FLOAT_METRICS = ("L2", "IP", "COSINE")
_BINARY_METRICS = ("HAMMING", "JACCARD", "SUBSTRUCTURE", "SUPERSTRUCTURE")
_LARGER_IS_BETTER = frozenset({"IP", "COSINE", "BM25"})


@dataclass(frozen=True)
class SearchSpec:
    """A validated search: the field, metric and the shape of the answer."""

    field: FieldSchema
    metric: str
    larger_is_better: bool
    limit: int
    offset: int
    index_params: dict[str, Any] = dataclass_field(default_factory=dict)
    radius: float | None = None
    range_filter: float | None = None
    round_decimal: int = -1
    group_by_field: FieldSchema | None = None
    group_size: int = 1
    strict_group_size: bool = False

    @property
    def k(self) -> int:
        """Hits needed from each segment: ``limit + offset``."""
        return self.limit + self.offset

    @property
    def is_range(self) -> bool:
        return self.radius is not None


@dataclass(frozen=True)
class SegmentSearchPlan:
    """How one segment (by position in the snapshot) is searched."""

    segment: int
    strategy: str
    num_rows: int
    usable: int

    @property
    def fraction(self) -> float:
        return self.usable / self.num_rows if self.num_rows else 0.0


def choose_strategy(num_rows: int, usable: int, has_index: bool) -> str:
    """The strategy for one segment, from its size, usable rows and index."""
    if usable <= 0 or num_rows <= 0:
        return SKIP
    fraction = usable / num_rows
    if has_index and fraction >= INDEX_MIN_FRACTION and usable > EXACT_MAX_ROWS:
        return INDEX
    return EXACT if fraction > SUBSET_MAX_FRACTION else EXACT_SUBSET


def plan_segments(
    counts: tuple[int, ...], num_rows: tuple[int, ...], has_index: tuple[bool, ...]
) -> tuple[SegmentSearchPlan, ...]:
    # Pure in its arguments and the plans are frozen: repeated searches of an
    # unchanged snapshot share one tuple.
    return _plan_segments(tuple(counts), tuple(num_rows), tuple(has_index))


@functools.lru_cache(maxsize=1024)
def _plan_segments(
    counts: tuple[int, ...], num_rows: tuple[int, ...], has_index: tuple[bool, ...]
) -> tuple[SegmentSearchPlan, ...]:
    return tuple(
        SegmentSearchPlan(i, choose_strategy(n, c, h), n, c)
        for i, (c, n, h) in enumerate(zip(counts, num_rows, has_index))
    )


def default_metric(schema: CollectionSchema, fs: FieldSchema) -> str:
    """The metric of a field searched without an index definition (AUTOINDEX's defaults)."""
    for fn in schema.functions:
        if fn.function_type == FunctionType.BM25 and fs.name in fn.output_field_names:
            return "BM25"
    if fs.dtype == DataType.BINARY_VECTOR:
        return "HAMMING"
    if fs.dtype == DataType.SPARSE_FLOAT_VECTOR:
        return "IP"
    return "COSINE"


def larger_is_better(metric: str) -> bool:
    return metric.upper() in _LARGER_IS_BETTER


def _index_metric(snapshot: Snapshot, name: str) -> str | None:
    spec = snapshot.index_specs.get(name)
    if spec is None:
        return None
    metric = (
        spec.get("metric_type") if isinstance(spec, dict) else getattr(spec, "metric_type", None)
    )
    return str(metric).upper() if metric else None


def _check_index_search_params(
    snapshot: Snapshot, fs: FieldSchema, metric: str, params: dict[str, Any], k: int
) -> None:
    """Search params against the field's index type, with Milvus's ranges and messages
    (``elanus.index``); range bounds are checked by ``_range_params``. A range search
    is not held to ``ef``/``search_list`` >= k: as in Milvus, those bound the walk of
    a top-k search only (the range search widens them itself)."""
    spec = snapshot.index_specs.get(fs.name)
    if not isinstance(spec, dict) or not spec.get("index_type"):
        return
    from elanus.index import resolve_index_type, validate_search_params

    index_type, _ = resolve_index_type(fs.dtype, str(spec["index_type"]), spec.get("params"))
    knobs = {k: v for k, v in params.items() if k not in ("radius", "range_filter")}
    validate_search_params(index_type, metric, knobs, None if "radius" in params else k)


def resolve_anns_field(schema: CollectionSchema, name: str | None) -> FieldSchema:
    if name:
        fs = schema.get(name)
        if fs is None:
            raise ParameterError(f"failed to get field schema by name: fieldName({name}) not found")
        if not fs.dtype.is_vector:
            raise ParameterError(f"field {name} is not a vector field and cannot be searched")
        return fs
    vectors = schema.vector_fields
    if len(vectors) == 1:
        return vectors[0]
    if not vectors:
        raise ParameterError("the collection has no vector field to search")
    raise ParameterError("multiple anns_fields exist, please specify a anns_field in search_params")


def split_search_params(search_params: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(requested metric, the remaining params) from Milvus's ``search_params`` shape."""
    raw = dict(search_params or {})
    metric = raw.get("metric_type") or None
    inner = raw.get("params") or {}
    if isinstance(inner, str):
        import json

        inner = json.loads(inner) if inner.strip() else {}
    params = {k: v for k, v in raw.items() if k not in _NOT_INDEX_PARAMS}
    params.update(inner)
    for key in ("radius", "range_filter"):
        if key in raw and key not in params:
            params[key] = raw[key]
    return (str(metric).upper() if metric else None), params


# Validated specs by (schema, index definitions, request). A spec depends only on
# those, and the same request arrives with every query of a workload; the schema and
# index-definition objects are kept with the spec so a recycled id() cannot match.
_SPEC_CACHE: dict[tuple[Any, ...], tuple[Any, Any, SearchSpec]] = {}
_SPEC_CACHE_MAX = 1024


_PLAIN = frozenset({int, float, str, bool, type(None)})


def _frozen(value: Any) -> Any:
    """A hashable image of a params value, types included (``64`` and ``64.0`` differ
    to the validator); raises TypeError for values that cannot be frozen."""
    kind = type(value)
    if kind in _PLAIN:  # the usual leaf: no isinstance chain
        return (kind.__name__, value)
    if kind is dict:  # the usual node: plain leaves frozen in line, no call per leaf
        items = [
            (str(k), (type(v).__name__, v) if type(v) in _PLAIN else _frozen(v))
            for k, v in value.items()
        ]
        items.sort()
        return ("d", tuple(items))
    if isinstance(value, dict):
        return ("d", tuple(sorted((str(k), _frozen(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("l", tuple(_frozen(v) for v in value))
    hash(value)
    return (type(value).__name__, value)


def plan_search(
    snapshot: Snapshot,
    *,
    anns_field: str | None,
    search_params: dict[str, Any],
    limit: int,
    offset: int,
    round_decimal: int = -1,
    group_by_field: str | None = None,
    group_size: int = 1,
    strict_group_size: bool = False,
) -> SearchSpec:
    """Validate one search and give its ``SearchSpec`` (Milvus's rules and messages).

    Successful plans are cached; failures are not, so every bad request raises.
    """
    scalars = (
        anns_field,
        limit,
        offset,
        round_decimal,
        group_by_field,
        group_size,
        strict_group_size,
    )
    try:
        key: tuple[Any, ...] | None = (
            id(snapshot.schema),
            id(snapshot.index_specs),
            snapshot.result_window,
            _frozen(search_params),
            scalars,
            tuple(map(type, scalars)),  # 64 and 64.0 hash alike but differ to the validator
        )
        hash(key)
    except TypeError:
        key = None
    if key is not None:
        hit = _SPEC_CACHE.get(key)
        if hit is not None and hit[0] is snapshot.schema and hit[1] is snapshot.index_specs:
            return hit[2]
    spec = _plan_search(
        snapshot,
        anns_field=anns_field,
        search_params=search_params,
        limit=limit,
        offset=offset,
        round_decimal=round_decimal,
        group_by_field=group_by_field,
        group_size=group_size,
        strict_group_size=strict_group_size,
    )
    # BM25 specs carry the snapshot's corpus statistics: never reused.
    if key is not None and spec.metric != "BM25":
        if len(_SPEC_CACHE) >= _SPEC_CACHE_MAX:
            _SPEC_CACHE.clear()
        _SPEC_CACHE[key] = (snapshot.schema, snapshot.index_specs, spec)
    return spec


def _plan_search(
    snapshot: Snapshot,
    *,
    anns_field: str | None,
    search_params: dict[str, Any],
    limit: int,
    offset: int,
    round_decimal: int = -1,
    group_by_field: str | None = None,
    group_size: int = 1,
    strict_group_size: bool = False,
) -> SearchSpec:
    schema = snapshot.schema
    fs = resolve_anns_field(schema, anns_field)
    requested, params = split_search_params(search_params)
    indexed = _index_metric(snapshot, fs.name)
    if requested and indexed and requested != indexed:
        raise ParameterError(
            f"metric type not match: invalid parameter[expected={indexed}][actual={requested}]"
        )
    metric = requested or indexed or default_metric(schema, fs)
    _check_metric(schema, fs, metric)
    if metric == "BM25":
        from elanus.engine.fulltext import bm25_search_params

        params.update(bm25_search_params(snapshot, fs))
    check_window(limit, offset, snapshot.result_window)
    _check_index_search_params(snapshot, fs, metric, params, limit + offset)
    if round_decimal != -1 and not 0 <= round_decimal <= 6:
        raise ParameterError(
            f"round_decimal {round_decimal} is invalid, should be -1 or an integer in range [0, 6]"
        )
    radius, range_filter = _range_params(params, metric)
    group_fs = resolve_group_field(schema, group_by_field, group_size)
    return SearchSpec(
        field=fs,
        metric=metric,
        larger_is_better=larger_is_better(metric),
        limit=int(limit),
        offset=int(offset),
        index_params=params,
        radius=radius,
        range_filter=range_filter,
        round_decimal=int(round_decimal),
        group_by_field=group_fs,
        group_size=int(group_size or 1),
        strict_group_size=bool(strict_group_size),
    )


def _check_metric(schema: CollectionSchema, fs: FieldSchema, metric: str) -> None:
    if fs.dtype == DataType.BINARY_VECTOR:
        allowed: tuple[str, ...] = _BINARY_METRICS
    elif fs.dtype == DataType.SPARSE_FLOAT_VECTOR:
        allowed = ("BM25",) if default_metric(schema, fs) == "BM25" else ("IP",)
    else:
        allowed = _FLOAT_METRICS
    if metric not in allowed:
        raise ParameterError(
            f"metric type {metric} not found or not supported for field {fs.name} of type "
            f"{fs.dtype.name}, supported: [{' '.join(allowed)}]"
        )


def check_window(limit: int, offset: int, window: int = MAX_TOPK) -> None:
    """A search's topk and offset+limit within the collection's ``window``
    (``Snapshot.result_window``: 16384, or more under ``query_mode=large_topk``)."""
    if not isinstance(limit, int) or limit < 1 or limit > window:
        raise ParameterError(
            f"topk [{limit}] is invalid, it should be in range [1, {window}], but got {limit}"
        )
    if offset < 0:
        raise ParameterError(f"offset [{offset}] is invalid, it should not be negative")
    if limit + offset > window:
        raise ParameterError(
            f"(offset+limit) should be in range [1, {window}], but got {limit + offset}"
        )


def _range_params(params: dict[str, Any], metric: str) -> tuple[float | None, float | None]:
    radius_raw = params.pop("radius", None)
    filter_raw = params.pop("range_filter", None)
    if radius_raw is None:
        if filter_raw is not None:
            raise ParameterError("range_filter requires radius to be set for range search")
        return None, None
    radius = _number("radius", radius_raw)
    range_filter = None if filter_raw is None else _number("range_filter", filter_raw)
    if range_filter is not None:
        if larger_is_better(metric) and not range_filter > radius:
            raise ParameterError(
                f"range_filter must be greater than radius for {metric}, "
                f"got radius={radius}, range_filter={range_filter}"
            )
        if not larger_is_better(metric) and not range_filter < radius:
            raise ParameterError(
                f"range_filter must be less than radius for {metric}, "
                f"got radius={radius}, range_filter={range_filter}"
            )
    return radius, range_filter


def _number(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(number):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    return number


_GROUPABLE = frozenset(
    {
        DataType.BOOL,
        DataType.INT8,
        DataType.INT16,
        DataType.INT32,
        DataType.INT64,
        DataType.VARCHAR,
        DataType.STRING,
    }
)


def resolve_group_field(
    schema: CollectionSchema, name: str | None, group_size: int
) -> FieldSchema | None:
    if not name:
        return None
    fs = schema.get(name)
    if fs is None:
        raise ParameterError(f"groupBy field not found in schema: {name}")
    if fs.dtype not in _GROUPABLE:
        raise ParameterError(
            f"unsupported data type {fs.dtype.name} for group by operator, field {name}"
        )
    if group_size is not None and not 1 <= int(group_size) <= MAX_GROUP_SIZE:
        raise ParameterError(
            f"input group size:{group_size} exceeds configured max group size:{MAX_GROUP_SIZE}"
            if int(group_size) > MAX_GROUP_SIZE
            else f"group_size must be a positive integer, got {group_size}"
        )
    return fs
