"""The iterator part of pymilvus's search parameters.

pymilvus marks each page's search with ``search_iter_v2`` and, after the first
page, the token the first reply carried (``search_iter_id``) and the last
distance it saw (``search_iter_last_bound``). The reply carries
``search_iterator_v2_results {token, last_bound}``. The engine keeps each token's
snapshot and bound (``elanus.engine.iterator_ops``), so pages read one snapshot
however the collection changes meanwhile.

``query_iterator`` first sends a one-row query with ``iterator=True`` and takes
the reply's ``session_ts`` as the iterator's timestamp; every page then comes
with ``iterator=True`` and ``guarantee_timestamp`` set to it, which names the
snapshot the engine kept for the iterator (``EngineAPI.query_iterator_page``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from elanus.errors import ParameterError

__all__ = ["IteratorPageRequest", "iterator_page_request"]


@dataclass(frozen=True)
class IteratorPageRequest:
    """The iterator part of a search's parameters."""

    batch_size: int
    token: str | None
    last_bound: float | None


def iterator_page_request(params: Mapping[str, str]) -> IteratorPageRequest | None:
    """The iterator settings of a search, or None for an ordinary search."""
    if str(params.get("search_iter_v2", "")).strip().lower() != "true":
        return None
    size_text = params.get("search_iter_batch_size") or params.get("topk") or "0"
    bound_text = params.get("search_iter_last_bound")
    try:
        batch_size = int(size_text)
        last_bound = float(bound_text) if bound_text not in (None, "") else None
    except ValueError:
        raise ParameterError(
            f"invalid search iterator parameters: batch size {size_text!r}, "
            f"last bound {bound_text!r}"
        ) from None
    return IteratorPageRequest(batch_size, params.get("search_iter_id") or None, last_bound)
