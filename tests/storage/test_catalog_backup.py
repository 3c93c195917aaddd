"""Every catalog save leaves a whole copy beside it, which a repair can restore."""

from __future__ import annotations

from pathlib import Path

import pytest

from elanus.errors import StorageError
from elanus.storage import Catalog, CatalogStore, DatabaseRecord, LocalFileSystem


def _saved(tmp_path: Path) -> CatalogStore:
    store = CatalogStore(LocalFileSystem(), str(tmp_path / "catalog.json"))
    catalog = Catalog()
    catalog.databases["default"] = DatabaseRecord("default", 1)
    store.save(catalog)
    catalog.databases["db2"] = DatabaseRecord("db2", 2)
    store.save(catalog)
    return store


def test_a_save_writes_the_same_document_twice(tmp_path: Path) -> None:
    store = _saved(tmp_path)
    assert (tmp_path / "catalog.json").read_bytes() == (tmp_path / "catalog.json.bak").read_bytes()
    backup = store.load_backup()
    assert backup is not None and sorted(backup.databases) == ["db2", "default"]


def test_a_damaged_catalog_is_restored_from_its_copy(tmp_path: Path) -> None:
    store = _saved(tmp_path)
    (tmp_path / "catalog.json").write_bytes(b'{"crc32": 1, "catalog": "{}"}')
    with pytest.raises(StorageError, match="catalog.json is damaged"):
        store.load()
    assert store.restore_backup().version == 2
    assert sorted(store.load().databases) == ["db2", "default"]


def test_a_damaged_copy_is_no_backup(tmp_path: Path) -> None:
    store = _saved(tmp_path)
    (tmp_path / "catalog.json.bak").write_bytes(b"junk")
    assert store.load_backup() is None
    with pytest.raises(StorageError, match="no whole catalog backup"):
        store.restore_backup()
