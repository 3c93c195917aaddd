"""The collection property ``query_mode``: Milvus's large-topk mode.

A collection created (or altered) with ``query_mode=large_topk`` accepts a search
``limit`` (topk), a query's ``offset+limit`` and a hybrid search's
``offset+limit`` up to 1,000,000 instead of 16384. Milvus also switches such a
collection's vector index to an IVF variant built for deep result lists; Elanus
keeps the index the user asked for (FAISS serves any k) and only widens the
window. As in Milvus the value is case-sensitive, a wrongly cased key is refused
with a hint, and the mode can change only while the collection has no vector
index, because the index was built for the mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from elanus.errors import ParameterError

__all__ = [
    "LARGE_TOPK",
    "MAX_LARGE_TOPK",
    "MAX_TOPK",
    "QUERY_MODE_KEY",
    "check_query_mode_change",
    "check_query_mode_properties",
    "result_window",
]

QUERY_MODE_KEY = "query_mode"
LARGE_TOPK = "large_topk"
MAX_TOPK = 16384
MAX_LARGE_TOPK = 1_000_000
_VALID = (LARGE_TOPK,)


def check_query_mode_properties(properties: Mapping[str, object] | None) -> None:
    """Refuse a ``query_mode`` value Milvus does not know, and the key in another case."""
    for key, value in (properties or {}).items():
        name = str(key)
        if name != QUERY_MODE_KEY and name.lower() == QUERY_MODE_KEY:
            raise ParameterError(
                f'invalid property key "{name}", did you mean "{QUERY_MODE_KEY}"?', code=65535
            )
        if name == QUERY_MODE_KEY and str(value) not in _VALID:
            raise ParameterError(
                f'invalid query_mode value "{value}", valid values: [{" ".join(_VALID)}]',
                code=65535,
            )


def check_query_mode_change(keys: Iterable[str], has_vector_index: bool) -> None:
    """Setting or dropping ``query_mode`` needs the vector indexes dropped first."""
    if has_vector_index and QUERY_MODE_KEY in {str(k) for k in keys}:
        raise ParameterError(
            "can not alter query_mode if the collection already has a vector index; "
            "drop the vector index first",
            code=702,
        )


def result_window(properties: Mapping[str, object] | None) -> int:
    """The largest topk (and query offset+limit) a collection with ``properties`` allows."""
    mode = (properties or {}).get(QUERY_MODE_KEY)
    return MAX_LARGE_TOPK if mode == LARGE_TOPK else MAX_TOPK
