"""Binary vector indexes: BIN_IVF_FLAT (HAMMING, JACCARD) and MINHASH_LSH (MHJACCARD).

Both keep the raw packed bits (memory-mapped after load) and score candidates
exactly; they differ in how candidates are found. BIN_IVF_FLAT clusters rows
around binary k-means centroids (trained by FAISS) and scans the ``nprobe``
nearest lists. MINHASH_LSH splits each MinHash signature into ``mh_lsh_band``
bands and returns rows that share at least one whole band with the query.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import faiss as _faiss_module
import numpy as np

from elanus.index.base import BaseVectorIndex
from elanus.index.exact import binary_distances
from elanus.index.metrics import topk_merge
from elanus.index.params import effective_nlist
from elanus.schema.types import DataType

# FAISS's bundled type stubs lag its SWIG API; treat the module as untyped.
faiss: Any = _faiss_module

__all__ = ["BinaryIvfIndex", "MinHashLshIndex", "build_binary_ivf", "build_minhash_lsh"]

_RAW_FILE = "vectors.npy"
_LISTS_FILE = "lists.npz"
_ASSIGN_BYTES = 32 << 20


def build_binary_ivf(
    metric: str, params: dict[str, Any], vectors: np.ndarray, dim: int
) -> BinaryIvfIndex:
    n, width = vectors.shape
    nlist = effective_nlist(n, int(params["nlist"]))
    quantizer = faiss.IndexBinaryFlat(dim)
    ivf = faiss.IndexBinaryIVF(quantizer, dim, nlist)
    rng = np.random.default_rng(1234)
    sample = (
        vectors if n <= 256 * nlist else vectors[np.sort(rng.choice(n, 256 * nlist, replace=False))]
    )
    ivf.train(np.ascontiguousarray(sample))
    centroids = faiss.vector_to_array(quantizer.xb).reshape(nlist, width)
    step = max(1, _ASSIGN_BYTES // max(1, nlist * width))
    assign = (
        np.concatenate(
            [
                binary_distances(np.asarray(vectors[lo : lo + step]), centroids, metric).argmin(
                    axis=1
                )
                for lo in range(0, n, step)
            ]
        )
        if n
        else np.zeros(0, np.int64)
    )
    order = np.argsort(assign, kind="stable").astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(assign, minlength=nlist))]).astype(
        np.int64
    )
    return BinaryIvfIndex(
        metric, dict(params, nlist=nlist), dim, vectors, centroids, order, offsets
    )


class _PackedRowsIndex(BaseVectorIndex):
    """Raw packed rows (memory-mapped after load) scored exactly, plus the arrays a
    subclass uses to find candidates: each name in ``_LISTS`` is held as ``_<name>``,
    saved under that name and passed back, in that order, after ``raw`` on load."""

    _LISTS: ClassVar[tuple[str, ...]]
    _raw: np.ndarray

    def _lists(self) -> dict[str, Any]:
        return {name: getattr(self, f"_{name}") for name in self._LISTS}

    @property
    def nbytes(self) -> int:
        raw = 0 if isinstance(self._raw, np.memmap) else self._raw.nbytes
        return int(raw + sum(a.nbytes for a in self._lists().values()))

    def _best_of(
        self,
        q: np.ndarray,
        k: int,
        allowed: np.ndarray | None,
        candidates: Callable[[int], np.ndarray],
        *metric: Any,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` per query among its sorted ``candidates(qi)`` rows, scored exactly
        by ``binary_distances(..., *metric)``."""
        out_d = np.empty((q.shape[0], k), np.float32)
        out_i = np.empty((q.shape[0], k), np.int64)
        for qi in range(q.shape[0]):
            rows = candidates(qi)
            if allowed is not None:
                rows = rows[allowed[rows]]
            dist = binary_distances(q[qi : qi + 1], np.asarray(self._raw[rows]), *metric)
            out_d[qi], out_i[qi] = (a[0] for a in topk_merge(self._metric, dist, rows[None, :], k))
        return out_d, out_i

    def _reconstruct(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self._raw[rows])

    def _save_files(self, target: Path) -> None:
        np.save(target / _RAW_FILE, np.ascontiguousarray(self._raw))
        np.savez(target / _LISTS_FILE, **self._lists())


def _load_files(path: Path, mmap: bool, names: tuple[str, ...]) -> tuple[Any, list[np.ndarray]]:
    """The raw rows and the named candidate-finding arrays saved by ``_save_files``."""
    lists = np.load(path / _LISTS_FILE)
    raw = np.load(path / _RAW_FILE, mmap_mode="r" if mmap else None)
    return raw, [lists[name] for name in names]


class BinaryIvfIndex(_PackedRowsIndex):
    kind: ClassVar[str] = "binary_ivf"
    _LISTS: ClassVar[tuple[str, ...]] = ("centroids", "order", "offsets")

    def __init__(
        self,
        metric_type: str,
        params: dict[str, Any],
        dim: int,
        raw: np.ndarray,
        centroids: np.ndarray,
        order: np.ndarray,
        offsets: np.ndarray,
    ) -> None:
        super().__init__(
            "BIN_IVF_FLAT", metric_type, params, DataType.BINARY_VECTOR, dim, raw.shape[0]
        )
        self._raw = raw
        self._centroids = centroids
        self._order = order
        self._offsets = offsets

    def _knn(
        self, q: np.ndarray, k: int, sp: dict[str, Any], allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        nlist = self._centroids.shape[0]
        fraction = 1.0 if allowed is None else max(float(allowed.mean()), 1e-9)
        nprobe = min(nlist, math.ceil(int(sp.get("nprobe", 8)) / fraction))
        coarse = binary_distances(q, self._centroids, self._metric)
        probes = np.argsort(coarse, axis=1, kind="stable")[:, :nprobe]

        def candidates(qi: int) -> np.ndarray:
            lists = [self._order[self._offsets[c] : self._offsets[c + 1]] for c in probes[qi]]
            return np.sort(np.concatenate(lists))

        return self._best_of(q, k, allowed, candidates, self._metric)

    @classmethod
    def load(cls, path: Path, meta: dict[str, Any], mmap: bool) -> BinaryIvfIndex:
        raw, lists = _load_files(path, mmap, cls._LISTS)
        return cls(meta["metric_type"], meta["params"], int(meta["dim"]), raw, *lists)


# ------------------------------------------------------------------ MinHash LSH


def _band_keys(signatures: np.ndarray, element_bytes: int, bands: int) -> np.ndarray:
    """(rows, bands) 64-bit keys, one per band of consecutive MinHash values."""
    values = np.ascontiguousarray(signatures).view(f"<u{element_bytes}").astype(np.uint64)
    per_band = values.shape[1] // bands
    values = values[:, : per_band * bands].reshape(values.shape[0], bands, per_band)
    key = np.full(values.shape[:2], np.uint64(1469598103934665603), np.uint64)
    prime = np.uint64(1099511628211)
    with np.errstate(over="ignore"):
        for j in range(per_band):  # loop over a band's width, not over rows
            key = (key ^ values[:, :, j]) * prime
    return key


def build_minhash_lsh(
    metric: str, params: dict[str, Any], vectors: np.ndarray, dim: int
) -> MinHashLshIndex:
    width_bits = int(params["mh_element_bit_width"])
    hashes = dim // width_bits
    bands = int(params.get("mh_lsh_band") or max(1, hashes // 2))
    bands = max(1, min(bands, hashes))
    keys = _band_keys(vectors, width_bits // 8, bands)
    order = np.argsort(keys, axis=0, kind="stable").astype(np.int64)
    sorted_keys = np.take_along_axis(keys, order, axis=0)
    used = dict(params, mh_lsh_band=bands)
    return MinHashLshIndex(metric, used, dim, vectors, sorted_keys, order)


class MinHashLshIndex(_PackedRowsIndex):
    kind: ClassVar[str] = "minhash_lsh"
    _LISTS: ClassVar[tuple[str, ...]] = ("keys", "order")

    def __init__(
        self,
        metric_type: str,
        params: dict[str, Any],
        dim: int,
        raw: np.ndarray,
        sorted_keys: np.ndarray,
        order: np.ndarray,
    ) -> None:
        super().__init__(
            "MINHASH_LSH", metric_type, params, DataType.BINARY_VECTOR, dim, raw.shape[0]
        )
        self._raw = raw
        self._keys = sorted_keys
        self._order = order

    def _knn(
        self, q: np.ndarray, k: int, sp: dict[str, Any], allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        width_bits = int(self._params["mh_element_bit_width"])
        bands = self._keys.shape[1]
        qkeys = _band_keys(q, width_bits // 8, bands)

        def candidates(qi: int) -> np.ndarray:
            parts = []
            for b in range(bands):
                lo = np.searchsorted(self._keys[:, b], qkeys[qi, b], side="left")
                hi = np.searchsorted(self._keys[:, b], qkeys[qi, b], side="right")
                parts.append(self._order[lo:hi, b])
            return np.unique(np.concatenate(parts))

        return self._best_of(q, k, allowed, candidates, "MHJACCARD", width_bits)

    @classmethod
    def load(cls, path: Path, meta: dict[str, Any], mmap: bool) -> MinHashLshIndex:
        raw, lists = _load_files(path, mmap, cls._LISTS)
        return cls(meta["metric_type"], meta["params"], int(meta["dim"]), raw, *lists)
