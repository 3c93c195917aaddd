"""``Engine``: the one implementation of ``EngineAPI`` (see ``elanus.engine.api``).

Opening a data directory takes its lock (``storage.DataDirLock``), reads the
catalogue, and for every collection loads the manifest's sealed segments with
their delete records and saved indexes, then replays the WAL after the
manifest's checkpoint: exactly the acknowledged writes (docs/engine.md).
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from elanus.engine.analyzer_ops import AnalyzerOperations
from elanus.engine.api import DEFAULT_DATABASE
from elanus.engine.catalog_ops import CatalogOperations
from elanus.engine.data_ops import DataOperations
from elanus.engine.index_ops import IndexOperations
from elanus.engine.integrity import IntegrityOperations, require_catalog
from elanus.engine.iterator_ops import IteratorOperations, IteratorState
from elanus.engine.metadata import Catalog, DatabaseMeta
from elanus.engine.security_ops import SecurityOperations
from elanus.engine.state import EngineOptions
from elanus.engine.timestamps import TimestampOracle
from elanus.errors import StorageError
from elanus.storage import DataDirLock, DataLayout, LocalFileSystem
from elanus.storage.fs import remove_write_leftovers

__all__ = ["Engine", "EngineOptions"]

log = logging.getLogger(__name__)


class Engine(
    CatalogOperations,
    IteratorOperations,
    DataOperations,
    IndexOperations,
    AnalyzerOperations,
    SecurityOperations,
    IntegrityOperations,
):
    def __init__(self, data_dir: str, options: EngineOptions) -> None:
        self.data_dir = os.path.abspath(data_dir)
        self.options = options
        self.layout = DataLayout(self.data_dir)
        self.fs = LocalFileSystem()
        self._dir_lock = DataDirLock(self.layout.lock_dir)
        self._dir_lock.acquire()
        remove_write_leftovers(self.fs, self.data_dir)  # a crash mid catalogue save
        self._closed = False
        self.lock = threading.RLock()
        self.oracle = TimestampOracle()
        self.collections = {}
        self.stores = {}
        self.compactions: dict[int, str] = {}
        self.iterators = IteratorState()
        self._building: set[tuple[int, str]] = set()
        self._build_failures: dict[tuple[int, str], str] = {}
        self._build_lock = threading.Lock()
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="elanus-background")
        try:
            require_catalog(self.fs, self.layout)
            self.catalog = Catalog(self.fs, self.layout.catalog_path)
            self._open_security()
            if DEFAULT_DATABASE not in self.catalog.databases:
                now = self.oracle.now()
                self.catalog.databases[DEFAULT_DATABASE] = DatabaseMeta(
                    DEFAULT_DATABASE, 1, {}, now
                )
                self.catalog.save()
            for db in self.catalog.databases.values():
                for meta in db.collections.values():
                    data = self._open_collection(meta, existing=True)
                    self._publish_specs(meta.indexes, data)
                    self._schedule_index_builds(data)
        except BaseException:
            # a directory that cannot be opened is left as found, and unlocked
            self.worker.shutdown(wait=True, cancel_futures=True)
            for store in self.stores.values():
                store.close()
            self._dir_lock.release()
            raise
        self._scrubber = (
            self._start_scrubber(options.scrub_interval) if options.scrub_interval > 0 else None
        )

    @classmethod
    def open(cls, data_dir: str, *, sync: bool = True, **options: Any) -> Engine:
        """Open (or create) a data directory. ``options``: see ``EngineOptions``."""
        return cls(data_dir, EngineOptions(sync=sync, **options))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._scrubber is not None:
            self._scrubber.set()
        self.worker.shutdown(wait=True, cancel_futures=True)
        try:
            for data in list(self.collections.values()):
                try:
                    data.flush()
                except StorageError as exc:
                    # nothing is lost: the rows stay in the log, replayed at the next open
                    log.warning("collection %d not flushed at close: %s", data.collection_id, exc)
            for store in self.stores.values():
                store.close()
        finally:
            self._dir_lock.release()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
