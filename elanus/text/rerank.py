"""Rerankers for hybrid search, as pure functions over per-request hit lists.

The inputs, for one query: one :class:`SearchHits` per sub-request (primary keys
best first, distances as Milvus returns them, the metric). The output: the merged
primary keys with their new scores, best first, after ``offset`` and ``limit``.
Ties are broken by the smaller primary key, as Milvus does.

Definitions (taken from Milvus's rerank functions):

* RRF: ``score(id) = sum over sub-requests of 1 / (k + rank)``, rank from 1;
  ``0 < k < 16384``, default 60.
* Weighted: ``score(id) = sum of weight_i * f_i(distance)``, weights in [0, 1],
  one per sub-request. With ``norm_score`` ``f`` maps each metric onto [0, 1]:
  COSINE ``(1 + d) / 2``, IP ``0.5 + atan(d) / pi``, BM25 ``2 * atan(d) / pi``,
  distances (L2, HAMMING, JACCARD...) ``1 - 2 * atan(d) / pi``. Without it ``f`` is
  the identity, except that when larger-is-better and smaller-is-better metrics
  are mixed the distance metrics still go through ``1 - 2 * atan(d) / pi``. When
  every metric is a distance and nothing is normalised, smaller scores rank first.
* Decay: each distance is first made larger-is-better (distances through
  ``1 - 2 * atan(d) / pi``), sub-requests are merged by ``score_mode`` (max by
  default; sum, avg), and the result is multiplied by the decay factor of the hit's
  numeric field value ``v``, with ``x = max(0, |v - origin| - offset)``:
  gauss ``exp(x^2 * ln(decay) / scale^2)``, exp ``exp(x * ln(decay) / scale)``,
  linear ``max(decay, 1 - x * (1 - decay) / scale)``.
* Boost (:func:`apply_boost`): functions whose filter matches a hit contribute
  ``weight`` (times a per-hit random score in [0, 1) when ``random_score`` is set);
  several are combined by ``function_mode`` and applied to the hit's score by
  ``boost_mode`` (``multiply`` by default, or ``sum``). The filter itself is
  evaluated by the engine; here it arrives as a boolean mask per function.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from elanus.errors import ParameterError

__all__ = [
    "BoostFunction",
    "DecayRanker",
    "RRFRanker",
    "RankedHits",
    "Reranker",
    "SearchHits",
    "WeightedRanker",
    "apply_boost",
    "boost_function_from_params",
    "create_reranker",
    "decay_factors",
    "normalize_scores",
    "random_scores",
]

_LARGER_IS_BETTER = frozenset({"IP", "COSINE", "BM25", "MAX_SIM", "MAX_SIM_IP", "MAX_SIM_COSINE"})
_RRF_K_LIMIT = 16384.0


@dataclass(frozen=True)
class SearchHits:
    """One sub-request's hits for one query, best first."""

    ids: np.ndarray
    distances: np.ndarray
    metric: str
    field_values: np.ndarray | None = None  # the decay input field, one per hit


@dataclass(frozen=True)
class RankedHits:
    ids: np.ndarray
    scores: np.ndarray  # float32


class Reranker(Protocol):
    """Merges sub-request hits into one ranking; larger score first unless stated."""

    def rerank(self, hits: Sequence[SearchHits], *, limit: int, offset: int = 0) -> RankedHits: ...


def _larger_is_better(metric: str) -> bool:
    return metric.upper() in _LARGER_IS_BETTER


def normalize_scores(distances: np.ndarray, metric: str) -> np.ndarray:
    """Milvus's ``norm_score`` mapping of one metric's distances onto [0, 1]."""
    d = np.asarray(distances, dtype=np.float64)
    name = metric.upper()
    if name == "COSINE":
        out = (1.0 + d) * 0.5
    elif name == "BM25":
        out = 2.0 * np.arctan(d) / math.pi
    elif _larger_is_better(name):
        out = 0.5 + np.arctan(d) / math.pi
    else:
        out = 1.0 - 2.0 * np.arctan(d) / math.pi
    return out.astype(np.float32)


def _to_larger_is_better(distances: np.ndarray, metric: str) -> np.ndarray:
    d = np.asarray(distances, dtype=np.float32)
    if _larger_is_better(metric):
        return d
    return (1.0 - 2.0 * np.arctan(d.astype(np.float64)) / math.pi).astype(np.float32)


def _merge(
    hits: Sequence[SearchHits], per_hit_scores: Sequence[np.ndarray], mode: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group equal primary keys; returns (unique ids, merged scores, first hit index)."""
    all_ids = np.concatenate([np.asarray(h.ids) for h in hits]) if hits else np.zeros(0, np.int64)
    if len(all_ids) == 0:
        return all_ids, np.zeros(0, np.float32), np.zeros(0, np.int64)
    scores = np.concatenate([np.asarray(s, dtype=np.float64) for s in per_hit_scores])
    uniq, first, inverse = np.unique(all_ids, return_index=True, return_inverse=True)
    merged: np.ndarray
    if mode == "sum":
        merged = np.bincount(inverse, weights=scores, minlength=len(uniq))
    elif mode == "avg":
        merged = np.bincount(inverse, weights=scores, minlength=len(uniq)) / np.bincount(
            inverse, minlength=len(uniq)
        )
    elif mode == "max":
        merged = np.full(len(uniq), -np.inf)
        np.maximum.at(merged, inverse, scores)
    else:
        raise ParameterError(f"Unsupport score mode: [{mode}], only supports: [max, avg, sum]")
    return uniq, merged.astype(np.float32), first


def _top(
    ids: np.ndarray, scores: np.ndarray, limit: int, offset: int, *, descending: bool = True
) -> RankedHits:
    if limit < 0 or offset < 0:
        raise ParameterError(f"limit and offset must be non-negative, got {limit} and {offset}")
    # ids come sorted ascending from np.unique, so their index breaks ties by id.
    key = -scores.astype(np.float64) if descending else scores.astype(np.float64)
    order = np.lexsort((np.arange(len(ids)), key))[offset : offset + limit]
    return RankedHits(ids[order], scores[order].astype(np.float32))


@dataclass(frozen=True)
class RRFRanker:
    k: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.k < _RRF_K_LIMIT:
            raise ParameterError(f"The rank params k should be in range (0, {int(_RRF_K_LIMIT)})")

    def rerank(self, hits: Sequence[SearchHits], *, limit: int, offset: int = 0) -> RankedHits:
        per_hit = [1.0 / (self.k + np.arange(1, len(h.ids) + 1, dtype=np.float64)) for h in hits]
        ids, scores, _ = _merge(hits, per_hit, "sum")
        return _top(ids, scores, limit, offset)


@dataclass(frozen=True)
class WeightedRanker:
    weights: tuple[float, ...]
    norm_score: bool = False

    def __post_init__(self) -> None:
        if not self.weights:
            raise ParameterError("weights not found")
        if any(not 0.0 <= w <= 1.0 for w in self.weights):
            raise ParameterError("rank param weight should be in range [0, 1]")

    def rerank(self, hits: Sequence[SearchHits], *, limit: int, offset: int = 0) -> RankedHits:
        if len(hits) != len(self.weights):
            raise ParameterError(
                f"the length of weights param mismatch with ann search requests: "
                f"{len(self.weights)} weights for {len(hits)} requests"
            )
        larger = [_larger_is_better(h.metric) for h in hits]
        mixed = any(larger) and not all(larger)
        per_hit = []
        for h, w in zip(hits, self.weights, strict=True):
            if self.norm_score:
                s = normalize_scores(h.distances, h.metric)
            elif mixed:
                s = _to_larger_is_better(h.distances, h.metric)
            else:
                s = np.asarray(h.distances, dtype=np.float32)
            per_hit.append(np.float32(w) * s)
        ids, scores, _ = _merge(hits, per_hit, "sum")
        descending = self.norm_score or mixed or any(larger) or not hits
        return _top(ids, scores, limit, offset, descending=descending)


def decay_factors(
    values: np.ndarray, *, function: str, origin: float, scale: float, offset: float, decay: float
) -> np.ndarray:
    """The decay factor in (0, 1] of each field value (see the module doc)."""
    x = np.maximum(0.0, np.abs(np.asarray(values, dtype=np.float64) - origin) - offset)
    ln_decay = math.log(decay)
    if function == "gauss":
        return np.exp(x * x * ln_decay / (scale * scale))
    if function == "exp":
        return np.exp(x * ln_decay / scale)
    if function == "linear":
        return np.maximum(decay, 1.0 - x * (1.0 - decay) / scale)
    raise ParameterError(
        f"decay: invalid function {function!r}, must be one of [gauss, exp, linear]"
    )


@dataclass(frozen=True)
class DecayRanker:
    function: str
    origin: float
    scale: float
    offset: float = 0.0
    decay: float = 0.5
    score_mode: str = "max"

    def __post_init__(self) -> None:
        if self.function not in ("gauss", "exp", "linear"):
            raise ParameterError(
                f"decay: invalid function {self.function!r}, must be one of [gauss, exp, linear]"
            )
        if not self.scale > 0:
            raise ParameterError(f"decay: scale must be > 0, got {self.scale}")
        if self.offset < 0:
            raise ParameterError(f"decay: offset must be >= 0, got {self.offset}")
        if not 0 < self.decay < 1:
            raise ParameterError(f"decay: decay must be 0 < decay < 1, got {self.decay}")
        if self.score_mode not in ("max", "sum", "avg"):
            raise ParameterError(
                f"Unsupport score mode: [{self.score_mode}], only supports: [max, avg, sum]"
            )

    def rerank(self, hits: Sequence[SearchHits], *, limit: int, offset: int = 0) -> RankedHits:
        for h in hits:
            if h.field_values is None or len(h.field_values) != len(h.ids):
                raise ParameterError("decay reranker needs the input field's value for every hit")
        per_hit = [_to_larger_is_better(h.distances, h.metric) for h in hits]
        ids, scores, first = _merge(hits, per_hit, self.score_mode)
        if len(ids) == 0:
            return RankedHits(ids, scores)
        values = np.concatenate([np.asarray(h.field_values, dtype=np.float64) for h in hits])
        factors = decay_factors(
            values[first],
            function=self.function,
            origin=self.origin,
            scale=self.scale,
            offset=self.offset,
            decay=self.decay,
        )
        return _top(ids, (scores * factors).astype(np.float32), limit, offset)


def _param(params: Mapping[str, Any], key: str) -> Any:
    value = params[key]
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _number(params: Mapping[str, Any], key: str, default: float | None = None) -> float:
    if key not in params:
        if default is None:
            raise ParameterError(f"Decay function lost param: {key}")
        return default
    value = _param(params, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"Param {key}:{params[key]} is not a number")
    return float(value)


def create_reranker(params: Mapping[str, Any]) -> Reranker:
    """Build a reranker from Milvus Function params (``reranker``: rrf, weighted, decay).

    Values may be given typed or as the JSON text the wire carries.
    """
    kind = str(params.get("reranker", params.get("strategy", ""))).lower()
    if kind == "rrf":
        raw = params.get("params", params)
        k = _param(raw, "k") if "k" in raw else 60
        if isinstance(k, bool) or not isinstance(k, (int, float)):
            raise ParameterError(f"The rank params k should be a number, got {k!r}")
        return RRFRanker(float(k))
    if kind == "weighted":
        raw = params.get("params", params)
        if "weights" not in raw:
            raise ParameterError("weights not found")
        weights = _param(raw, "weights")
        if not isinstance(weights, list) or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights
        ):
            raise ParameterError(
                f"Parse weights param failed, weight should be []float, but got: {weights!r}"
            )
        norm = _param(raw, "norm_score") if "norm_score" in raw else False
        if not isinstance(norm, bool):
            raise ParameterError(f"norm_score params must be true/false, but got {norm!r}")
        return WeightedRanker(tuple(float(w) for w in weights), norm)
    if kind == "decay":
        function = params.get("function")
        if not isinstance(function, str):
            raise ParameterError("Decay function lost param: function")
        mode = params.get("score_mode", "max")
        return DecayRanker(
            function=function,
            origin=_number(params, "origin"),
            scale=_number(params, "scale"),
            offset=_number(params, "offset", 0.0),
            decay=_number(params, "decay", 0.5),
            score_mode=str(mode).lower(),
        )
    if kind == "model":
        raise ParameterError(
            "model reranker needs a rerank provider; Elanus has no network access for one here"
        )
    raise ParameterError(
        f"unsupported rerank function: {kind!r}, only support [rrf, weighted, decay]"
    )


@dataclass(frozen=True)
class BoostFunction:
    """One boost function: ``weight``, an optional filter, an optional random score."""

    weight: float
    filter: str | None = None
    random_seed: int | None = None
    random_field: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def boost_function_from_params(params: Mapping[str, Any]) -> BoostFunction:
    if str(params.get("reranker", "")).lower() != "boost":
        raise ParameterError("boost function requires params.reranker='boost'")
    if "weight" not in params:
        raise ParameterError("boost function requires params.weight")
    weight = _param(params, "weight")
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise ParameterError(f"boost function weight must be a number, got {params['weight']!r}")
    filt = params.get("filter")
    if filt is not None and not isinstance(filt, str):
        raise ParameterError("boost function filter must be a string")
    seed: int | None = None
    rfield: str | None = None
    if "random_score" in params:
        rs = _param(params, "random_score")
        if not isinstance(rs, Mapping):
            raise ParameterError("boost function random_score must be an object")
        seed = int(rs.get("seed", 0))
        rfield = rs.get("field")
    return BoostFunction(float(weight), filt, seed, rfield)


def random_scores(values: np.ndarray, seed: int) -> np.ndarray:
    """A stable pseudo-random number in [0, 1) per value (same value, same seed: same number)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        x = arr.astype(np.uint64) ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
    else:
        x = np.fromiter(
            (zlib.crc32(str(v).encode("utf-8")) for v in arr.tolist()),
            dtype=np.uint64,
            count=len(arr),
        ) ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
    # splitmix64 finaliser: spreads neighbouring keys over the whole range.
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def apply_boost(
    scores: np.ndarray,
    matches: Sequence[np.ndarray],
    functions: Sequence[BoostFunction],
    *,
    random_inputs: Sequence[np.ndarray | None] | None = None,
    boost_mode: str = "multiply",
    function_mode: str = "multiply",
) -> np.ndarray:
    """Boosted scores. ``matches[i]`` is the mask of hits function ``i``'s filter keeps
    (all True when it has none); ``random_inputs[i]`` the values its random score is
    drawn from (primary keys or its ``field``)."""
    boost_mode, function_mode = boost_mode.lower(), function_mode.lower()
    for name, mode in (("boost_mode", boost_mode), ("function_mode", function_mode)):
        if mode not in ("multiply", "sum"):
            raise ParameterError(f"{name} must be multiply or sum, got {mode!r}")
    if len(matches) != len(functions):
        raise ParameterError("one match mask per boost function is required")
    base = np.asarray(scores, dtype=np.float64)
    combined = np.full(len(base), 1.0 if function_mode == "multiply" else 0.0)
    touched = np.zeros(len(base), dtype=bool)
    for i, (mask, fn) in enumerate(zip(matches, functions, strict=True)):
        value = np.full(len(base), fn.weight)
        if fn.random_seed is not None:
            source = random_inputs[i] if random_inputs is not None else None
            if source is None:
                raise ParameterError("boost random_score needs the values to draw from")
            value = value * random_scores(np.asarray(source), fn.random_seed)
        m = np.asarray(mask, dtype=bool)
        if function_mode == "multiply":
            combined = np.where(m, combined * value, combined)
        else:
            combined = np.where(m, combined + value, combined)
        touched |= m
    if boost_mode == "multiply":
        out = np.where(touched, base * combined, base)
    else:
        out = np.where(touched, base + combined, base)
    return out.astype(np.float32)
