"""NGRAM: the n-grams of a string column's distinct values, to find ``like`` candidates.

Postings are built column-wise with Arrow kernels — one slice of every distinct
string per (gram length, start offset), never a loop over rows — and kept as a
sorted gram dictionary with CSR offsets into the distinct-value ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from elanus.index.scalar.columns import DistinctColumn
from elanus.index.scalar.indexes import SavedIndex
from elanus.index.scalar.like import literal_runs

__all__ = ["NgramIndex"]


def _postings(
    strings: pa.Array, min_gram: int, max_gram: int
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(sorted distinct grams, CSR offsets, ids of the strings holding each gram)."""
    lengths = pc.fill_null(pc.utf8_length(strings), 0).to_numpy(zero_copy_only=False)
    longest = int(lengths.max()) if len(lengths) else 0
    ids_all = np.arange(len(strings), dtype=np.int64)
    grams: list[pa.Array] = []
    owners: list[np.ndarray] = []
    for g in range(min_gram, max_gram + 1):
        for start in range(longest - g + 1):
            keep = lengths >= start + g
            if not keep.any():
                break
            sliced = pc.utf8_slice_codeunits(strings.filter(pa.array(keep)), start, start + g)
            grams.append(sliced)
            owners.append(ids_all[keep])
    if not grams:
        return pa.array([], pa.string()), np.zeros(1, dtype=np.int64), np.zeros(0, np.int64)
    encoded = pa.concat_arrays(grams).dictionary_encode()
    dictionary = encoded.dictionary
    order = pc.array_sort_indices(dictionary).to_numpy(zero_copy_only=False)
    rank = np.empty(len(dictionary), dtype=np.int64)
    rank[order] = np.arange(len(dictionary))
    gram_ids = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    owner_ids = np.concatenate(owners)
    # one posting per (gram, string) pair: a string repeating a gram is listed once
    pairs = np.unique(gram_ids * len(strings) + owner_ids)
    gram_of, owner_of = np.divmod(pairs, len(strings))
    offsets = np.zeros(len(dictionary) + 1, dtype=np.int64)
    np.cumsum(np.bincount(gram_of, minlength=len(dictionary)), out=offsets[1:])
    return dictionary.take(pa.array(order)), offsets, owner_of.astype(np.int64)


class NgramIndex(SavedIndex):
    """NGRAM (min_gram..max_gram characters); candidates from the grams of a pattern's
    literal runs are matched exactly. Answers only ``like``."""

    index_type = "NGRAM"

    def __init__(self, column: pa.Array, min_gram: int, max_gram: int) -> None:
        self.column = DistinctColumn.build(column)
        self.num_rows = len(self.column.codes)
        self.min_gram, self.max_gram = min_gram, max_gram
        self.grams, self.offsets, self.ids = _postings(self.column.uniques, min_gram, max_gram)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray | pa.Array]]:
        meta = {"min_gram": self.min_gram, "max_gram": self.max_gram}
        return meta, {
            **self.column.state(),
            "grams": self.grams,
            "offsets": self.offsets,
            "ids": self.ids,
        }

    @classmethod
    def restore(cls, meta: dict[str, Any], arrays: dict[str, Any]) -> NgramIndex:
        index = cls.__new__(cls)
        index.column = DistinctColumn.restore(arrays)
        index.num_rows = len(index.column.codes)
        index.min_gram, index.max_gram = int(meta["min_gram"]), int(meta["max_gram"])
        index.grams, index.offsets, index.ids = arrays["grams"], arrays["offsets"], arrays["ids"]
        return index

    def equal(self, values: Sequence[Any]) -> np.ndarray | None:
        return None

    def range(
        self, lower: Any, lower_inclusive: bool, upper: Any, upper_inclusive: bool
    ) -> np.ndarray | None:
        return None

    def like(self, pattern: str) -> np.ndarray | None:
        uniques = self.column.uniques
        needed: list[str] = []
        for run in literal_runs(pattern):
            if len(run) < self.min_gram:
                continue
            g = min(len(run), self.max_gram)
            needed.extend(run[start : start + g] for start in range(len(run) - g + 1))
        candidates = np.ones(len(uniques), dtype=bool)
        if needed:
            found = pc.index_in(pa.array(needed, pa.string()), value_set=self.grams)
            if found.null_count:
                candidates[:] = False
            else:
                for slot in found.to_numpy(zero_copy_only=False):
                    hit = np.zeros(len(uniques), dtype=bool)
                    hit[self.ids[self.offsets[slot] : self.offsets[slot + 1]]] = True
                    candidates &= hit
        ids = np.nonzero(candidates)[0]
        selected = np.zeros(len(uniques), dtype=bool)
        if len(ids):
            matched = pc.match_like(uniques.take(pa.array(ids)), pattern)
            selected[ids[np.asarray(matched.to_numpy(zero_copy_only=False), dtype=bool)]] = True
        return self.column.rows(selected)

    def is_null(self) -> np.ndarray:
        return self.column.nulls.copy()
