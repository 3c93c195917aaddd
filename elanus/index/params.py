"""Milvus's vector index catalogue: which types and metrics each index takes, its
build and search parameters with Milvus's defaults and ranges, and validation with
Milvus-like messages.

Rules taken from Milvus (its index engine, knowhere):

- an out-of-range or mistyped *known* parameter is an error;
- an *unknown* parameter is accepted and ignored (build and search alike) unless
  ``strict=True`` is asked for;
- ``nlist`` larger than the data allows is lowered to ``max(1, rows // 39)`` at
  build time (see ``effective_nlist``), not rejected;
- ``ef`` / ``search_list`` / ``reorder_k`` smaller than ``k`` are errors;
- ``AUTOINDEX`` resolves per vector type (HNSW for dense float types,
  BIN_IVF_FLAT for binary, SPARSE_INVERTED_INDEX for sparse); ``describe_index``
  keeps reporting ``AUTOINDEX``, which is the caller's to remember.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from elanus.errors import ParameterError
from elanus.schema.types import DataType

__all__ = [
    "ParamSpec",
    "IndexSpec",
    "INDEX_SPECS",
    "COMMON_SEARCH_PARAMS",
    "index_spec",
    "resolve_index_type",
    "default_metric",
    "check_build_params",
    "check_search_params",
    "effective_nlist",
    "effective_nbits",
]

_INT_MAX = 2**31 - 1
_MAX_K = 1_000_000
_FLOAT_TYPES = frozenset({DataType.FLOAT_VECTOR})
_HALF_TYPES = frozenset({DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR})
_FLOATISH = _FLOAT_TYPES | _HALF_TYPES
_FLOAT_METRICS = frozenset({"L2", "IP", "COSINE"})
_BIN_METRICS = frozenset({"HAMMING", "JACCARD"})
_SPARSE_METRICS = frozenset({"IP", "BM25"})


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its kind, Milvus's default and allowed values.

    ``default=None`` means "no default": it is filled at search time from ``k``
    (``ef``, ``search_list``, ``reorder_k``) or, with ``required``, must be given.
    """

    name: str
    kind: str  # "int" | "float" | "bool" | "str"
    default: Any = None
    lo: float | None = None
    hi: float | None = None
    hi_open: bool = False
    choices: tuple[str, ...] = ()
    required: bool = False
    aliases: tuple[str, ...] = ()

    def coerce(self, raw: Any) -> Any:
        value = _coerce(self, raw)
        if self.choices and value not in self.choices:
            raise ParameterError(
                f"invalid {self.name}: {raw}, should be one of [{', '.join(self.choices)}]"
            )
        if self.kind in ("int", "float") and (self.lo is not None or self.hi is not None):
            lo = -math.inf if self.lo is None else self.lo
            hi = math.inf if self.hi is None else self.hi
            above = value >= hi if self.hi_open else value > hi
            if value < lo or above:
                close = ")" if self.hi_open else "]"
                # Milvus prints a float parameter's bounds with six decimals
                fmt = _fmt if self.kind == "int" else _fmt_float
                raise ParameterError(
                    f"Out of range in json: param '{self.name}' ({raw}) should be in range "
                    f"[{fmt(lo)}, {fmt(hi)}{close}"
                )
        return value


@dataclass(frozen=True)
class IndexSpec:
    name: str
    vector_types: frozenset[DataType]
    metrics: frozenset[str]
    build: tuple[ParamSpec, ...] = ()
    search: tuple[ParamSpec, ...] = ()


def _fmt(x: float) -> str:
    if x in (math.inf, -math.inf):
        return str(x)
    return str(int(x)) if float(x).is_integer() else str(x)


def _fmt_float(x: float) -> str:
    return str(x) if x in (math.inf, -math.inf) else f"{x:f}"


def _coerce(spec: ParamSpec, raw: Any) -> Any:
    kind = spec.kind
    try:
        if kind == "int":
            if isinstance(raw, bool):
                raise ValueError
            if isinstance(raw, float):
                if not raw.is_integer():
                    raise ValueError
                return int(raw)
            return int(str(raw).strip())
        if kind == "float":
            if isinstance(raw, bool):
                raise ValueError
            return float(raw)
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "1"):
                return True
            if text in ("false", "0"):
                return False
            raise ValueError
        return str(raw).strip().upper() if spec.choices else str(raw)
    except (TypeError, ValueError):
        noun = {"int": "integer", "float": "float", "bool": "boolean"}.get(kind, "string")
        raise ParameterError(
            f"Type conflict in json: param '{spec.name}' ({raw}) should be {noun}"
        ) from None


_NLIST = ParamSpec("nlist", "int", 128, 1, 65536)
_NPROBE = ParamSpec("nprobe", "int", 8, 1, 65536)
_M = ParamSpec("M", "int", 30, 2, 2048)
_EFC = ParamSpec("efConstruction", "int", 360, 1, _INT_MAX)
_EF = ParamSpec("ef", "int", None, 1, _INT_MAX)
_REFINE = ParamSpec("refine", "bool", False)
_REFINE_TYPES = ("SQ6", "SQ8", "FP16", "BF16", "FP32", "FLAT")
_REFINE_TYPE = ParamSpec("refine_type", "str", None, choices=_REFINE_TYPES)
_REFINE_K = ParamSpec("refine_k", "float", 1.0, 1, 3.4e38)
_HNSW_BUILD = (_M, _EFC)
_HNSW_SEARCH = (_EF,)

COMMON_SEARCH_PARAMS = (
    ParamSpec("radius", "float"),
    ParamSpec("range_filter", "float"),
    ParamSpec("level", "int", None, 1, 10),
)

_SPARSE_BUILD = (
    ParamSpec("drop_ratio_build", "float", 0.0, 0, 1, hi_open=True),
    ParamSpec("bm25_k1", "float", 1.2, 0, 3),
    ParamSpec("bm25_b", "float", 0.75, 0, 1),
    ParamSpec("bm25_avgdl", "float", None, 1, 3.4e38),
)
_SPARSE_SEARCH = (
    ParamSpec("drop_ratio_search", "float", 0.0, 0, 1, hi_open=True),
    ParamSpec("dim_max_score_ratio", "float", 1.05, 0.5, 1.3),
    # BM25 only: the collection-wide average document length, which a segment
    # cannot know on its own (the engine passes it per search).
    ParamSpec("bm25_avgdl", "float", None, 1, 3.4e38),
)
_ALGOS = (
    "DAAT_MAXSCORE",
    "DAAT_WAND",
    "TAAT_NAIVE",
    "SINDI",
    "BLOCK_MAX_MAXSCORE",
    "BLOCK_MAX_WAND",
)
# Storage and traversal knobs of Milvus's sparse algorithms. Every algorithm here
# scores exhaustively, so they are validated and recorded but change no result.
_SPARSE_LAYOUT = (
    ParamSpec("sindi_window_size", "int", None, 1024, 65535),
    ParamSpec("block_max_block_size", "int", None, 1, _INT_MAX),
    ParamSpec("inverted_index_codec", "str", None),
    ParamSpec("quant_type", "str", None),
)
_SPARSE_CODECS = ("block_streamvbyte", "block_maskedvbyte")
# quant_type's values per metric: IP stores weights as floats, BM25 term counts
_SPARSE_QUANT = {"IP": ("fp32", "fp16", "bf16"), "BM25": ("u32", "u16")}

INDEX_SPECS: dict[str, IndexSpec] = {
    spec.name: spec
    for spec in (
        IndexSpec("FLAT", _FLOATISH, _FLOAT_METRICS),
        IndexSpec("IVF_FLAT", _FLOATISH, _FLOAT_METRICS, (_NLIST,), (_NPROBE,)),
        IndexSpec("IVF_SQ8", _FLOATISH, _FLOAT_METRICS, (_NLIST,), (_NPROBE,)),
        IndexSpec(
            "IVF_PQ",
            _FLOATISH,
            _FLOAT_METRICS,
            (
                _NLIST,
                ParamSpec("m", "int", None, 1, 65536, required=True),
                ParamSpec("nbits", "int", 8, 1, 24),
            ),
            (_NPROBE,),
        ),
        IndexSpec(
            "IVF_RABITQ",
            _FLOATISH,
            _FLOAT_METRICS,
            (_NLIST, _REFINE, ParamSpec("refine_type", "str", None, choices=_REFINE_TYPES)),
            (
                _NPROBE,
                ParamSpec("rbq_query_bits", "int", 0, 0, 8, aliases=("rbq_bits_query",)),
                _REFINE_K,
            ),
        ),
        IndexSpec(
            "HNSW", _FLOATISH | {DataType.INT8_VECTOR}, _FLOAT_METRICS, _HNSW_BUILD, _HNSW_SEARCH
        ),
        IndexSpec(
            "HNSW_SQ",
            _FLOATISH,
            _FLOAT_METRICS,
            _HNSW_BUILD
            + (
                ParamSpec("sq_type", "str", "SQ8", choices=("SQ4U", "SQ6", "SQ8", "FP16", "BF16")),
                _REFINE,
                _REFINE_TYPE,
            ),
            _HNSW_SEARCH + (_REFINE_K,),
        ),
        IndexSpec(
            "HNSW_PQ",
            _FLOATISH,
            _FLOAT_METRICS,
            _HNSW_BUILD
            + (
                ParamSpec("m", "int", 32, 1, 65536),
                ParamSpec("nbits", "int", 8, 1, 16),
                _REFINE,
                _REFINE_TYPE,
            ),
            _HNSW_SEARCH + (_REFINE_K,),
        ),
        IndexSpec(
            "HNSW_PRQ",
            _FLOATISH,
            _FLOAT_METRICS,
            _HNSW_BUILD
            + (
                ParamSpec("m", "int", 2, 1, 65536),
                ParamSpec("nrq", "int", 2, 1, 64),
                ParamSpec("nbits", "int", 8, 1, 64),
                _REFINE,
                _REFINE_TYPE,
            ),
            _HNSW_SEARCH + (_REFINE_K,),
        ),
        IndexSpec(
            "SCANN",
            _FLOATISH,
            _FLOAT_METRICS,
            (
                _NLIST,
                ParamSpec("with_raw_data", "bool", True),
                ParamSpec("sub_dim", "int", 2, 1, 65536),
            ),
            (_NPROBE, ParamSpec("reorder_k", "int", None, 1, _INT_MAX)),
        ),
        IndexSpec(
            "DISKANN",
            _FLOATISH,
            _FLOAT_METRICS,
            (
                ParamSpec("max_degree", "int", 56, 1, 2048),
                ParamSpec("search_list_size", "int", 100, 1, _INT_MAX),
                ParamSpec("pq_code_budget_gb_ratio", "float", 0.125, 0, 3.4e38),
                ParamSpec("search_cache_budget_gb_ratio", "float", 0.1, 0, 3.4e38),
            ),
            (
                ParamSpec("search_list", "int", None, 1, _INT_MAX, aliases=("search_list_size",)),
                ParamSpec("beamwidth", "int", 8, 1, 128),
            ),
        ),
        IndexSpec(
            "BIN_FLAT",
            frozenset({DataType.BINARY_VECTOR}),
            _BIN_METRICS | {"SUBSTRUCTURE", "SUPERSTRUCTURE"},
        ),
        IndexSpec(
            "BIN_IVF_FLAT", frozenset({DataType.BINARY_VECTOR}), _BIN_METRICS, (_NLIST,), (_NPROBE,)
        ),
        IndexSpec(
            "MINHASH_LSH",
            frozenset({DataType.BINARY_VECTOR}),
            frozenset({"MHJACCARD"}),
            (
                ParamSpec("mh_element_bit_width", "int", 32, choices=()),
                ParamSpec("mh_lsh_band", "int", None, 1, 65536),
                ParamSpec("with_raw_data", "bool", True),
            ),
            (
                ParamSpec("mh_search_with_jaccard", "bool", False),
                ParamSpec("refine_k", "int", None, 1, _INT_MAX),
            ),
        ),
        IndexSpec(
            "SPARSE_INVERTED_INDEX",
            frozenset({DataType.SPARSE_FLOAT_VECTOR}),
            _SPARSE_METRICS,
            (ParamSpec("inverted_index_algo", "str", "DAAT_MAXSCORE"),)
            + _SPARSE_BUILD
            + _SPARSE_LAYOUT,
            _SPARSE_SEARCH,
        ),
        IndexSpec(
            "SPARSE_WAND",
            frozenset({DataType.SPARSE_FLOAT_VECTOR}),
            _SPARSE_METRICS,
            (ParamSpec("inverted_index_algo", "str", "DAAT_WAND"),)
            + _SPARSE_BUILD
            + _SPARSE_LAYOUT,
            _SPARSE_SEARCH,
        ),
    )
}

# Milvus's autoIndex defaults per vector type (index type, metric, build params).
_AUTOINDEX: dict[DataType, tuple[str, str, dict[str, Any]]] = {
    DataType.FLOAT_VECTOR: ("HNSW", "COSINE", {"M": 18, "efConstruction": 240}),
    DataType.FLOAT16_VECTOR: ("HNSW", "COSINE", {"M": 18, "efConstruction": 240}),
    DataType.BFLOAT16_VECTOR: ("HNSW", "COSINE", {"M": 18, "efConstruction": 240}),
    DataType.INT8_VECTOR: ("HNSW", "COSINE", {"M": 18, "efConstruction": 240}),
    DataType.BINARY_VECTOR: ("BIN_IVF_FLAT", "HAMMING", {"nlist": 1024}),
    DataType.SPARSE_FLOAT_VECTOR: ("SPARSE_INVERTED_INDEX", "IP", {}),
}


# Scalar index types: named on a vector field they are a type mismatch, not unknown.
_SCALAR_INDEX_NAMES = frozenset({"BITMAP", "INVERTED", "STL_SORT", "TRIE", "NGRAM", "RTREE"})
# Metrics a vector type takes whatever its index; Milvus's proxy checks these
# before the index's own list.
_FLOAT_FAMILY = ("float", frozenset({"L2", "IP", "COSINE"}))
_METRIC_FAMILIES: dict[DataType, tuple[str, frozenset[str]]] = {
    DataType.FLOAT_VECTOR: _FLOAT_FAMILY,
    DataType.FLOAT16_VECTOR: _FLOAT_FAMILY,
    DataType.BFLOAT16_VECTOR: _FLOAT_FAMILY,
    DataType.INT8_VECTOR: ("int", frozenset({"L2", "IP", "COSINE"})),
    DataType.BINARY_VECTOR: (
        "binary",
        frozenset({"HAMMING", "JACCARD", "SUBSTRUCTURE", "SUPERSTRUCTURE", "MHJACCARD"}),
    ),
}


def index_spec(index_type: str) -> IndexSpec:
    name = str(index_type).strip().upper()
    spec = INDEX_SPECS.get(name)
    if spec is None:
        raise ParameterError(
            f"invalid index type: {index_type}, supported: [{', '.join(INDEX_SPECS)}, AUTOINDEX]"
        )
    return spec


def default_metric(dtype: DataType) -> str:
    return _AUTOINDEX[DataType.parse(dtype)][1]


def resolve_index_type(
    dtype: DataType, index_type: str, params: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """The concrete index type and build params for a request (AUTOINDEX resolved).

    AUTOINDEX uses Milvus's autoIndex defaults for the type; user params the
    concrete index knows are kept, others are dropped (Milvus ignores them).
    """
    dtype = DataType.parse(dtype)
    name = str(index_type or "AUTOINDEX").strip().upper()
    given = dict(params or {})
    if name in ("AUTOINDEX", ""):
        concrete, _, defaults = _AUTOINDEX[dtype]
        known = {p.name for p in INDEX_SPECS[concrete].build}
        merged = dict(defaults)
        merged.update({k: v for k, v in given.items() if k in known})
        return concrete, merged
    return name, given


def _dtype_label(dtype: DataType) -> str:
    return "".join(part.capitalize() for part in dtype.name.split("_"))


def _check_params(
    specs: tuple[ParamSpec, ...], given: dict[str, Any], strict: bool, where: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    seen: set[str] = set()
    for spec in specs:
        key = next((n for n in (spec.name, *spec.aliases) if n in given), None)
        if key is None or given[key] is None:
            if spec.required:
                raise ParameterError(f"param '{spec.name}' is required for {where}")
            if spec.default is not None:
                out[spec.name] = spec.default
            continue
        seen.add(key)
        out[spec.name] = spec.coerce(given[key])
    unknown = [k for k in given if k not in seen and k not in _IGNORED_KEYS]
    if strict and unknown:
        raise ParameterError(f"unknown parameter(s) for {where}: {', '.join(sorted(unknown))}")
    return out


# Keys that travel with index/search params on the wire but are not index knobs.
_IGNORED_KEYS = frozenset(
    {
        "index_type",
        "metric_type",
        "params",
        "mmap.enabled",
        "dim",
        "hints",
        "offset",
        "ignore_growing",
        "page_retain_order",
        "group_by_field",
        "iterative_filter",
    }
)


def check_build_params(
    dtype: DataType,
    index_type: str,
    metric_type: str | None,
    params: dict[str, Any] | None,
    dim: int | None = None,
    strict: bool = False,
) -> tuple[str, str, dict[str, Any]]:
    """Validate a create_index request: (concrete index type, metric, normalised params)."""
    dtype = DataType.parse(dtype)
    concrete, given = resolve_index_type(dtype, index_type, params)
    # Milvus checks a vector field's metric before the index type it names.
    if concrete in _SCALAR_INDEX_NAMES and not metric_type:
        raise ParameterError("metric type not set for vector index")
    if (
        dtype == DataType.SPARSE_FLOAT_VECTOR
        and metric_type
        and str(metric_type).strip().upper() not in ("IP", "BM25")
    ):
        raise ParameterError("only IP&BM25 is the supported metric type for sparse index")
    family = _METRIC_FAMILIES.get(dtype)
    named = str(metric_type or "").strip()
    if named and family is not None and named.upper() not in family[1]:
        raise ParameterError(
            f"{family[0]} vector index does not support metric type: {named}: invalid "
            "parameter[expected=valid index params][actual=invalid index params]"
        )
    if concrete in _SCALAR_INDEX_NAMES:
        raise ParameterError(
            f"data type {_dtype_label(dtype)} can't build with this index {concrete}"
        )
    spec = index_spec(concrete)
    if dtype not in spec.vector_types:
        raise ParameterError(
            f"data type {_dtype_label(dtype)} can't build with this index {concrete}"
        )
    metric = str(metric_type or default_metric(dtype)).strip().upper()
    if metric not in spec.metrics:
        raise ParameterError(
            f"metric type {metric} not found or not supported, "
            f"supported: [{' '.join(sorted(spec.metrics))}]"
        )
    out = _check_params(spec.build, given, strict, f"index {concrete}")
    if concrete == "IVF_PQ" and dim is not None and dim % out["m"] != 0:
        raise ParameterError(
            "The dimension of a vector (dim) should be a multiple of the number of subquantizers "
            f"(m). Dimension: {dim}, m: {out['m']}"
        )
    if concrete in ("HNSW_PQ", "HNSW_PRQ") and dim is not None and dim % out["m"] != 0:
        raise ParameterError(
            f"The dimension of a vector (dim) should be a multiple of m. Dimension: {dim}, m: {out['m']}"
        )
    if concrete == "SCANN" and dim is not None and dim % out["sub_dim"] != 0:
        raise ParameterError(
            "The dimension of a vector (dim) should be a multiple of sub_dim. "
            f"Dimension:{dim}, sub_dim:{out['sub_dim']}"
        )
    if concrete == "MINHASH_LSH":
        width = out["mh_element_bit_width"]
        if width not in (32, 64):
            raise ParameterError(f"mh_element_bit_width should be 32 or 64, got {width}")
        if dim is not None and dim % width != 0:
            raise ParameterError(
                f"dim ({dim}) should be a multiple of mh_element_bit_width ({width})"
            )
    if spec.name in ("SPARSE_INVERTED_INDEX", "SPARSE_WAND"):
        _check_sparse_layout(metric, out)
    if "refine_type" in out and not out.get("refine", False):
        raise ParameterError("refine_type is set but refine is false")
    if out.get("refine") and "refine_type" not in out:
        out["refine_type"] = "FP32"
    return concrete, metric, out


def _check_sparse_layout(metric: str, out: dict[str, Any]) -> None:
    """Milvus's checks of a sparse index's algorithm, codec and quantisation."""
    algo = str(out["inverted_index_algo"]).strip().upper()
    if algo not in _ALGOS:
        raise ParameterError(
            f"sparse inverted index algo {out['inverted_index_algo']} not found or not supported, "
            f"supported: [{' '.join(_ALGOS)}]"
        )
    out["inverted_index_algo"] = algo
    codec = out.get("inverted_index_codec")
    if codec is not None and str(codec).strip().lower() not in _SPARSE_CODECS:
        raise ParameterError(
            f"inverted_index_codec {codec} not found or not supported, "
            f"supported: [{' '.join(_SPARSE_CODECS)}]"
        )
    quant = out.get("quant_type")
    allowed = _SPARSE_QUANT.get(metric, ())
    if quant is not None and str(quant).strip().lower() not in allowed:
        raise ParameterError(
            f"quant_type {quant} is not supported for metric {metric}, "
            f"supported: [{' '.join(allowed)}]"
        )


def check_search_params(
    index_type: str,
    metric_type: str,
    params: dict[str, Any] | None,
    k: int | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Validate search params for an index: normalised dict, k-dependent defaults filled.

    Results are memoised on the (hashable) request: the same params arrive with
    every query of a workload, and a single query must not pay for re-validation.
    """
    try:
        key = (index_type, metric_type, tuple(sorted((params or {}).items())), k, strict)
        hash(key)
    except TypeError:  # nested or unhashable values: validate without the cache
        return _check_search_params(index_type, metric_type, params, k, strict)
    return dict(_cached_search_params(key))


@functools.lru_cache(maxsize=1024)
def _cached_search_params(key: tuple[Any, ...]) -> dict[str, Any]:
    index_type, metric_type, items, k, strict = key
    return _check_search_params(index_type, metric_type, dict(items), k, strict)


def _check_search_params(
    index_type: str,
    metric_type: str,
    params: dict[str, Any] | None,
    k: int | None,
    strict: bool,
) -> dict[str, Any]:
    spec = index_spec(index_type)
    given = dict(params or {})
    if isinstance(given.get("params"), dict):
        nested = given.pop("params")
        given.update(nested)
    out = _check_params(spec.search + COMMON_SEARCH_PARAMS, given, strict, f"search on {spec.name}")
    _check_range_params(str(metric_type).upper(), out)
    level = out.get("level")
    if k is not None:
        # The engine holds each collection to its window (16384, or 1,000,000 under
        # query_mode=large_topk); this bound only guards the index itself.
        if k < 1 or k > _MAX_K:
            raise ParameterError(f"topk [{k}] is invalid, it should be in range [1, {_MAX_K}]")
        for name, floor in (("ef", 16), ("search_list", 16), ("reorder_k", 1)):
            if any(p.name == name for p in spec.search):
                if name not in out:
                    base = max(k, floor)
                    out[name] = base * level if level else base
                elif out[name] < k:
                    raise ParameterError(f"{name}({out[name]}) should be larger than k({k})")
    if level and "nprobe" in out and "nprobe" not in given:
        out["nprobe"] = min(65536, out["nprobe"] * level)
    return out


def _check_range_params(metric: str, out: dict[str, Any]) -> None:
    radius, range_filter = out.get("radius"), out.get("range_filter")
    if range_filter is not None and radius is None:
        raise ParameterError("range_filter is set but radius is not")
    if radius is None or range_filter is None:
        return
    if metric in ("IP", "COSINE", "BM25"):
        if not radius < range_filter:
            raise ParameterError(
                f"range_filter({range_filter}) must be greater than radius({radius}) for metric {metric}"
            )
    elif not range_filter < radius:
        raise ParameterError(
            f"range_filter({range_filter}) must be less than radius({radius}) for metric {metric}"
        )


def effective_nlist(rows: int, nlist: int) -> int:
    """Milvus lowers nlist when there are fewer than 39 training rows per list."""
    if nlist * 39 > rows:
        return max(1, rows // 39)
    return nlist


def effective_nbits(rows: int, nbits: int) -> int:
    """PQ codebooks need at least 2**nbits training rows; Milvus lowers nbits to fit."""
    while nbits > 1 and rows < (1 << nbits):
        nbits -= 1
    return nbits
