"""The contract every vector index keeps, whatever engine sits underneath.

Invariants (the engine relies on each of them):

- **Local ids.** An index is built over N vectors given as one block; their local
  ids run ``0..N-1`` in the order given. The engine maps local ids to primary keys
  by row position in the segment; an index never sees primary keys.
- **Result shape.** ``search`` answers ``(distances, ids)``, two arrays of shape
  ``(nq, k)`` (float32 and int64), best hit first. A slot with no hit has id ``-1``
  and the worst possible distance for the metric (``+inf`` where smaller is better,
  ``-inf`` where larger is better).
- **Distances follow Milvus's conventions per metric.** ``L2`` is the *squared*
  euclidean distance (smaller is better); ``IP`` and ``COSINE`` are similarities
  (larger is better; COSINE vectors are normalised on build and query, as Milvus
  does); ``HAMMING`` and ``JACCARD`` are distances (smaller is better); ``MHJACCARD``
  is a distance between MinHash signatures (smaller is better); ``IP`` and ``BM25``
  on sparse vectors are scores (larger is better).
- **Row mask.** ``allowed`` is ``None`` (every row may be returned) or a boolean
  array of length N; only rows where it is ``True`` are ever returned. The mask is
  applied inside the search (FAISS ID selectors, or an exact scan of the survivors
  when few rows pass), never by filtering a finished top-k, so recall holds at
  every selectivity.
- **Range search** keeps Milvus's semantics per metric direction. Where smaller is
  better: ``range_filter <= d < radius``; where larger is better:
  ``radius < d <= range_filter``. ``range_filter`` may be ``None`` (no inner bound).
  Hits come best first per query; ``limit`` caps them per query.
- **Persistence.** ``save(path)`` writes a directory that ``load_vector_index``
  (``elanus.index.factory``) reads back, memory-mapping what the underlying library
  allows; a loaded index answers exactly as the saved one did.
- **Threads.** A single query runs on one FAISS thread (parallelism comes from
  concurrent requests and batches); a batch may use every OpenMP thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from elanus.schema.types import DataType

__all__ = ["RangeResult", "VectorIndex"]


@dataclass(frozen=True)
class RangeResult:
    """Hits of a range search, FAISS-style: query ``i`` owns ``lims[i]:lims[i+1]``.

    Within each query's slice, hits are sorted best first.
    """

    lims: np.ndarray
    distances: np.ndarray
    ids: np.ndarray

    @property
    def nq(self) -> int:
        return int(len(self.lims) - 1)

    def hits(self, query: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, ids) of one query."""
        lo, hi = int(self.lims[query]), int(self.lims[query + 1])
        return self.distances[lo:hi], self.ids[lo:hi]


@runtime_checkable
class VectorIndex(Protocol):
    """A built, searchable vector index over one segment's vector column."""

    @property
    def index_type(self) -> str:
        """Milvus's index type name (``HNSW``, ``IVF_PQ``, ...), never ``AUTOINDEX``."""
        ...

    @property
    def metric_type(self) -> str:
        """``L2``, ``IP``, ``COSINE``, ``HAMMING``, ``JACCARD``, ``MHJACCARD`` or ``BM25``."""
        ...

    @property
    def params(self) -> dict[str, Any]:
        """The normalised build parameters the index was built with (defaults filled)."""
        ...

    @property
    def dtype(self) -> DataType:
        """The vector field's data type."""
        ...

    @property
    def ntotal(self) -> int:
        """Number of vectors indexed (local ids run ``0..ntotal-1``)."""
        ...

    @property
    def nbytes(self) -> int:
        """Estimated resident memory of the index once loaded (bytes)."""
        ...

    def search(
        self,
        queries: Any,
        k: int,
        params: dict[str, Any] | None = None,
        allowed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` per query: ``(distances, ids)`` of shape ``(nq, k)``, best first."""
        ...

    def range_search(
        self,
        queries: Any,
        radius: float,
        range_filter: float | None = None,
        params: dict[str, Any] | None = None,
        allowed: np.ndarray | None = None,
        limit: int | None = None,
    ) -> RangeResult:
        """Every hit inside Milvus's range for the metric, best first per query."""
        ...

    def save(self, path: str | Path) -> None:
        """Write the index into directory ``path`` (created if needed)."""
        ...
