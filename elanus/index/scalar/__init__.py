"""Scalar indexes (INVERTED, BITMAP, STL_SORT, TRIE, NGRAM) that answer filter leaves
with row masks; they match ``elanus.expr.ScalarIndex`` structurally."""

from elanus.index.scalar.factory import SCALAR_INDEX_TYPES, ScalarIndexObject, create_scalar_index
from elanus.index.scalar.indexes import BitmapIndex, InvertedIndex, NgramIndex, SortIndex, TrieIndex

__all__ = [
    "SCALAR_INDEX_TYPES",
    "BitmapIndex",
    "InvertedIndex",
    "NgramIndex",
    "ScalarIndexObject",
    "SortIndex",
    "TrieIndex",
    "create_scalar_index",
]
