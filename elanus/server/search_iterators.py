"""Server-side state of pymilvus's search iterator (v2).

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

__all__ = ["IteratorPageRequest", "SearchIteratorSessions", "iterator_page_request"]

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


class SearchIteratorSessions:
    """Token → the snapshot and bound of one search iterator."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, ttl: float = DEFAULT_TTL_SECONDS) -> None:
        self._capacity = capacity
        self._ttl = ttl
        self._sessions: OrderedDict[str, tuple[_Session, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def _expire(self, now: float) -> None:
        while self._sessions:
            token, (_, used) = next(iter(self._sessions.items()))
            if now - used <= self._ttl and len(self._sessions) <= self._capacity:
                return
            del self._sessions[token]

    def _open(self, snapshot: Snapshot) -> tuple[str, _Session]:
        token = new_iterator_token()
        session = _Session(snapshot)
        now = time.monotonic()
        with self._lock:
            self._sessions[token] = (session, now)
            self._expire(now)
        return token, session

    def _find(self, token: str) -> _Session:
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            entry = self._sessions.get(token)
            if entry is None:
                raise ParameterError(
                    f"search iterator {token} is unknown or expired; start a new iterator"
                )
            self._sessions[token] = (entry[0], now)
            self._sessions.move_to_end(token)
            return entry[0]

    def next_page(
        self,
        page: IteratorPageRequest,
        request: SearchRequest,
        open_snapshot: Callable[[], Snapshot],
    ) -> tuple[str, SearchIteratorPage]:
        """The next page of the iterator ``page.token`` names (a new iterator when
        it names none); returns the token with the page."""
        if page.token is None:
            token, session = self._open(open_snapshot())
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
