"""State every part of ``Engine`` shares: catalogue, open collections, oracle, workers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from elanus.engine.api import DEFAULT_DATABASE
from elanus.engine.collection import CollectionData
from elanus.engine.expiry import ttl_ms
from elanus.engine.load_settings import LoadFields
from elanus.engine.metadata import Catalog, CollectionMeta, DatabaseMeta
from elanus.engine.persistence import CollectionStorage
from elanus.engine.timestamps import TimestampOracle
from elanus.errors import CollectionNotFound, DatabaseNotFound, ParameterError
from elanus.storage import DataLayout, FileSystem

__all__ = ["EngineOptions", "EngineState"]


@dataclass(frozen=True)
class EngineOptions:
    """``sync``: fsync the WAL per write (off: survives a process crash, not power loss).
    ``seal_bytes`` / ``seal_rows``: a growing segment is sealed past either.
    ``compact_min_rows``: sealed segments smaller than this are merged by compaction.
    ``scrub_interval``: seconds between background checks of every sealed file
    against its checksum (0, the default: only on demand, ``Engine.scrub()``)."""

    sync: bool = True
    seal_bytes: int = 64 << 20
    seal_rows: int = 1_000_000
    compact_min_rows: int = 100_000
    background: bool = True
    scrub_interval: float = 0.0

    def __post_init__(self) -> None:
        if not self.scrub_interval >= 0:
            raise ParameterError(
                f"scrub_interval must be 0 (off) or a number of seconds, not {self.scrub_interval}"
            )


class EngineState:
    data_dir: str
    fs: FileSystem
    layout: DataLayout
    options: EngineOptions
    catalog: Catalog
    oracle: TimestampOracle
    collections: dict[int, CollectionData]
    stores: dict[int, CollectionStorage]
    worker: ThreadPoolExecutor
    lock: threading.RLock

    # --- lookups shared by every part ---------------------------------------------------
    def _db(self, name: str) -> DatabaseMeta:
        db = self.catalog.databases.get(name or DEFAULT_DATABASE)
        if db is None:
            raise DatabaseNotFound(f"database not found[database={name}]")
        return db

    def _meta(self, db: str, name: str) -> CollectionMeta:
        database = self._db(db)
        target = database.aliases.get(name, name)
        meta = database.collections.get(target)
        if meta is None:
            raise CollectionNotFound(
                f"collection not found[database={database.name}][collection={name}]"
            )
        return meta

    def _data(self, db: str, name: str) -> tuple[CollectionMeta, CollectionData]:
        meta = self._meta(db, name)
        return meta, self.collections[meta.collection_id]

    def _open_collection(self, meta: CollectionMeta, existing: bool = False) -> CollectionData:
        """Open (``existing``: reopen after a restart) a collection's files and data."""
        store = CollectionStorage(
            self.fs, self.layout, meta.collection_id, sync=self.options.sync, existing=existing
        )

        data = CollectionData(
            meta.collection_id,
            meta.collection_schema(),
            self.oracle,
            store,
            seal_bytes=self.options.seal_bytes,
            seal_rows=self.options.seal_rows,
            ttl_ms=lambda: ttl_ms(meta.properties),
        )
        schedule = getattr(self, "_schedule_index_builds", None)
        if schedule is not None:
            data.on_seal = lambda: schedule(data)
        data.unloaded_fields = LoadFields(
            tuple(meta.load_fields), meta.skip_load_dynamic
        ).unloaded(data.schema)
        data.sealed = store.load(data.schema)
        data.replay(store.replay())
        # the next checkpoint covers every record the log holds, replayed or not
        data.last_seq = max(data.last_seq, store.wal.last_seq)
        data.skipped_on_replay[:0] = store.skipped_on_replay
        self.collections[meta.collection_id] = data
        self.stores[meta.collection_id] = store
        return data
