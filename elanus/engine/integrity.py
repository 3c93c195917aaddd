"""Storage health of open collections: degraded state, unavailable segments, scrub.

A collection is *degraded* when opening it found damage (a write-ahead log
behind its manifest, a missing manifest, files moved to ``lost+found``) or when
one of its segments is unavailable (a file missing or failing its checksum).
Reads follow Milvus, where a query needs every segment of the collection
loaded: at Strong consistency a read of a collection with an unavailable
segment is refused with an error naming it; at the other levels it answers from
the segments that are there, and the log says (at WARNING, once per set of
missing segments) which data was left out. ``describe_collection`` shows the
state as the property ``storage.status``.

The scrub re-reads the sealed files of every collection and checks them
against the manifest's checksums: a damaged segment is taken out of service
(reported as above), a damaged index is dropped and built again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from elanus.engine.collection import CollectionData
from elanus.engine.persistence import CollectionStorage
from elanus.engine.requests import ConsistencyLevel
from elanus.engine.segment import SealedSegment
from elanus.engine.state import EngineState
from elanus.errors import StorageError
from elanus.storage import CatalogStore, DataLayout, FileSystem

__all__ = [
    "STATUS_PROPERTY",
    "CollectionHealth",
    "IntegrityOperations",
    "check_segments_available",
    "require_catalog",
    "storage_status",
]

log = logging.getLogger(__name__)

STATUS_PROPERTY = "storage.status"
_warned: dict[int, frozenset[int]] = {}


@dataclass(frozen=True)
class CollectionHealth:
    """What is known to be wrong with a collection's files."""

    collection: str
    problems: tuple[str, ...]
    unavailable_segments: tuple[int, ...]

    @property
    def degraded(self) -> bool:
        return bool(self.problems or self.unavailable_segments)


def storage_status(store: CollectionStorage | None) -> str:
    """``""`` for a healthy collection, else ``degraded: <what>``."""
    if store is None or not store.degraded:
        return ""
    parts = []
    if store.unavailable:
        ids = ", ".join(str(s) for s in sorted(store.unavailable))
        parts.append(f"segments unavailable: {ids}")
    problems = _problems(store)
    if problems:
        parts.append(f"{len(problems)} problem(s) recorded, see `elanus check`")
    return "degraded: " + "; ".join(parts)


def _problems(store: CollectionStorage) -> list[str]:
    recorded = store.recorded_damage
    return recorded + [p for p in store.problems if p not in recorded]


def check_segments_available(store: CollectionStorage | None, name: str, level: str) -> None:
    """Refuse a Strong read of a collection with unavailable segments; let the other
    levels answer from the rest, with a warning naming what is left out."""
    if store is None or not store.unavailable:
        return
    missing = sorted(store.unavailable)
    detail = "; ".join(f"segment {s}: {store.unavailable[s].reason}" for s in missing)
    if ConsistencyLevel.parse(level) == ConsistencyLevel.STRONG:
        raise StorageError(
            f"collection {name} has unavailable segments {missing}, so a Strong read cannot "
            f"see all of its data ({detail}); read at another consistency level to get "
            "the rest, or run `elanus repair`"
        )
    key = frozenset(missing)
    if _warned.get(store.collection_id) != key:
        _warned[store.collection_id] = key
        log.warning(
            "collection %s: reads leave out unavailable segments %s (%s)", name, missing, detail
        )


def require_catalog(fs: FileSystem, layout: DataLayout) -> None:
    """Refuse a data directory whose catalog is gone while collection data is there:
    opening it as an empty database would hide that data (and new collections
    would be mixed with it). ``elanus repair`` moves the data to ``lost+found``.
    With the catalog there, temp files an interrupted save left beside it go."""
    store = CatalogStore(fs, layout.catalog_path)
    backup = store.load_backup()
    remedy = (
        f"`elanus repair {layout.root}` restores it from {store.backup_path} "
        f"(version {backup.version}) and sets aside collections that copy does not name"
        if backup is not None
        else f"restore it from a backup, or run `elanus repair {layout.root}` to move "
        "the collections to lost+found and start empty"
    )
    if fs.exists(layout.catalog_path):
        store.remove_temps()
        try:
            store.load()
        except StorageError as exc:
            raise StorageError(f"{exc}; {remedy}") from exc
        return
    orphans = fs.list_dir(layout.collections_dir)
    if orphans:
        raise StorageError(
            f"{layout.catalog_path} is missing but {layout.collections_dir} holds the data of "
            f"{len(orphans)} collection(s): {remedy}"
        )


class IntegrityOperations(EngineState):
    def storage_health(self, db: str, name: str) -> CollectionHealth:
        """What opening (or a scrub) found wrong with the collection's files."""
        meta = self._meta(db, name)
        store = self.stores.get(meta.collection_id)
        if store is None:
            return CollectionHealth(meta.name, (), ())
        return CollectionHealth(
            meta.name, tuple(_problems(store)), tuple(sorted(store.unavailable))
        )

    def scrub(self) -> list[str]:
        """Check every sealed file of every collection against its checksum now;
        return the problems found (each also logged at ERROR)."""
        found: list[str] = []
        for collection_id, data in list(self.collections.items()):
            store = self.stores.get(collection_id)
            if store is not None:
                found += _scrub_collection(self, data, store)
        return found

    def _start_scrubber(self, interval: float) -> threading.Event:
        """Scrub every ``interval`` seconds on a daemon thread until the event is set."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(interval):
                try:
                    self.scrub()
                except StorageError as exc:
                    log.error("scrub failed: %s", exc)

        threading.Thread(target=loop, name="elanus-scrub", daemon=True).start()
        return stop


def _scrub_collection(
    engine: EngineState, data: CollectionData, store: CollectionStorage
) -> list[str]:
    """Hash outside the write lock (a scrub must not stall writers); take it only to
    take a damaged segment out of the published data."""
    found: list[str] = []
    damaged: list[tuple[SealedSegment, str]] = []
    rebuild = False
    for seg in list(data.sealed):
        try:
            store.verify_segment_files(seg.segment_id)
        except StorageError as exc:
            damaged.append((seg, str(exc)))
            found.append(f"segment {seg.segment_id}: {exc}")
            continue
        for key, spec in data.index_specs.items():
            name = spec["index_name"]
            if not engine.fs.exists(store.index_dir(seg.segment_id, name)):
                continue
            try:
                store.verify_index(seg.segment_id, name)  # "unrecorded": a build in flight
            except StorageError as exc:
                log.error("scrub: %s; building the index again", exc)
                found.append(f"segment {seg.segment_id} index {name}: {exc}")
                seg.vector_indexes.pop(key, None)
                seg.scalar_indexes.pop(key, None)
                rebuild = True
    if damaged:
        with data.write_lock:
            for seg, reason in damaged:
                if seg in data.sealed:
                    store.mark_unavailable(seg, reason)
                    data.sealed.remove(seg)
            data.recompute_masks()
            data.republish()
            store.record_problems()
    elif rebuild:
        data.republish()
    if rebuild:
        schedule = getattr(engine, "_schedule_index_builds", None)
        if schedule is not None:
            schedule(data)
    return found
