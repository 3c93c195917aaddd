"""Storage: filesystem interface, write-ahead log, segment files, manifest, catalog, lock.

Design note: docs/storage.md. This layer imports only ``elanus.errors``,
``elanus.schema`` and third-party libraries.
"""

from elanus.storage.batch_codec import BatchKind, WalBatch, decode_batch, encode_batch
from elanus.storage.catalog import (
    Catalog,
    CatalogStore,
    CollectionRecord,
    DatabaseRecord,
    IndexRecord,
    PartitionRecord,
)
from elanus.storage.fs import FileSystem, LocalFileSystem
from elanus.storage.layout import DataLayout
from elanus.storage.lock import DataDirLock
from elanus.storage.manifest import Manifest, ManifestStore, SegmentEntry
from elanus.storage.segment_files import (
    SegmentData,
    SegmentMeta,
    read_segment,
    read_segment_deletes,
    remove_temp_dirs,
    segment_index_dir,
    write_segment,
    write_segment_deletes,
)
from elanus.storage.wal import RecoveryReport, WriteAheadLog

__all__ = [
    "BatchKind",
    "Catalog",
    "CatalogStore",
    "CollectionRecord",
    "DataDirLock",
    "DataLayout",
    "DatabaseRecord",
    "FileSystem",
    "IndexRecord",
    "LocalFileSystem",
    "Manifest",
    "ManifestStore",
    "PartitionRecord",
    "RecoveryReport",
    "SegmentData",
    "SegmentEntry",
    "SegmentMeta",
    "WalBatch",
    "WriteAheadLog",
    "decode_batch",
    "encode_batch",
    "read_segment",
    "read_segment_deletes",
    "remove_temp_dirs",
    "segment_index_dir",
    "write_segment",
    "write_segment_deletes",
]
