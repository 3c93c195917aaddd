"""Grouping search: at most ``group_size`` hits per value of a scalar field.

``limit`` and ``offset`` count groups, as in Milvus. Groups are ordered by their best
hit; a group's hits follow one another, best first. Every step is array work over
the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from elanus.engine.search_kernels import Candidates
from elanus.engine.search_merge import rank_within

__all__ = ["GroupedWindow", "group_codes", "group_window"]


@dataclass(frozen=True)
class GroupedWindow:
    """The hits kept by grouping (in result order), their group keys and per-query counts.

    ``complete`` is False when some query found fewer than the wanted groups, or (when
    strict) a group fewer than ``group_size`` hits, among the candidates it was given: a caller
    with more candidates to offer can retry with a larger pool.
    """

    hits: Candidates
    keys: Any
    topks: list[int]
    complete: bool


def group_codes(keys: Any) -> np.ndarray:
    """An int code per key, equal keys equal codes (nulls form one group of their own)."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    if not isinstance(keys, pa.Array):
        keys = pa.array(np.asarray(keys))
    encoded = pc.dictionary_encode(keys, null_encoding="encode")
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def group_window(
    sorted_cands: Candidates,
    keys: Any,
    nq: int,
    offset: int,
    limit: int,
    group_size: int,
    *,
    strict: bool = True,
) -> GroupedWindow:
    """Group best-first candidates (``keys`` aligned with them) and cut the group window.

    ``strict`` is Milvus's ``strict_group_size``: the window is complete only when
    every group in it holds ``group_size`` hits (a caller widens its pool until then
    or until the rows run out). Without it, finding ``offset + limit`` groups is
    enough and a group may come back with fewer hits than the data holds.
    """
    n = sorted_cands.size
    if n == 0:
        return GroupedWindow(sorted_cands, keys, [0] * nq, True)
    codes = group_codes(keys)
    # (query, group) pairs; a stable sort keeps each pair's hits best-first.
    pair = sorted_cands.qidx * (int(codes.max()) + 1) + codes
    by_pair = np.argsort(pair, kind="stable")
    run_starts = np.flatnonzero(np.concatenate([[True], pair[by_pair][1:] != pair[by_pair][:-1]]))
    run_lengths = np.diff(np.concatenate([run_starts, [n]]))
    hit_rank = np.empty(n, dtype=np.int64)
    hit_rank[by_pair] = rank_within(pair[by_pair])
    within = hit_rank < group_size
    # Every hit's group, named by the position of the group's best hit.
    group_first = np.empty(n, dtype=np.int64)
    group_first[by_pair] = np.repeat(by_pair[run_starts], run_lengths)
    # Groups rank in their query by their best hit (positions are best-first).
    first_pos = np.sort(by_pair[run_starts])
    group_rank_of_first = rank_within(sorted_cands.qidx[first_pos])
    lookup = np.zeros(n, dtype=np.int64)
    lookup[first_pos] = group_rank_of_first
    group_rank_full = lookup[group_first]
    keep = within & (group_rank_full >= offset) & (group_rank_full < offset + limit)
    kept = np.flatnonzero(keep)
    # Result order: query, then group rank, then hit rank.
    order = kept[np.lexsort((hit_rank[kept], group_rank_full[kept], sorted_cands.qidx[kept]))]
    hits = Candidates(
        sorted_cands.qidx[order],
        sorted_cands.segment[order],
        sorted_cands.rows[order],
        sorted_cands.dist[order],
    )
    topks = np.bincount(hits.qidx, minlength=nq).astype(int).tolist()
    groups_per_query = np.bincount(sorted_cands.qidx[first_pos], minlength=nq)
    group_sizes = np.bincount(group_first, minlength=n)[first_pos]
    wanted = offset + limit
    enough_groups = bool(np.all(groups_per_query >= wanted))
    # Only groups inside the window need to be full.
    in_window = (group_rank_of_first >= offset) & (group_rank_of_first < wanted)
    full_groups = bool(np.all(group_sizes[in_window] >= group_size))
    taken_keys = (
        keys.take(pa.array(order)) if isinstance(keys, pa.Array) else np.asarray(keys)[order]
    )
    return GroupedWindow(hits, taken_keys, topks, enough_groups and (full_groups or not strict))
