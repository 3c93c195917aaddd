"""Scalar indexes (INVERTED, BITMAP, STL_SORT, TRIE, NGRAM, RTREE, JSON path and ARRAY
indexes) that answer filter leaves with row masks; they match ``elanus.expr.ScalarIndex``
structurally. Each saves itself beside its segment (``save(path)``) and comes back
with ``load_scalar_index(path)``."""

from elanus.index.scalar.containers import (
    JSON_CAST_TYPES,
    ArrayIndex,
    JsonPathIndex,
    json_cast_arrow_type,
)
from elanus.index.scalar.factory import (
    SCALAR_INDEX_TYPES,
    ScalarIndexObject,
    create_scalar_index,
    load_scalar_index,
    validate_scalar_index,
)
from elanus.index.scalar.indexes import BitmapIndex, InvertedIndex, SortIndex, TrieIndex
from elanus.index.scalar.ngram import NgramIndex
from elanus.index.scalar.persist import is_scalar_index_dir
from elanus.index.scalar.rtree import RTreeIndex

__all__ = [
    "JSON_CAST_TYPES",
    "SCALAR_INDEX_TYPES",
    "ArrayIndex",
    "BitmapIndex",
    "InvertedIndex",
    "JsonPathIndex",
    "NgramIndex",
    "RTreeIndex",
    "ScalarIndexObject",
    "SortIndex",
    "TrieIndex",
    "create_scalar_index",
    "is_scalar_index_dir",
    "json_cast_arrow_type",
    "load_scalar_index",
    "validate_scalar_index",
]
