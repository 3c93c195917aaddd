"""Iterators: reads that span many calls, each pinned to the snapshot of its first page.

Every front door's ``search_iterator`` and ``query_iterator`` pages through here, so
the embedded client and the gRPC server (pymilvus's iterators) behave alike while
the collection changes: a page never shows a row written after the first page, and
rows deleted meanwhile neither shift the window nor hide others.

- A search iterator is named by a token. The token keeps the snapshot of its first
  page, the last distance returned and the keys returned at that distance
  (``elanus.engine.search_iterator.search_iterator_page``), so ties at a page bound
  neither repeat nor vanish.
- A query iterator pages by primary key (the caller adds ``pk > last`` to the
  filter; pymilvus does so itself) in primary-key order. Its snapshot is kept under
  (database, collection, snapshot timestamp); a page that names that timestamp as
  its ``guarantee_timestamp`` reads the kept snapshot.

Kept state is forgotten ``ttl`` seconds after last use, or oldest first beyond
``capacity``. A search page with a forgotten token is an error, never a silently
different answer; a query page whose snapshot was forgotten reads a new one at
least as new (primary-key paging still returns no key twice).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from elanus.engine.data_ops import DataOperations
from elanus.engine.expiry import without_expired
from elanus.engine.requests import QueryRequest, QueryResult, SearchRequest
from elanus.engine.search_iterator import (
    SearchIteratorPage,
    new_iterator_token,
    search_iterator_page,
)
from elanus.engine.snapshot import Snapshot
from elanus.errors import ParameterError

__all__ = ["IteratorOperations", "IteratorState"]

DEFAULT_CAPACITY = 1024
DEFAULT_TTL_SECONDS = 600.0


@dataclass
class _SearchSession:
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


class IteratorState:
    """The snapshots and bounds of the iterators in flight."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, ttl: float = DEFAULT_TTL_SECONDS) -> None:
        self.searches = _ExpiringMap(capacity, ttl)
        self.queries = _ExpiringMap(capacity, ttl)


class IteratorOperations(DataOperations):
    """``search_iterator_page`` and ``query_iterator_page`` of ``EngineAPI``."""

    iterators: IteratorState

    def search_iterator_page(
        self,
        db: str,
        collection: str,
        request: SearchRequest,
        *,
        batch_size: int,
        token: str | None = None,
    ) -> tuple[str, SearchIteratorPage]:
        """The next page of the search iterator ``token`` names, or the first page of
        a new one (over a snapshot taken now) when it names none; returns the token."""
        if token is None:
            self.check_search_filters(db, collection, [request])
            snapshot = self.read_snapshot(
                db,
                collection,
                consistency_level=request.consistency_level,
                guarantee_timestamp=request.guarantee_timestamp,
                partition_names=request.partition_names,
            )
            token, session = new_iterator_token(), _SearchSession(snapshot)
            self.iterators.searches.put(token, session)
        else:
            found = self.iterators.searches.get(token)
            if found is None:
                raise ParameterError(
                    f"search iterator {token} is unknown or expired; start a new iterator"
                )
            session = found
        with session.lock:
            page = search_iterator_page(
                without_expired(session.snapshot, self.oracle.wall_ms()),
                request,
                batch_size=batch_size,
                last_bound=session.last_bound,
                exclude_ids=session.ids_at_bound,
            )
            session.last_bound = page.last_bound
            session.ids_at_bound = list(page.ids_at_bound)
        zone = self._zone(db, collection, request.timezone)
        results = self.search_in_zone(session.snapshot, page.results, zone)
        return token, replace(page, results=results)

    def query_iterator_page(
        self, db: str, collection: str, request: QueryRequest
    ) -> tuple[QueryResult, int]:
        """One page of a query iterator in primary-key order, read from the snapshot
        kept under ``request.guarantee_timestamp`` (a new snapshot, then kept, when
        none is); returns the page and the snapshot's timestamp for the next page."""
        key = (db, collection, int(request.guarantee_timestamp or 0))
        snapshot = self.iterators.queries.get(key) if key[2] else None
        if snapshot is None:
            opened = self.read_snapshot(
                db,
                collection,
                consistency_level=request.consistency_level,
                guarantee_timestamp=request.guarantee_timestamp,
                partition_names=request.partition_names,
            )
            snapshot = self.iterators.queries.put((db, collection, opened.timestamp), opened)
        from elanus.engine.query import execute_query

        page = execute_query(
            without_expired(snapshot, self.oracle.wall_ms()), replace(request, order_by_pk=True)
        )
        zone = self._zone(db, collection, request.timezone)
        return self.query_in_zone(snapshot, page, zone), int(snapshot.timestamp)
