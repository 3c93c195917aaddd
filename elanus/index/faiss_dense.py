"""Dense float index types on FAISS: IVF_FLAT, IVF_SQ8, IVF_PQ, IVF_RABITQ, HNSW,
HNSW_SQ, HNSW_PQ, HNSW_PRQ and SCANN, over FLOAT / FLOAT16 / BFLOAT16 / INT8 vectors.

Stored vectors are widened to float32 one build batch at a time. Where an index
keeps full vectors (HNSW, IVF_FLAT) over half-precision or int8 data, it keeps
them in a lossless scalar-quantizer code of the stored type (fp16, bf16, signed
8-bit) rather than as float32, so the index file is no larger than the raw data
and distances are the exact ones. COSINE is inner product over normalised vectors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import faiss as _faiss_module
import numpy as np

from elanus.errors import ParameterError
from elanus.index.base import FAISS_READ_FLAGS, BaseVectorIndex, bitmap_selector
from elanus.index.metrics import as_float32, faiss_metric, l2_normalize
from elanus.index.params import effective_nbits, effective_nlist
from elanus.schema.types import DataType

# FAISS's bundled type stubs lag its SWIG API; treat the module as untyped.
faiss: Any = _faiss_module

__all__ = ["FaissDenseIndex", "build_faiss_dense", "float32_batches", "training_sample"]

_ptr = faiss.swig_ptr
_INDEX_FILE = "index.faiss"
_BATCH_ROWS = 65536
_TRAIN_ROWS_PER_LIST = 256
_TRAIN_CAP = 200_000

_SQ = faiss.ScalarQuantizer
_SQ_TYPES = {
    "SQ4U": _SQ.QT_4bit_uniform,
    "SQ6": _SQ.QT_6bit,
    "SQ8": _SQ.QT_8bit,
    "FP16": _SQ.QT_fp16,
    "BF16": _SQ.QT_bf16,
}
# Lossless codes for the stored type of each non-float32 vector type.
_LOSSLESS_SQ = {
    DataType.FLOAT16_VECTOR: _SQ.QT_fp16,
    DataType.BFLOAT16_VECTOR: _SQ.QT_bf16,
    DataType.INT8_VECTOR: _SQ.QT_8bit_direct_signed,
}
_IVF_TYPES = frozenset({"IVF_FLAT", "IVF_SQ8", "IVF_PQ", "IVF_RABITQ", "SCANN"})
_GRAPH_TYPES = frozenset({"HNSW", "HNSW_SQ", "HNSW_PQ", "HNSW_PRQ"})


def float32_batches(
    dtype: DataType, vectors: np.ndarray, cosine: bool, rows: int = _BATCH_ROWS
) -> Iterator[np.ndarray]:
    """Stored vectors as float32 in batches: at most one batch is widened at a time."""
    for lo in range(0, vectors.shape[0], rows):
        block = as_float32(dtype, np.asarray(vectors[lo : lo + rows]))
        if cosine:
            if np.shares_memory(block, vectors):
                block = block.copy()
            block = l2_normalize(block)
        yield block


def training_sample(dtype: DataType, vectors: np.ndarray, cosine: bool, rows: int) -> np.ndarray:
    """A float32 sample of at most ``rows`` vectors, evenly spread, for training."""
    n = vectors.shape[0]
    if rows >= n:
        picked = np.arange(n)
    else:
        picked = np.sort(np.random.default_rng(1234).choice(n, rows, replace=False))
    sample = as_float32(dtype, np.asarray(vectors[picked]))
    if cosine:
        sample = l2_normalize(np.array(sample, copy=True))
    return sample


def _refine_index(refine_type: str, dim: int, fm: int) -> faiss.Index:
    if refine_type in ("FP32", "FLAT"):
        return faiss.IndexFlat(dim, fm)
    return faiss.IndexScalarQuantizer(dim, _SQ_TYPES[refine_type], fm)


def _own(parent: Any, *children: Any) -> Any:
    """Hand ownership of sub-indexes to ``parent`` so it outlives the Python wrappers."""
    parent.own_fields = True
    for child in children:
        child.this.disown()
    return parent


def _new_faiss_index(
    index_type: str, dtype: DataType, dim: int, fm: int, p: dict[str, Any], n: int
) -> tuple[faiss.Index, dict[str, Any]]:
    """A FAISS index for the request, and the build params actually used."""
    used = dict(p)
    if index_type in _IVF_TYPES:
        used["nlist"] = nlist = effective_nlist(n, int(p["nlist"]))
        quantizer = faiss.IndexFlat(dim, fm)
        if index_type == "IVF_FLAT":
            if dtype == DataType.FLOAT_VECTOR:
                index = faiss.IndexIVFFlat(quantizer, dim, nlist, fm)
            else:
                index = faiss.IndexIVFScalarQuantizer(
                    quantizer, dim, nlist, _LOSSLESS_SQ[dtype], fm, False
                )
        elif index_type == "IVF_SQ8":
            index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, _SQ.QT_8bit, fm)
        elif index_type == "IVF_PQ":
            used["nbits"] = nbits = effective_nbits(n, int(p["nbits"]))
            index = faiss.IndexIVFPQ(quantizer, dim, nlist, int(p["m"]), nbits, fm)
        elif index_type == "IVF_RABITQ":
            index = faiss.IndexIVFRaBitQ(quantizer, dim, nlist, fm)
        else:  # SCANN: 4-bit PQ fast-scan over sub_dim-wide sub-spaces
            index = faiss.IndexIVFPQFastScan(quantizer, dim, nlist, dim // int(p["sub_dim"]), 4, fm)
        index = _own(index, quantizer)
    elif index_type == "HNSW":
        if dtype == DataType.FLOAT_VECTOR:
            index = faiss.IndexHNSWFlat(dim, int(p["M"]), fm)
        else:
            index = faiss.IndexHNSWSQ(dim, _LOSSLESS_SQ[dtype], int(p["M"]), fm)
    elif index_type == "HNSW_SQ":
        index = faiss.IndexHNSWSQ(dim, _SQ_TYPES[p["sq_type"]], int(p["M"]), fm)
    elif index_type == "HNSW_PQ":
        used["nbits"] = nbits = effective_nbits(n, int(p["nbits"]))
        index = faiss.IndexHNSWPQ(dim, int(p["m"]), int(p["M"]), nbits, fm)
    elif index_type == "HNSW_PRQ":
        used["nbits"] = nbits = effective_nbits(n, int(p["nbits"]))
        storage = faiss.IndexProductResidualQuantizer(dim, int(p["m"]), int(p["nrq"]), nbits, fm)
        index = _own(faiss.IndexHNSW(storage, int(p["M"])), storage)
    else:
        raise ParameterError(f"index type {index_type} is not a FAISS dense index")
    if index_type in _GRAPH_TYPES:
        faiss.downcast_index(index).hnsw.efConstruction = int(p["efConstruction"])
    wants_refine = bool(p.get("refine")) or (index_type == "SCANN" and p.get("with_raw_data", True))
    if wants_refine:
        if index_type == "SCANN" and dtype in _LOSSLESS_SQ:
            # SCANN's re-ranking copy keeps the stored precision, not float32
            refine = faiss.IndexScalarQuantizer(dim, _LOSSLESS_SQ[dtype], fm)
        else:
            refine = _refine_index(str(p.get("refine_type") or "FP32"), dim, fm)
        index = _own(faiss.IndexRefine(index, refine), index, refine)
    return index, used


def build_faiss_dense(
    index_type: str, metric: str, params: dict[str, Any], dtype: DataType, vectors: np.ndarray
) -> FaissDenseIndex:
    n, dim = vectors.shape
    cosine = metric == "COSINE"
    fm = faiss_metric(metric)
    index, used = _new_faiss_index(index_type, dtype, dim, fm, params, n)
    if n:  # wrappers such as HNSW over a quantizer may report trained before their storage is
        cap = min(_TRAIN_CAP, max(_TRAIN_ROWS_PER_LIST * int(used.get("nlist", 1)), 65536))
        index.train(training_sample(dtype, vectors, cosine, cap))
    for batch in float32_batches(dtype, vectors, cosine):
        index.add(batch)
    return FaissDenseIndex(index_type, metric, used, dtype, dim, index)


class FaissDenseIndex(BaseVectorIndex):
    kind: ClassVar[str] = "faiss_dense"

    def __init__(
        self,
        index_type: str,
        metric_type: str,
        params: dict[str, Any],
        dtype: DataType,
        dim: int,
        index: faiss.Index,
        file_bytes: int | None = None,
    ) -> None:
        super().__init__(index_type, metric_type, params, dtype, dim, index.ntotal)
        self._index = index
        self._file_bytes = file_bytes
        self._refined = isinstance(index, faiss.IndexRefine)
        self._base = faiss.downcast_index(index.base_index) if self._refined else index
        self._is_ivf = index_type in _IVF_TYPES
        self._param_cache: dict[tuple[Any, ...], Any] = {}
        # Graphs lose their way when most nodes are filtered out: scan survivors instead.
        self.brute_force_fraction = 0.0 if self._is_ivf else 0.05  # type: ignore[misc]
        self.knn_may_stop_short = not self._is_ivf  # type: ignore[misc]

    @property
    def faiss_index(self) -> faiss.Index:
        return self._index

    @property
    def nbytes(self) -> int:
        if self._file_bytes is None:
            self._file_bytes = int(faiss.serialize_index(self._index).nbytes)
        return self._file_bytes

    def _knn(
        self, q: np.ndarray, k: int, sp: dict[str, Any], allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        sel = bits = None
        fraction = 1.0
        if allowed is not None:
            sel, bits = bitmap_selector(allowed)
            fraction = max(np.count_nonzero(allowed) / self._ntotal, 1e-9)
            params = self._search_parameters(sp, k, fraction, sel)
        else:
            # Unfiltered parameter structs depend only on the params: build each once.
            key = (
                sp.get("nprobe"),
                sp.get("ef"),
                sp.get("rbq_query_bits"),
                sp.get("refine_k"),
                sp.get("reorder_k"),
                k,
            )
            params = self._param_cache.get(key)
            if params is None:
                params = self._search_parameters(sp, k, 1.0, None)
                if len(self._param_cache) < 256:
                    self._param_cache[key] = params
        # search_c straight away: the queries are already a C-ordered float32 matrix of
        # the index's width (_prepare_queries), so the wrapper's checks would be repeats.
        n = q.shape[0]
        d = np.empty((n, k), dtype=np.float32)
        i = np.empty((n, k), dtype=np.int64)
        self._index.search_c(n, _ptr(q), k, _ptr(d), _ptr(i), params)
        del bits
        return d, i

    def _search_parameters(self, sp: dict[str, Any], k: int, fraction: float, sel: Any) -> Any:
        if self._is_ivf:
            nlist = self._base.nlist
            # A mask thins every list; probing more lists keeps about as many
            # surviving candidates as an unfiltered search sees.
            nprobe = min(nlist, math.ceil(int(sp.get("nprobe", 8)) / fraction))
            if self._index_type == "IVF_RABITQ":
                base = faiss.IVFRaBitQSearchParameters()
                base.qb = int(sp.get("rbq_query_bits", 0))
            else:
                base = faiss.SearchParametersIVF()
            base.nprobe = nprobe
        else:
            base = faiss.SearchParametersHNSW()
            ef = int(sp.get("ef", max(k, 16)))
            base.efSearch = min(max(ef, math.ceil(ef / fraction)), max(self._ntotal, ef))
        if sel is not None:
            base.sel = sel
        if not self._refined:
            return base
        outer = faiss.IndexRefineSearchParameters()
        if self._index_type == "SCANN":
            factor = max(1.0, int(sp.get("reorder_k", k)) / k)
        else:
            factor = float(sp.get("refine_k", 1.0))
        outer.k_factor = factor
        outer.base_index_params = base
        if sel is not None:
            outer.sel = sel
        outer._keep = base  # the struct holds a raw pointer to base
        return outer

    def _reconstruct(self, rows: np.ndarray) -> np.ndarray:
        source = faiss.downcast_index(self._index.refine_index) if self._refined else self._index
        return np.asarray(source.reconstruct_batch(rows.astype(np.int64)))

    def _save_files(self, target: Path) -> None:
        faiss.write_index(self._index, str(target / _INDEX_FILE))

    @classmethod
    def load(cls, path: Path, meta: dict[str, Any], mmap: bool) -> FaissDenseIndex:
        file = path / _INDEX_FILE
        index = read_faiss_index(file, mmap)
        return cls(
            meta["index_type"],
            meta["metric_type"],
            meta["params"],
            DataType[meta["dtype"]],
            int(meta["dim"]),
            index,
            file.stat().st_size,
        )


def read_faiss_index(file: Path, mmap: bool) -> faiss.Index:
    """Read an index, memory-mapping its flat codes where FAISS can."""
    if mmap:
        try:
            return faiss.read_index(str(file), FAISS_READ_FLAGS)
        except RuntimeError:
            pass  # this index type has no mmap reader: read it into memory
    return faiss.read_index(str(file))
