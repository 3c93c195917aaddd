"""The engine's surface: what every front door (embedded client, gRPC, REST) calls.

Front doors translate their input into these calls and the results back; they hold
no database logic. Every method takes the database name first ("default" when the
caller has none) and raises ``elanus.errors`` exceptions with Milvus's codes.
Collection names may be aliases wherever a collection is read or written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from elanus.engine.requests import (
    Column,
    HybridSearchRequest,
    IndexSpec,
    QueryRequest,
    QueryResult,
    SearchRequest,
    SearchResults,
    WriteResult,
)
from elanus.schema import CollectionSchema, FieldSchema
from elanus.security.model import RbacState

if TYPE_CHECKING:
    from elanus.engine.search_iterator import SearchIteratorPage
    from elanus.engine.snapshot import Snapshot

__all__ = [
    "CollectionInfo",
    "DatabaseInfo",
    "EngineAPI",
    "IndexInfo",
    "LoadState",
    "PartitionInfo",
    "SegmentInfo",
]

DEFAULT_DATABASE = "default"
DEFAULT_PARTITION = "_default"


class LoadState:
    NOT_EXIST = "NotExist"
    NOT_LOAD = "NotLoad"
    LOADING = "Loading"
    LOADED = "Loaded"
    WIRE = {NOT_EXIST: 0, NOT_LOAD: 1, LOADING: 2, LOADED: 3}


@dataclass(frozen=True)
class DatabaseInfo:
    name: str
    database_id: int
    properties: dict[str, str]
    created_timestamp: int


@dataclass(frozen=True)
class PartitionInfo:
    name: str
    partition_id: int
    created_timestamp: int


@dataclass(frozen=True)
class CollectionInfo:
    """What ``describe_collection`` reports. ``schema`` has field ids from 100."""

    name: str
    collection_id: int
    database: str
    schema: CollectionSchema
    num_shards: int
    num_partitions: int
    consistency_level: str
    properties: dict[str, str]
    aliases: list[str]
    created_timestamp: int
    update_timestamp: int
    partitions: list[PartitionInfo] = field(default_factory=list)


@dataclass(frozen=True)
class IndexInfo:
    """What ``describe_index`` reports for one index."""

    index_name: str
    field_name: str
    index_type: str
    metric_type: str | None
    params: dict[str, Any]
    total_rows: int
    indexed_rows: int
    pending_index_rows: int
    state: str  # "Finished", "InProgress", "Failed", "None"
    index_id: int = 0
    properties: dict[str, str] = field(default_factory=dict)
    fail_reason: str = ""


@dataclass(frozen=True)
class SegmentInfo:
    segment_id: int
    collection_id: int
    partition_id: int
    num_rows: int
    state: str  # "Growing", "Sealed", "Flushed"
    index_name: str = ""
    level: str = "L1"


class EngineAPI(Protocol):
    # The directory the database lives in (system metrics report its disk).
    data_dir: str

    # --- lifecycle ---------------------------------------------------------------
    def close(self) -> None: ...

    # --- databases ---------------------------------------------------------------
    def create_database(self, name: str, properties: Mapping[str, str] | None = None) -> None: ...
    def drop_database(self, name: str) -> None: ...
    def list_databases(self) -> list[str]: ...
    def describe_database(self, name: str) -> DatabaseInfo: ...
    def alter_database_properties(self, name: str, properties: Mapping[str, str]) -> None: ...
    def drop_database_properties(self, name: str, keys: list[str]) -> None: ...

    # --- collections -------------------------------------------------------------
    def create_collection(
        self,
        db: str,
        name: str,
        schema: CollectionSchema,
        *,
        properties: Mapping[str, str] | None = None,
        num_shards: int = 1,
        num_partitions: int | None = None,
        consistency_level: str = "Bounded",
        indexes: list[IndexSpec] | None = None,
        load: bool = True,
    ) -> None:
        """Validate ``schema`` (Milvus's rules), assign field ids from 100, create.

        Creating a collection that exists with an identical schema is a no-op, as in
        Milvus; with a different one it is an error."""
        ...

    def drop_collection(self, db: str, name: str) -> None: ...
    def has_collection(self, db: str, name: str) -> bool: ...
    def list_collections(self, db: str) -> list[str]: ...
    def describe_collection(self, db: str, name: str) -> CollectionInfo: ...
    def collection_schema(self, db: str, name: str) -> CollectionSchema:
        """The collection's current schema (``describe_collection(...).schema``, cheaper)."""
        ...

    def rename_collection(
        self, db: str, old_name: str, new_name: str, new_db: str | None = None
    ) -> None: ...
    def alter_collection_properties(
        self, db: str, name: str, properties: Mapping[str, str]
    ) -> None: ...
    def drop_collection_properties(self, db: str, name: str, keys: list[str]) -> None: ...
    def alter_collection_field(
        self, db: str, name: str, field_name: str, params: Mapping[str, Any]
    ) -> None: ...
    def add_collection_field(self, db: str, name: str, field: FieldSchema) -> None: ...
    def truncate_collection(self, db: str, name: str) -> None: ...
    def get_collection_stats(self, db: str, name: str) -> dict[str, int]: ...
    def load_collection(
        self,
        db: str,
        name: str,
        *,
        load_fields: list[str] | None = None,
        skip_load_dynamic_field: bool = False,
        replica_number: int | None = None,
    ) -> None: ...
    def release_collection(self, db: str, name: str) -> None: ...
    def get_load_state(self, db: str, name: str, partition: str | None = None) -> str: ...

    # --- partitions --------------------------------------------------------------
    def create_partition(self, db: str, collection: str, partition: str) -> None: ...
    def drop_partition(self, db: str, collection: str, partition: str) -> None: ...
    def has_partition(self, db: str, collection: str, partition: str) -> bool: ...
    def list_partitions(self, db: str, collection: str) -> list[PartitionInfo]: ...
    def load_partitions(
        self,
        db: str,
        collection: str,
        partitions: list[str],
        *,
        load_fields: list[str] | None = None,
        skip_load_dynamic_field: bool = False,
        replica_number: int | None = None,
    ) -> None: ...
    def release_partitions(self, db: str, collection: str, partitions: list[str]) -> None: ...
    def get_partition_stats(self, db: str, collection: str, partition: str) -> dict[str, int]: ...

    # --- aliases -----------------------------------------------------------------
    def create_alias(self, db: str, alias: str, collection: str) -> None: ...
    def drop_alias(self, db: str, alias: str) -> None: ...
    def alter_alias(self, db: str, alias: str, collection: str) -> None: ...
    def describe_alias(self, db: str, alias: str) -> str:
        """The collection the alias points at."""
        ...

    def list_aliases(self, db: str, collection: str | None = None) -> list[str]: ...

    # --- data --------------------------------------------------------------------
    def insert(
        self,
        db: str,
        collection: str,
        columns: Mapping[str, Column],
        num_rows: int,
        partition: str | None = None,
    ) -> WriteResult:
        """Validate in bulk, stamp, make durable in the WAL, then apply. ``columns``
        holds schema fields by name and optionally ``$meta``; values loosely typed
        (any pyarrow-castable array, numpy arrays, lists) are cast and checked here.
        The whole batch is rejected on any error; nothing of it becomes visible."""
        ...

    def upsert(
        self,
        db: str,
        collection: str,
        columns: Mapping[str, Column],
        num_rows: int,
        partition: str | None = None,
        partial_update: bool = False,
    ) -> WriteResult: ...

    def delete(
        self,
        db: str,
        collection: str,
        *,
        ids: list[Any] | None = None,
        filter: str = "",
        filter_params: Mapping[str, Any] | None = None,
        partition: str | None = None,
    ) -> WriteResult: ...

    def query(self, db: str, collection: str, request: QueryRequest) -> QueryResult: ...
    def search(self, db: str, collection: str, request: SearchRequest) -> SearchResults: ...
    def hybrid_search(
        self, db: str, collection: str, request: HybridSearchRequest
    ) -> SearchResults: ...

    def read_snapshot(
        self,
        db: str,
        collection: str,
        *,
        consistency_level: str | None = None,
        guarantee_timestamp: int = 0,
        partition_names: list[str] | None = None,
    ) -> Snapshot:
        """The immutable snapshot a read sees (for reads spanning several calls)."""
        ...

    def search_iterator_page(
        self,
        db: str,
        collection: str,
        request: SearchRequest,
        *,
        batch_size: int,
        token: str | None = None,
    ) -> tuple[str, SearchIteratorPage]:
        """The next page of the search iterator ``token`` names (a new iterator over a
        snapshot taken now when it names none); returns the token with the page."""
        ...

    def query_iterator_page(
        self, db: str, collection: str, request: QueryRequest
    ) -> tuple[QueryResult, int]:
        """One query-iterator page in primary-key order from the snapshot kept under
        ``request.guarantee_timestamp`` (else a new one); returns the page and the
        snapshot's timestamp, which names it for the next page."""
        ...

    def flush(self, db: str, collection: str) -> int:
        """Seal growing segments and make them durable; returns the flush timestamp."""
        ...

    def compact(self, db: str, collection: str) -> int:
        """Start a compaction; returns its id (``get_compaction_state`` follows it)."""
        ...

    def get_compaction_state(self, compaction_id: int) -> str:
        """ "Executing" or "Completed"."""
        ...

    def list_segments(self, db: str, collection: str) -> list[SegmentInfo]: ...

    # --- indexes -----------------------------------------------------------------
    def create_index(self, db: str, collection: str, spec: IndexSpec) -> None:
        """Validate with Milvus's rules; an identical repeat succeeds. Sealed segments
        get the index built in the background; search never waits for a build."""
        ...

    def drop_index(self, db: str, collection: str, index_name: str) -> None: ...
    def list_indexes(
        self, db: str, collection: str, field_name: str | None = None
    ) -> list[str]: ...
    def describe_index(self, db: str, collection: str, index_name: str) -> IndexInfo: ...
    def alter_index_properties(
        self, db: str, collection: str, index_name: str, properties: Mapping[str, str]
    ) -> None: ...
    def drop_index_properties(
        self, db: str, collection: str, index_name: str, keys: list[str]
    ) -> None: ...
    def wait_for_index(self, db: str, collection: str, timeout: float | None = None) -> None: ...

    # --- timestamps --------------------------------------------------------------
    def current_timestamp(self) -> int: ...

    # --- text ----------------------------------------------------------------------
    # --- security ------------------------------------------------------------------
    def security_state(self) -> RbacState:
        """The current users, roles, grants and groups (immutable; front doors
        authenticate and authorise against it before calling anything else)."""
        ...

    def enable_authorization(self, root_password: str) -> None:
        """Mark the data directory as protected and create ``root`` if missing."""
        ...

    def update_security(
        self,
        change: Callable[[RbacState], RbacState],
        *,
        event: str,
        user: str,
        **details: Any,
    ) -> RbacState:
        """Apply one ``elanus.security.rbac`` change durably, recorded in the audit log."""
        ...

    def audit(self, event: str, user: str, **details: Any) -> None:
        """Append one security event to the data directory's audit log."""
        ...

    def run_analyzer(
        self,
        texts: str | list[str],
        analyzer_params: Mapping[str, Any] | str | None = None,
        *,
        with_detail: bool = False,
        with_hash: bool = False,
        db: str = DEFAULT_DATABASE,
        collection: str | None = None,
        field: str | None = None,
        analyzer_names: str | list[str] | None = None,
    ) -> Any:
        """Tokens of each text (``elanus.text.AnalyzeResult``; a list for a list of texts)."""
        ...
