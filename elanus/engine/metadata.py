"""The catalogue: databases, collections, partitions, aliases and index definitions.

The engine's working model (mutable, changed under ``Catalog.lock``), saved after
every change through ``storage.catalog.CatalogStore`` (one document replaced
atomically; catalogue changes are rare and the data path never touches it).
Load states and index properties, which storage's records do not name, travel
in ``CollectionRecord.extra``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from elanus.errors import ElanusError
from elanus.schema import CollectionSchema
from elanus.storage import Catalog as StoredCatalog
from elanus.storage import (
    CatalogStore,
    CollectionRecord,
    DatabaseRecord,
    FileSystem,
    IndexRecord,
    PartitionRecord,
)

__all__ = ["Catalog", "CollectionMeta", "DatabaseMeta", "IndexMeta", "PartitionMeta"]


@dataclass
class PartitionMeta:
    name: str
    partition_id: int
    created_timestamp: int
    loaded: bool = True


@dataclass
class IndexMeta:
    index_name: str
    field_name: str
    index_type: str
    metric_type: str | None
    params: dict[str, Any]
    index_id: int
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class CollectionMeta:
    collection_id: int
    name: str
    schema: dict[str, Any]
    num_shards: int
    num_partitions: int
    consistency_level: str
    properties: dict[str, str]
    created_timestamp: int
    update_timestamp: int
    partitions: list[PartitionMeta] = field(default_factory=list)
    indexes: list[IndexMeta] = field(default_factory=list)
    loaded: bool = True
    # The field list of the last load (empty: every field) and whether it skipped
    # the dynamic field: what is held in memory (engine/load_settings.py).
    load_fields: list[str] = field(default_factory=list)
    skip_load_dynamic: bool = False
    # The parsed schema and the dict it came from: ``schema`` is only ever replaced,
    # so an identity check keeps every request from parsing it again.
    _parsed: tuple[dict[str, Any], CollectionSchema] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def collection_schema(self) -> CollectionSchema:
        parsed = self._parsed
        if parsed is not None and parsed[0] is self.schema:
            return parsed[1]
        schema = CollectionSchema.from_dict(self.schema)
        self._parsed = (self.schema, schema)
        return schema

    def partition(self, name: str) -> PartitionMeta | None:
        return next((p for p in self.partitions if p.name == name), None)


@dataclass
class DatabaseMeta:
    name: str
    database_id: int
    properties: dict[str, str]
    created_timestamp: int
    collections: dict[str, CollectionMeta] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)


def _collection_record(db: DatabaseMeta, c: CollectionMeta) -> CollectionRecord:
    return CollectionRecord(
        collection_id=c.collection_id,
        name=c.name,
        database=db.name,
        schema=c.collection_schema(),
        properties=dict(c.properties),
        partitions=tuple(
            PartitionRecord(p.name, p.partition_id, p.created_timestamp) for p in c.partitions
        ),
        aliases=tuple(sorted(a for a, target in db.aliases.items() if target == c.name)),
        indexes=tuple(
            IndexRecord(
                i.index_name,
                i.field_name,
                i.index_type,
                i.metric_type,
                dict(i.params),
                i.index_id,
                i.index_id,
            )
            for i in c.indexes
        ),
        consistency_level=c.consistency_level,
        num_shards=c.num_shards,
        num_partitions=c.num_partitions,
        created_timestamp=c.created_timestamp,
        update_timestamp=c.update_timestamp,
        extra={
            "loaded": c.loaded,
            "released_partitions": [p.name for p in c.partitions if not p.loaded],
            "index_properties": {i.index_name: dict(i.properties) for i in c.indexes},
            "load_fields": list(c.load_fields),
            "skip_load_dynamic": c.skip_load_dynamic,
        },
    )


def _collection_meta(r: CollectionRecord) -> CollectionMeta:
    released = set(r.extra.get("released_partitions", ()))
    index_props = r.extra.get("index_properties", {})
    return CollectionMeta(
        collection_id=r.collection_id,
        name=r.name,
        schema=r.schema.to_json_dict(),
        num_shards=r.num_shards,
        num_partitions=r.num_partitions,
        consistency_level=r.consistency_level,
        properties=dict(r.properties),
        created_timestamp=r.created_timestamp,
        update_timestamp=r.update_timestamp,
        partitions=[
            PartitionMeta(p.name, p.partition_id, p.created_timestamp, p.name not in released)
            for p in r.partitions
        ],
        indexes=[
            IndexMeta(
                i.index_name,
                i.field_name,
                i.index_type,
                i.metric_type,
                dict(i.params),
                i.index_id,
                dict(index_props.get(i.index_name, {})),
            )
            for i in r.indexes
        ],
        loaded=bool(r.extra.get("loaded", True)),
        load_fields=[str(n) for n in r.extra.get("load_fields", ())],
        skip_load_dynamic=bool(r.extra.get("skip_load_dynamic", False)),
    )


class Catalog:
    """Every database of a data directory; ``save()`` after each change."""

    def __init__(self, fs: FileSystem, path: str) -> None:
        self.lock = threading.RLock()
        self.databases: dict[str, DatabaseMeta] = {}
        self._store = CatalogStore(fs, path)
        stored = self._store.load()
        self._version = stored.version
        self._saved = stored
        for d in stored.databases.values():
            self.databases[d.name] = DatabaseMeta(
                d.name, d.database_id, dict(d.properties), d.created_timestamp
            )
        for r in stored.collections.values():
            db = self.databases[r.database]
            db.collections[r.name] = _collection_meta(r)
            for alias in r.aliases:
                db.aliases[alias] = r.name

    def save(self) -> None:
        with self.lock:
            stored = StoredCatalog(version=self._version)
            for db in self.databases.values():
                stored.databases[db.name] = DatabaseRecord(
                    db.name, db.database_id, dict(db.properties), db.created_timestamp
                )
                for c in db.collections.values():
                    stored.collections[c.collection_id] = _collection_record(db, c)
            try:
                self._store.save(stored)
            except ElanusError:
                self._roll_back()
                raise
            self._version = stored.version
            self._saved = stored

    def _roll_back(self) -> None:
        """Put the model back as last saved, after a save failed (a full disk): the
        change that failed is undone whole. Objects stay the same objects, since the
        engine holds them; databases and collections made since are dropped."""
        stored = self._saved
        current = {
            c.collection_id: c for db in self.databases.values() for c in db.collections.values()
        }
        databases: dict[str, DatabaseMeta] = {}
        for d in stored.databases.values():
            db = self.databases.get(d.name)
            if db is None or db.database_id != d.database_id:
                db = DatabaseMeta(d.name, d.database_id, {}, d.created_timestamp)
            db.properties = dict(d.properties)
            db.created_timestamp = d.created_timestamp
            db.collections.clear()
            db.aliases.clear()
            databases[d.name] = db
        for r in stored.collections.values():
            fresh = _collection_meta(r)
            meta = current.get(r.collection_id)
            if meta is None:
                meta = fresh
            else:
                meta.__dict__.update(fresh.__dict__)
            databases[r.database].collections[r.name] = meta
            for alias in r.aliases:
                databases[r.database].aliases[alias] = r.name
        self.databases.clear()
        self.databases.update(databases)
