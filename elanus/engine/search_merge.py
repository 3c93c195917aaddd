"""One merge across segments: order every query's candidates best-first and cut the window.

All of it is array work over the candidates (``nq x k`` per segment at most), never
over the rows of a segment.
"""

from __future__ import annotations

import operator

import numpy as np

from elanus.engine.search_kernels import Candidates

__all__ = ["best_first", "rank_within", "take_window"]


def best_first(cands: Candidates, larger_is_better: bool) -> Candidates:
    """Candidates sorted by query, then best distance first (ties keep segment order)."""
    if cands.size <= 1:
        return cands
    # One segment's hits usually arrive best-first already (an index or a scan gives
    # each query's top-k in order): then the sort would be the identity. Checked on
    # the distances as they are; NaN fails every comparison and takes the sort below,
    # which orders it as the worst value.
    if _in_order(cands, larger_is_better):
        return cands
    key = -cands.dist.astype(np.float64) if larger_is_better else cands.dist.astype(np.float64)
    key = np.where(np.isnan(key), np.inf, key)
    order = np.lexsort((key, cands.qidx))
    return Candidates(cands.qidx[order], cands.segment[order], cands.rows[order], cands.dist[order])


# Up to this many candidates the order is checked on Python floats: numpy's fixed
# cost per call is larger than the whole check.
_SMALL = 64


def _in_order(cands: Candidates, larger_is_better: bool) -> bool:
    """Whether ``cands`` are already by query, then best distance first (no NaN)."""
    d, q = cands.dist, cands.qidx
    better_or_equal = operator.ge if larger_is_better else operator.le
    if cands.size <= _SMALL:
        dl, ql = d.tolist(), q.tolist()
        if not max(ql):  # query indices are >= 0: all of these are the first query's
            return all(map(better_or_equal, dl, dl[1:]))
        return all(
            qa < qb or (qa == qb and better_or_equal(da, db))
            for qa, qb, da, db in zip(ql, ql[1:], dl, dl[1:])
        )
    in_order = better_or_equal(d[:-1], d[1:])
    if not q.max():  # query indices are >= 0: all of these are the first query's
        return bool(in_order.all())
    return bool(((q[1:] > q[:-1]) | ((q[1:] == q[:-1]) & in_order)).all())


def rank_within(sorted_keys: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal ``sorted_keys``."""
    n = sorted_keys.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # The keys are sorted, so the first index of each element's run is a binary search.
    first = np.searchsorted(sorted_keys, sorted_keys, side="left")
    return np.arange(n, dtype=np.int64) - first


def take_window(
    sorted_cands: Candidates, nq: int, offset: int, limit: int
) -> tuple[Candidates, list[int]]:
    """Hits ``offset .. offset+limit`` of each query from best-first candidates."""
    qidx = sorted_cands.qidx
    if nq == 1 and offset == 0:
        # One query: the window is a prefix, no ranking needed.
        kept = sorted_cands
        if kept.size > limit:
            kept = Candidates(
                qidx[:limit], kept.segment[:limit], kept.rows[:limit], kept.dist[:limit]
            )
        return kept, [kept.size]
    rank = rank_within(qidx)
    keep = (rank >= offset) & (rank < offset + limit)
    if keep.all():
        kept = sorted_cands
    else:
        kept = Candidates(
            qidx[keep], sorted_cands.segment[keep], sorted_cands.rows[keep], sorted_cands.dist[keep]
        )
    topks = np.bincount(kept.qidx, minlength=nq).astype(int).tolist() if nq else []
    return kept, topks
