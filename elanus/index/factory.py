"""One door to build, load and validate vector indexes, and to search exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from elanus.errors import ParameterError, StorageError
from elanus.index import exact as _exact
from elanus.index.base import BaseVectorIndex, read_meta
from elanus.index.binary import BinaryIvfIndex, MinHashLshIndex, build_binary_ivf, build_minhash_lsh
from elanus.index.diskann import DiskAnnIndex, build_diskann
from elanus.index.faiss_dense import FaissDenseIndex, build_faiss_dense
from elanus.index.flat import FlatIndex
from elanus.index.metrics import larger_is_better as _larger_is_better
from elanus.index.params import check_build_params, check_search_params
from elanus.index.protocol import VectorIndex
from elanus.index.sparse import SparseInvertedIndex, build_sparse_inverted
from elanus.schema.field import FieldSchema
from elanus.schema.types import DataType, vector_row_width

__all__ = [
    "build_vector_index",
    "load_vector_index",
    "validate_index_params",
    "validate_search_params",
    "exact_search",
    "larger_is_better",
]

_LOADERS: dict[str, type[BaseVectorIndex]] = {
    cls.kind: cls
    for cls in (
        FlatIndex,
        FaissDenseIndex,
        DiskAnnIndex,
        BinaryIvfIndex,
        MinHashLshIndex,
        SparseInvertedIndex,
    )
}


def _field_dim(field: FieldSchema) -> int | None:
    if field.dtype == DataType.SPARSE_FLOAT_VECTOR:
        return None
    if field.dim is None:
        raise ParameterError(f"vector field {field.name} has no dim")
    return field.dim


def validate_index_params(
    field: FieldSchema,
    index_type: str,
    metric_type: str | None,
    params: dict[str, Any] | None,
    strict: bool = False,
) -> dict[str, Any]:
    """Check a create_index request against Milvus's rules.

    Returns the normalised request: ``index_type`` (concrete; AUTOINDEX resolved),
    ``metric_type`` and ``params`` (known build params with defaults filled).
    """
    if not field.dtype.is_vector:
        raise ParameterError(f"field {field.name} is not a vector field")
    concrete, metric, normalised = check_build_params(
        field.dtype, index_type, metric_type, params, _field_dim(field), strict
    )
    return {"index_type": concrete, "metric_type": metric, "params": normalised}


def validate_search_params(
    index_type: str,
    metric_type: str,
    params: dict[str, Any] | None,
    k: int | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Check search params for an index type; k-dependent defaults are filled when k is given."""
    return check_search_params(index_type, metric_type, params, k, strict)


def build_vector_index(
    field: FieldSchema,
    index_type: str,
    metric_type: str | None,
    params: dict[str, Any] | None,
    vectors: Any,
) -> VectorIndex:
    """Build an index over one segment's vectors (local ids 0..N-1 in the given order).

    ``vectors`` follows the shared column convention for ``field.dtype`` and is
    never copied whole: dense types are widened to float32 per build batch.
    """
    request = validate_index_params(field, index_type, metric_type, params)
    concrete, metric, p = request["index_type"], request["metric_type"], request["params"]
    dtype = field.dtype
    if dtype == DataType.SPARSE_FLOAT_VECTOR:
        return build_sparse_inverted(concrete, metric, p, vectors)
    dim = int(field.dim or 0)
    arr = np.asarray(vectors) if not isinstance(vectors, np.ndarray) else vectors
    if arr.ndim != 2 or arr.shape[1] != vector_row_width(dtype, dim):
        raise ParameterError(
            f"vectors of shape {arr.shape} do not match field {field.name} ({dtype.name}, dim {dim})"
        )
    if concrete in ("FLAT", "BIN_FLAT"):
        return FlatIndex(concrete, metric, p, dtype, dim, arr)
    if concrete == "BIN_IVF_FLAT":
        return build_binary_ivf(metric, p, arr, dim)
    if concrete == "MINHASH_LSH":
        return build_minhash_lsh(metric, p, arr, dim)
    if concrete == "DISKANN":
        return build_diskann(metric, p, dtype, arr)
    return build_faiss_dense(concrete, metric, p, dtype, arr)


def load_vector_index(path: str | Path, mmap: bool = True) -> VectorIndex:
    """Open an index written by ``save``; flat codes and raw vectors are memory-mapped."""
    folder = Path(path)
    try:
        meta = read_meta(folder)
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read vector index at {folder}: {exc}") from exc
    loader = _LOADERS.get(str(meta.get("kind")))
    if loader is None:
        raise StorageError(f"unknown vector index kind {meta.get('kind')!r} at {folder}")
    index: VectorIndex = loader.load(folder, meta, mmap)  # type: ignore[attr-defined]
    return index


def exact_search(
    field_dtype: DataType,
    vectors: Any,
    queries: Any,
    metric: str,
    k: int,
    allowed: np.ndarray | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force top-k in Milvus's distance convention (see ``elanus.index.exact``)."""
    return _exact.exact_search(field_dtype, vectors, queries, metric, k, allowed, params)


def larger_is_better(metric: str) -> bool:
    """True where a larger distance means more similar (IP, COSINE, BM25)."""
    return _larger_is_better(metric)
