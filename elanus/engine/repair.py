"""``elanus repair``: bring a damaged data directory back to a consistent state.

What can be rebuilt is rebuilt (indexes, which the open builds again from their
segments; a missing or unreadable catalog from its backup copy); what cannot is
set aside in ``lost+found``, never deleted: collection directories no catalog
names, a segment that fails its checks (it leaves the manifest). Problems recorded by earlier
opens are then acknowledged, so the collections stop being reported as
degraded. The report lists every action; ``check`` runs again at the end.
Like ``check``, it refuses a directory a live process holds.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from elanus.engine.engine import Engine
from elanus.engine.fsck import CheckReport, check_data_dir
from elanus.errors import StorageError
from elanus.storage import (
    Catalog,
    CatalogStore,
    DataDirLock,
    DataLayout,
    FileSystem,
    LocalFileSystem,
)
from elanus.storage.lost_found import move_to_lost_found

__all__ = ["RepairReport", "repair_data_dir"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RepairReport:
    actions: tuple[str, ...]
    after: CheckReport


def repair_data_dir(root: str) -> RepairReport:
    layout = DataLayout(os.path.abspath(root))
    if not os.path.isdir(layout.root):
        raise StorageError(f"{layout.root} is not a directory")
    fs = LocalFileSystem()
    actions: list[str] = []
    with DataDirLock(layout.lock_dir):
        actions += _set_aside_unknown_collections(fs, layout)
    # Opening runs recovery: the log continues after the manifest's checkpoint,
    # segments no readable manifest names go to lost+found, damaged indexes are
    # built again (inline: no background worker), problems are recorded.
    with Engine.open(layout.root, background=False) as engine:
        for collection_id, store in engine.stores.items():
            data = engine.collections[collection_id]
            with data.write_lock:
                for segment_id, gone in sorted(store.unavailable.items()):
                    path = layout.resolve(collection_id, gone.entry.path)
                    where = "(already missing)"
                    if fs.exists(path):
                        where = move_to_lost_found(fs, layout, path, gone.reason)
                    actions.append(
                        f"segment {segment_id} ({gone.reason}) left the manifest, moved to {where}"
                    )
                store.unavailable.clear()
                # a checkpoint over everything logged: the manifest then agrees with
                # the log again, so a gap an open found is not found again
                data.flush(force=True)
                for problem in store.recorded_damage:
                    actions.append(f"acknowledged: {problem}")
                store.clear_recorded_damage()
                store.problems.clear()
    return RepairReport(tuple(actions), check_data_dir(layout.root))


def _set_aside_unknown_collections(fs: FileSystem, layout: DataLayout) -> list[str]:
    """A missing or unreadable catalog is restored from its backup copy when that is
    whole (else set aside); collection directories the catalog does not name go
    to lost+found (the open would refuse or ignore them)."""
    actions: list[str] = []
    store = CatalogStore(fs, layout.catalog_path)
    catalog: Catalog | None = None
    problem = "missing"
    if fs.exists(layout.catalog_path):
        try:
            catalog = store.load()
        except StorageError as exc:
            problem = str(exc)
            where = move_to_lost_found(fs, layout, layout.catalog_path, problem)
            actions.append(f"unreadable catalog moved to {where}")
    if catalog is None and store.load_backup() is not None:
        catalog = store.restore_backup()
        actions.append(
            f"catalog ({problem}) restored from {store.backup_path} (version {catalog.version})"
        )
    known = {str(cid) for cid in catalog.collections} if catalog is not None else set()
    for name in fs.list_dir(layout.collections_dir):
        if name not in known:
            path = f"{layout.collections_dir}/{name}"
            where = move_to_lost_found(fs, layout, path, "a collection the catalog does not name")
            actions.append(f"collection directory {name} (not in the catalog) moved to {where}")
    return actions
