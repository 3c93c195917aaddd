"""FLAT and BIN_FLAT: exact search over the raw vectors, kept in their stored type.

The raw block is saved as a ``.npy`` file and memory-mapped on load, so a loaded
FLAT index costs no resident memory beyond the pages a search touches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from elanus.index.base import BaseVectorIndex
from elanus.index.exact import exact_search
from elanus.schema.types import DataType

__all__ = ["FlatIndex"]

_RAW_FILE = "vectors.npy"


class FlatIndex(BaseVectorIndex):
    kind: ClassVar[str] = "flat"

    def __init__(
        self,
        index_type: str,
        metric_type: str,
        params: dict[str, Any],
        dtype: DataType,
        dim: int,
        vectors: np.ndarray,
    ) -> None:
        super().__init__(index_type, metric_type, params, dtype, dim, vectors.shape[0])
        self._vectors = vectors

    @property
    def nbytes(self) -> int:
        return 0 if isinstance(self._vectors, np.memmap) else int(self._vectors.nbytes)

    def _knn(
        self, q: np.ndarray, k: int, sp: dict[str, Any], allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        return exact_search(self._dtype, self._vectors, q, self._metric, k, allowed, self._params)

    def _reconstruct(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self._vectors[rows])

    def _save_files(self, target: Path) -> None:
        np.save(target / _RAW_FILE, np.ascontiguousarray(self._vectors))

    @classmethod
    def load(cls, path: Path, meta: dict[str, Any], mmap: bool) -> FlatIndex:
        vectors = np.load(path / _RAW_FILE, mmap_mode="r" if mmap else None)
        return cls(
            meta["index_type"],
            meta["metric_type"],
            meta["params"],
            DataType[meta["dtype"]],
            int(meta["dim"]),
            vectors,
        )
