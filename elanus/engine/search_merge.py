"""One merge across segments: order every query's candidates best-first and cut the window.

All of it is array work over the candidates (``nq x k`` per segment at most), never
over the rows of a segment.
"""

from __future__ import annotations

import numpy as np

from elanus.engine.search_kernels import Candidates

__all__ = ["best_first", "rank_within", "take_window"]


def best_first(cands: Candidates, larger_is_better: bool) -> Candidates:
    """Candidates sorted by query, then best distance first (ties keep segment order)."""
    if cands.size == 0:
        return cands
    key = -cands.dist.astype(np.float64) if larger_is_better else cands.dist.astype(np.float64)
    key = np.where(np.isnan(key), np.inf, key)
    order = np.lexsort((key, cands.qidx))
    return Candidates(cands.qidx[order], cands.segment[order], cands.rows[order], cands.dist[order])


def rank_within(sorted_keys: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal ``sorted_keys``."""
    n = sorted_keys.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]])
    start_pos = np.flatnonzero(starts)
    run_lengths = np.diff(np.concatenate([start_pos, [n]]))
    return np.arange(n, dtype=np.int64) - np.repeat(start_pos, run_lengths)


def take_window(
    sorted_cands: Candidates, nq: int, offset: int, limit: int
) -> tuple[Candidates, list[int]]:
    """Hits ``offset .. offset+limit`` of each query from best-first candidates."""
    rank = rank_within(sorted_cands.qidx)
    keep = (rank >= offset) & (rank < offset + limit)
    kept = Candidates(
        sorted_cands.qidx[keep],
        sorted_cands.segment[keep],
        sorted_cands.rows[keep],
        sorted_cands.dist[keep],
    )
    topks = np.bincount(kept.qidx, minlength=nq).astype(int).tolist() if nq else []
    return kept, topks
