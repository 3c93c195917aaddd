"""index layer: vector indexes (dense, binary, sparse) behind one protocol, named
and parameterised as Milvus names them. Scalar indexes live in ``elanus.index.scalar``.

The vector names below are imported on first use, so importing a sibling such as
``elanus.index.scalar`` does not pay for loading FAISS.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "INDEX_SPECS",
    "RangeResult",
    "VectorIndex",
    "build_vector_index",
    "default_metric",
    "exact_range_search",
    "exact_search",
    "larger_is_better",
    "load_vector_index",
    "resolve_index_type",
    "validate_index_params",
    "validate_search_params",
]

_HOME = {
    "INDEX_SPECS": "elanus.index.params",
    "default_metric": "elanus.index.params",
    "resolve_index_type": "elanus.index.params",
    "RangeResult": "elanus.index.protocol",
    "VectorIndex": "elanus.index.protocol",
    "exact_range_search": "elanus.index.exact",
    "build_vector_index": "elanus.index.factory",
    "exact_search": "elanus.index.factory",
    "larger_is_better": "elanus.index.factory",
    "load_vector_index": "elanus.index.factory",
    "validate_index_params": "elanus.index.factory",
    "validate_search_params": "elanus.index.factory",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'elanus.index' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
