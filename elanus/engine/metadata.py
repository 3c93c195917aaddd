"""The catalogue: databases, collections, partitions, aliases and index definitions.

An in-memory model saved as one JSON document with an atomic replace after every
change (catalogue changes are rare; the data path never touches it).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from elanus.schema import CollectionSchema
from elanus.storage.fs import LocalFileSystem

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

    def collection_schema(self) -> CollectionSchema:
        return CollectionSchema.from_dict(self.schema)

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


def _collection_from(raw: dict[str, Any]) -> CollectionMeta:
    raw = dict(raw)
    raw["partitions"] = [PartitionMeta(**p) for p in raw.get("partitions", [])]
    raw["indexes"] = [IndexMeta(**i) for i in raw.get("indexes", [])]
    return CollectionMeta(**raw)


class Catalog:
    """Every database of a data directory; ``save()`` after each change."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.databases: dict[str, DatabaseMeta] = {}
        self._fs = LocalFileSystem()
        if os.path.exists(path):
            raw = json.loads(self._fs.read_bytes(path))
            for db in raw["databases"]:
                cols = {c["name"]: _collection_from(c) for c in db.pop("collections")}
                self.databases[db["name"]] = DatabaseMeta(**db, collections=cols)

    def save(self) -> None:
        with self.lock:
            doc = {
                "databases": [
                    {
                        **{k: v for k, v in asdict(db).items() if k != "collections"},
                        "collections": [asdict(c) for c in db.collections.values()],
                    }
                    for db in self.databases.values()
                ]
            }
            self._fs.write_atomic(self.path, json.dumps(doc).encode())
