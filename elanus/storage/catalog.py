"""The durable catalog: databases, collections, partitions, aliases, index definitions.

A plain object model kept in memory and saved as one JSON document
(``catalog.json``) replaced atomically on every change; the document carries a
CRC32 of its body. A second copy (``catalog.json.bak``) is written after it, so
that one damaged file leaves a whole catalog for ``elanus repair`` to restore. Records are frozen: the engine changes the catalog by
putting new records (``dataclasses.replace``) into a ``copy()`` and saving it,
then swapping it in, so a failed save changes nothing. The engine serialises
mutations; this module does no locking and no name checks.
"""

from __future__ import annotations

import copy as _copy
import json
import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from elanus.errors import StorageError
from elanus.schema import CollectionSchema
from elanus.storage.fs import FileSystem

__all__ = [
    "Catalog",
    "CatalogStore",
    "CollectionRecord",
    "DatabaseRecord",
    "IndexRecord",
    "PartitionRecord",
]

FORMAT_VERSION = 1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseRecord:
    name: str
    database_id: int
    properties: Mapping[str, str] = field(default_factory=dict)
    created_timestamp: int = 0


@dataclass(frozen=True)
class PartitionRecord:
    name: str
    partition_id: int
    created_timestamp: int = 0


@dataclass(frozen=True)
class IndexRecord:
    """An index definition as the user gave it (``params`` holds index_type's params)."""

    index_name: str
    field_name: str
    index_type: str
    metric_type: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    index_id: int = 0
    created_timestamp: int = 0


@dataclass(frozen=True)
class CollectionRecord:
    """One collection. ``extra`` holds further engine state (JSON values only)."""

    collection_id: int
    name: str
    database: str
    schema: CollectionSchema
    properties: Mapping[str, str] = field(default_factory=dict)
    partitions: tuple[PartitionRecord, ...] = ()
    aliases: tuple[str, ...] = ()
    indexes: tuple[IndexRecord, ...] = ()
    consistency_level: str = "Bounded"
    num_shards: int = 1
    num_partitions: int = 0
    created_timestamp: int = 0
    update_timestamp: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def partition(self, name: str) -> PartitionRecord | None:
        for p in self.partitions:
            if p.name == name:
                return p
        return None

    def index(self, index_name: str) -> IndexRecord | None:
        for i in self.indexes:
            if i.index_name == index_name:
                return i
        return None


@dataclass
class Catalog:
    """Everything the catalog knows. ``next_id`` feeds ids of every kind."""

    databases: dict[str, DatabaseRecord] = field(default_factory=dict)
    collections: dict[int, CollectionRecord] = field(default_factory=dict)
    next_id: int = 1
    version: int = 0

    def allocate_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def copy(self) -> Catalog:
        """A copy whose dicts can change without touching this one (records are shared)."""
        return Catalog(dict(self.databases), dict(self.collections), self.next_id, self.version)

    def collections_in(self, database: str) -> list[CollectionRecord]:
        return [c for c in self.collections.values() if c.database == database]

    def find_collection(self, database: str, name: str) -> CollectionRecord | None:
        """The collection called ``name`` in ``database``, by name or by alias."""
        by_alias = None
        for c in self.collections.values():
            if c.database != database:
                continue
            if c.name == name:
                return c
            if name in c.aliases:
                by_alias = c
        return by_alias

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "next_id": self.next_id,
            "databases": [_database_json(d) for d in self.databases.values()],
            "collections": [_collection_json(c) for c in self.collections.values()],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Catalog:
        if int(raw.get("format_version", 1)) > FORMAT_VERSION:
            raise StorageError(f"catalog format {raw['format_version']} is newer than this")
        databases = [
            DatabaseRecord(
                name=d["name"],
                database_id=int(d["database_id"]),
                properties=dict(d.get("properties") or {}),
                created_timestamp=int(d.get("created_timestamp", 0)),
            )
            for d in raw.get("databases", ())
        ]
        collections = [_collection_from(c) for c in raw.get("collections", ())]
        return cls(
            databases={d.name: d for d in databases},
            collections={c.collection_id: c for c in collections},
            next_id=int(raw.get("next_id", 1)),
            version=int(raw.get("version", 0)),
        )


class CatalogStore:
    """Loads and saves the catalog document at ``path`` (and its copy ``backup_path``)."""

    def __init__(self, fs: FileSystem, path: str) -> None:
        self.fs = fs
        self.path = path
        self.backup_path = path + ".bak"

    def load(self) -> Catalog:
        """The saved catalog, or an empty one when none was saved yet."""
        if not self.fs.exists(self.path):
            return Catalog()
        return _read(self.fs, self.path)

    def load_backup(self) -> Catalog | None:
        """The copy written after the catalog, or None when there is no whole one."""
        if not self.fs.exists(self.backup_path):
            return None
        try:
            return _read(self.fs, self.backup_path)
        except StorageError:
            return None

    def restore_backup(self) -> Catalog:
        """Make the backup copy the catalog again (``StorageError`` when it is not whole)."""
        backup = self.load_backup()
        if backup is None:
            raise StorageError(f"no whole catalog backup at {self.backup_path}")
        self.fs.write_atomic(self.path, self.fs.read_bytes(self.backup_path))
        return backup

    def remove_temps(self) -> list[str]:
        """Delete temp files an interrupted save left beside the catalog (never
        renamed into place); the caller holds the directory lock."""
        directory, _, name = self.path.rpartition("/")
        stale = [
            n
            for n in self.fs.list_dir(directory or ".")
            if n.startswith(f".{name}.") and n.endswith(".tmp")
        ]
        for entry in stale:
            self.fs.delete_file(f"{directory}/{entry}" if directory else entry)
        return stale

    def save(self, catalog: Catalog) -> None:
        """Write the catalog atomically and bump its ``version``."""
        saved = _copy.copy(catalog)
        saved.version = catalog.version + 1
        try:
            body = json.dumps(saved.to_json(), sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise StorageError(f"catalog holds a value that is not JSON: {exc}") from exc
        doc = json.dumps({"crc32": zlib.crc32(body.encode()), "catalog": body}).encode()
        self.fs.write_atomic(self.path, doc)
        catalog.version = saved.version
        try:
            self.fs.write_atomic(self.backup_path, doc)
        except (OSError, StorageError) as exc:
            # the catalog itself is saved; only the spare copy lags behind
            log.warning("catalog backup %s not updated: %s", self.backup_path, exc)


def _read(fs: FileSystem, path: str) -> Catalog:
    try:
        doc = json.loads(fs.read_bytes(path))
        body = doc["catalog"]
        if zlib.crc32(body.encode()) != doc["crc32"]:
            raise ValueError("checksum mismatch")
        return Catalog.from_json(json.loads(body))
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"catalog {path} is damaged: {exc}") from exc


def _database_json(d: DatabaseRecord) -> dict[str, Any]:
    return {
        "name": d.name,
        "database_id": d.database_id,
        "properties": dict(d.properties),
        "created_timestamp": d.created_timestamp,
    }


def _collection_json(c: CollectionRecord) -> dict[str, Any]:
    return {
        "collection_id": c.collection_id,
        "name": c.name,
        "database": c.database,
        "schema": c.schema.to_json_dict(),
        "properties": dict(c.properties),
        "partitions": [vars(p) for p in c.partitions],
        "aliases": list(c.aliases),
        "indexes": [{**vars(i), "params": dict(i.params)} for i in c.indexes],
        "consistency_level": c.consistency_level,
        "num_shards": c.num_shards,
        "num_partitions": c.num_partitions,
        "created_timestamp": c.created_timestamp,
        "update_timestamp": c.update_timestamp,
        "extra": dict(c.extra),
    }


def _collection_from(raw: Mapping[str, Any]) -> CollectionRecord:
    return CollectionRecord(
        collection_id=int(raw["collection_id"]),
        name=raw["name"],
        database=raw["database"],
        schema=CollectionSchema.from_dict(raw["schema"]),
        properties=dict(raw.get("properties") or {}),
        partitions=tuple(PartitionRecord(**p) for p in raw.get("partitions", ())),
        aliases=tuple(raw.get("aliases", ())),
        indexes=tuple(IndexRecord(**i) for i in raw.get("indexes", ())),
        consistency_level=raw.get("consistency_level", "Bounded"),
        num_shards=int(raw.get("num_shards", 1)),
        num_partitions=int(raw.get("num_partitions", 0)),
        created_timestamp=int(raw.get("created_timestamp", 0)),
        update_timestamp=int(raw.get("update_timestamp", 0)),
        extra=dict(raw.get("extra") or {}),
    )
