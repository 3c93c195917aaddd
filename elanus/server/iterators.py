"""Server-side state of pymilvus's iterators: snapshots kept across pages.

pymilvus marks each page's search with ``search_iter_v2`` and, after the first
page, the token the first reply carried (``search_iter_id``) and the last
distance it saw (``search_iter_last_bound``). The reply carries
``search_iterator_v2_results {token, last_bound}``.

Each token keeps the snapshot its first page read and the keys returned at the
page's bound. Snapshots are immutable, so every page of one iterator reads the
same rows however the collection changes meanwhile, and ties at a bound neither
repeat nor vanish (``elanus.engine.search_iterator.search_iterator_page``).
Tokens are forgotten after ``ttl`` seconds unused, or oldest first beyond
``capacity``; a page asked for with a forgotten token is an error, never a
silently different answer.

``query_iterator`` first sends a one-row query with ``iterator=True`` and takes
the reply's ``session_ts`` as the iterator's timestamp; every page then comes
with ``iterator=True`` and ``guarantee_timestamp`` set to it. The snapshot that
answered the first query is kept under (database, collection, timestamp), so
pages read it and rows written meanwhile never show up half way.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from elanus.engine.requests import SearchRequest
from elanus.engine.search_iterator import (
    SearchIteratorPage,
    new_iterator_token,
    search_iterator_page,
)
from elanus.engine.snapshot import Snapshot
from elanus.errors import ParameterError

__all__ = [
    "IteratorPageRequest",
    "QueryIteratorSnapshots",
    "SearchIteratorSessions",
    "iterator_page_request",
]

DEFAULT_CAPACITY = 1024
DEFAULT_TTL_SECONDS = 600.0


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


@dataclass
class _Session:
    snapshot: Snapshot
    last_bound: float | None = None
    ids_at_bound: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _ExpiringMap:
    """Entries forgotten ``ttl`` seconds after last use, or oldest first beyond ``capacity``."""

    def __init__(self, capacity: int, ttl: float) -> None:
        self._capacity = capacity
        self._ttl = ttl
        self._entries: OrderedDict[Any, tuple[Any, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self, now: float) -> None:
        while self._entries:
            key, (_, used) = next(iter(self._entries.items()))
            if now - used <= self._ttl and len(self._entries) <= self._capacity:
                return
            del self._entries[key]

    def put(self, key: Any, value: Any) -> Any:
        """Store ``value`` unless ``key`` is there; returns what is stored."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            stored = value if entry is None else entry[0]
            self._entries[key] = (stored, now)
            self._entries.move_to_end(key)
            self._expire(now)
            return stored

    def get(self, key: Any) -> Any | None:
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries[key] = (entry[0], now)
            self._entries.move_to_end(key)
            return entry[0]


class SearchIteratorSessions:
    """Token → the snapshot and bound of one search iterator."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, ttl: float = DEFAULT_TTL_SECONDS) -> None:
        self._sessions = _ExpiringMap(capacity, ttl)

    def __len__(self) -> int:
        return len(self._sessions)

    def _find(self, token: str) -> _Session:
        session = self._sessions.get(token)
        if session is None:
            raise ParameterError(
                f"search iterator {token} is unknown or expired; start a new iterator"
            )
        return session  # type: ignore[no-any-return]

    def next_page(
        self,
        page: IteratorPageRequest,
        request: SearchRequest,
        open_snapshot: Callable[[], Snapshot],
    ) -> tuple[str, SearchIteratorPage]:
        """The next page of the iterator ``page.token`` names (a new iterator when
        it names none); returns the token with the page."""
        if page.token is None:
            token, session = new_iterator_token(), _Session(open_snapshot())
            self._sessions.put(token, session)
        else:
            token, session = page.token, self._find(page.token)
        with session.lock:
            result = search_iterator_page(
                session.snapshot,
                request,
                batch_size=page.batch_size,
                last_bound=session.last_bound,
                exclude_ids=session.ids_at_bound,
            )
            session.last_bound = result.last_bound
            session.ids_at_bound = list(result.ids_at_bound)
        return token, result


class QueryIteratorSnapshots:
    """(database, collection, timestamp) → the snapshot a query iterator reads."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, ttl: float = DEFAULT_TTL_SECONDS) -> None:
        self._snapshots = _ExpiringMap(capacity, ttl)

    def __len__(self) -> int:
        return len(self._snapshots)

    def snapshot(
        self, db: str, collection: str, timestamp: int, open_snapshot: Callable[[], Snapshot]
    ) -> Snapshot:
        """The snapshot kept for ``timestamp``, else a new one, kept under its own."""
        if timestamp:
            kept = self._snapshots.get((db, collection, timestamp))
            if kept is not None:
                return kept  # type: ignore[no-any-return]
        snapshot = open_snapshot()
        kept = self._snapshots.put((db, collection, snapshot.timestamp), snapshot)
        return kept  # type: ignore[no-any-return]
