"""Where things live in a data directory (see docs/storage.md, "Layout")::

    <root>/
      LOCK, LOCK.info                 data-directory lock and its holder
      catalog.json                    databases, collections, partitions, aliases, indexes
      catalog.json.bak                a copy of it, written after each save
      lost+found/                     files nothing referenced, moved aside, never deleted
      wal/<first seq>.wal             a write-ahead log shared by all collections, or
      collections/<collection id>/
        wal/<first seq>.wal           one log per collection (the engine picks one scheme)
        manifest/<version>.json       live segments of the collection
        segments/<segment id>/        one sealed segment (segment_files)
          indexes/<index name>/       index files of that segment

Paths are strings for ``storage.fs``; segment paths in a manifest are relative
to the collection directory (``segments/<id>``) so a data directory can move.
"""

from __future__ import annotations

from dataclasses import dataclass

from elanus.storage.fs import join
from elanus.storage.segment_files import segment_index_dir

__all__ = ["DataLayout"]


@dataclass(frozen=True)
class DataLayout:
    root: str

    @property
    def lock_dir(self) -> str:
        return self.root

    @property
    def catalog_path(self) -> str:
        return join(self.root, "catalog.json")

    @property
    def lost_found_dir(self) -> str:
        return join(self.root, "lost+found")

    @property
    def wal_dir(self) -> str:
        return join(self.root, "wal")

    @property
    def collections_dir(self) -> str:
        return join(self.root, "collections")

    def collection_dir(self, collection_id: int) -> str:
        return join(self.collections_dir, str(collection_id))

    def collection_wal_dir(self, collection_id: int) -> str:
        return join(self.collection_dir(collection_id), "wal")

    def manifest_dir(self, collection_id: int) -> str:
        return join(self.collection_dir(collection_id), "manifest")

    def segments_dir(self, collection_id: int) -> str:
        return join(self.collection_dir(collection_id), "segments")

    @staticmethod
    def segment_rel_path(segment_id: int) -> str:
        """A segment's path relative to its collection directory (as manifests keep it)."""
        return f"segments/{segment_id}"

    def segment_dir(self, collection_id: int, segment_id: int) -> str:
        return join(self.collection_dir(collection_id), self.segment_rel_path(segment_id))

    def resolve(self, collection_id: int, rel_path: str) -> str:
        """The full path of a manifest entry's relative ``path``."""
        return join(self.collection_dir(collection_id), rel_path)

    def index_dir(self, collection_id: int, segment_id: int, index_name: str) -> str:
        return segment_index_dir(self.segment_dir(collection_id, segment_id), index_name)
