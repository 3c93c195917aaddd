"""Writes and reads: insert, upsert, delete, query, search, flush, compaction."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from elanus.engine.api import DEFAULT_PARTITION, SegmentInfo
from elanus.engine.collection import CollectionData, DeleteBatch, InsertBatch
from elanus.engine.column_rows import concat_columns, take_rows
from elanus.engine.compaction import run_compaction
from elanus.engine.database_settings import check_reading_allowed, check_writing_allowed
from elanus.engine.functions import apply_functions
from elanus.engine.integrity import check_segments_available
from elanus.engine.keys import as_key_array
from elanus.engine.metadata import CollectionMeta
from elanus.engine.partition_isolation import check_isolated_search, isolation_enabled
from elanus.engine.query_mode import result_window
from elanus.engine.requests import (
    ConsistencyLevel,
    HybridSearchRequest,
    QueryRequest,
    QueryResult,
    SearchRequest,
    SearchResults,
    WriteResult,
)
from elanus.engine.segment import column_of_nulls
from elanus.engine.snapshot import Snapshot
from elanus.engine.state import EngineState
from elanus.engine.timestamps import read_timestamp
from elanus.engine.timezones import in_zone, resolve_timezone
from elanus.errors import (
    CollectionNotLoaded,
    DataError,
    ParameterError,
    PartitionNotFound,
    PartitionNotLoaded,
)
from elanus.expr import compile_filter
from elanus.schema import CollectionSchema, DataType
from elanus.schema.arrow import arrow_type
from elanus.schema.columns import normalize_columns
from elanus.schema.vector_validity import validity_column_name

__all__ = ["DataOperations"]

log = logging.getLogger(__name__)

_compaction_ids = itertools.count(1)


# Reads and writes of a partition-key collection name no partitions: the key routes.
_PARTITION_KEY_NAMES = (
    "not support manually specifying the partition names if partition key mode is used"
)


def _has_duplicates(keys: Any) -> bool:
    if isinstance(keys, np.ndarray):
        return len(np.unique(keys)) != len(keys)
    return int(pa.compute.count_distinct(keys).as_py()) != len(keys)


def _delete_keys(schema: CollectionSchema, ids: list[Any]) -> np.ndarray:
    """Ids to delete as a key array of the primary key's kind, or a ``DataError``."""
    pk = schema.primary_field
    expected = "int64" if pk.dtype == DataType.INT64 else "string"
    try:
        keys = as_key_array(list(ids))
    except (OverflowError, TypeError, ValueError):
        keys = None
    if keys is None or (len(keys) and keys.dtype.kind != ("i" if expected == "int64" else "U")):
        raise DataError(f"primary key field {pk.name} expects {expected} ids")
    return keys


class DataOperations(EngineState):
    compactions: dict[int, str]

    # --- helpers ----------------------------------------------------------------------
    def _target_partition(
        self, meta: CollectionMeta, schema: CollectionSchema, partition: str | None
    ) -> str | None:
        if partition:
            if schema.partition_key_field is not None:
                raise ParameterError(_PARTITION_KEY_NAMES)
            if meta.partition(partition) is None:
                raise PartitionNotFound(f"partition not found[partition={partition}]")
            return partition
        return None if schema.partition_key_field is not None else DEFAULT_PARTITION

    def _route(
        self,
        meta: CollectionMeta,
        schema: CollectionSchema,
        columns: dict[str, Any],
        n: int,
        partition: str | None,
    ) -> list[tuple[str, np.ndarray | None]]:
        if partition is not None:
            return [(partition, None)]
        key_field = schema.partition_key_field
        assert key_field is not None
        values = columns[key_field.name]
        raw = (
            values.to_numpy(zero_copy_only=False)
            if isinstance(values, pa.Array)
            else np.asarray(values)
        )
        hashed = pd.util.hash_array(
            np.asarray(raw, dtype=object) if raw.dtype.kind not in "iu" else raw
        )
        bucket = (hashed % np.uint64(meta.num_partitions)).astype(np.int64)
        out: list[tuple[str, np.ndarray | None]] = []
        for b in np.unique(bucket):
            out.append((meta.partitions[int(b)].name, np.flatnonzero(bucket == b)))
        return out

    def _batches(
        self,
        ts: int,
        groups: list[tuple[str, np.ndarray | None]],
        columns: dict[str, Any],
        pks: Any,
        n: int,
    ) -> list[InsertBatch | DeleteBatch]:
        out: list[InsertBatch | DeleteBatch] = []
        for partition, rows in groups:
            if rows is None:
                out.append(InsertBatch(ts, partition, columns, pks, n))
            else:
                sub = {k: take_rows(v, rows) for k, v in columns.items()}
                out.append(InsertBatch(ts, partition, sub, take_rows(pks, rows), len(rows)))
        return out

    def _auto_ids(self, schema: CollectionSchema, n: int) -> Any:
        first = self.oracle.allocate(max(n, 1))
        ids = np.arange(first, first + n, dtype=np.int64)
        if schema.primary_field.dtype == DataType.VARCHAR:
            return pa.array(ids.astype(str))
        # A scalar column, like every other: numpy arrays in a batch are vectors.
        return pa.array(ids)

    def _primary(self, schema: CollectionSchema, columns: dict[str, Any]) -> Any:
        col = columns[schema.primary_field.name]
        if schema.primary_field.dtype == DataType.INT64:
            return as_key_array(col)
        return col

    def _write(
        self,
        db: str,
        collection: str,
        columns: Mapping[str, Any],
        num_rows: int,
        partition: str | None,
        upsert: bool,
        partial: bool,
    ) -> WriteResult:
        meta, data = self._data(db, collection)
        check_writing_allowed(self._db(db).properties)
        schema = data.schema
        target = self._target_partition(meta, schema, partition)
        cols = normalize_columns(schema, columns, num_rows, for_upsert=upsert, partial=partial)
        cols = apply_functions(schema, cols, num_rows)
        pk = schema.primary_field
        if pk.name not in cols:
            cols[pk.name] = self._auto_ids(schema, num_rows)
        if (
            schema.primary_field.dtype == DataType.VARCHAR
            and pa.compute.any(pa.compute.is_null(cols[pk.name])).as_py()
        ):
            raise DataError(f"primary key field {pk.name} does not accept null values")
        pks = self._primary(schema, cols)
        if upsert and _has_duplicates(pks):
            # One batch cannot say which of two rows with the same key wins.
            raise DataError("duplicate primary keys are not allowed in the same batch")
        replaced: np.ndarray | None = None
        given = pks
        new_ids: Any = None
        if upsert and pk.auto_id:
            # As in Milvus, an upsert into an auto_id collection deletes the rows
            # with the given keys and writes the new rows under newly generated keys;
            # a partial one first takes the stored values of the fields it leaves out.
            replaced = as_key_array(pks)
            new_ids = self._auto_ids(schema, num_rows)
            pks = self._primary(schema, {pk.name: new_ids})
            if not partial:
                cols[pk.name] = new_ids

        def make(ts: int) -> list[InsertBatch | DeleteBatch]:
            full = self._fill_partial(data, schema, cols, given, num_rows) if partial else cols
            if partial and full is not cols:
                full = apply_functions(schema, full, num_rows)
            if partial and new_ids is not None:
                full = {**full, pk.name: new_ids}
            routing = target
            if (
                routing is None
                and schema.partition_key_field is not None
                and schema.partition_key_field.name not in full
            ):
                raise DataError(f"partition key field {schema.partition_key_field.name} is missing")
            groups = self._route(meta, schema, full, num_rows, routing)
            batches = self._batches(ts, groups, full, pks, num_rows)
            if replaced is not None and len(replaced):
                return [DeleteBatch(ts, None, replaced), *batches]
            return batches

        ts = data.write(make, reads_rows=partial)
        ids = pks.tolist() if isinstance(pks, np.ndarray) else pks.to_pylist()
        return WriteResult(ids, num_rows, ts)

    def _fill_partial(
        self, data: CollectionData, schema: CollectionSchema, cols: dict[str, Any], pks: Any, n: int
    ) -> dict[str, Any]:
        """Missing fields of a partial upsert take the stored row's values."""
        missing = [
            f
            for f in schema.fields
            if f.name not in cols and f.name not in schema.function_output_names
        ]
        if schema.enable_dynamic_field and "$meta" not in cols:
            missing_meta = True
        else:
            missing_meta = False
        if not missing and not missing_meta:
            return cols
        keys = as_key_array(pks)
        found_q: list[np.ndarray] = []
        found: list[tuple[Any, np.ndarray]] = []
        for view in data.snapshot.segments:
            q, rows = view.data.sorted_keys().match(keys)  # type: ignore[attr-defined]
            keep = rows < view.num_rows
            keep[keep] &= ~view.deleted[rows[keep]]
            if keep.any():
                found_q.append(q[keep])
                found.append((view.data, rows[keep]))
        q_all = np.concatenate(found_q) if found_q else np.zeros(0, np.int64)
        have = np.zeros(n, dtype=bool)
        have[q_all] = True
        out = dict(cols)
        names = [f.name for f in missing] + (["$meta"] if missing_meta else [])
        names.extend(
            validity_column_name(f.name) for f in missing if f.dtype.is_vector and f.nullable
        )
        for name in names:
            f = schema.get(name)
            absent = np.flatnonzero(~have)
            if len(absent) and f is not None and not (f.nullable or f.has_default):
                raise DataError(
                    f"Insert missed an field `{name}` to collection without set nullable==true or set default_value"
                )
            parts = [take_rows(seg.column(name), rows) for seg, rows in found]
            if len(absent):
                parts.append(column_of_nulls(schema, name, len(absent)))
            if not parts:
                out[name] = column_of_nulls(schema, name, n)
                continue
            values = concat_columns(parts)
            if isinstance(values, pa.Array) and f is not None and not f.dtype.is_vector:
                values = values.cast(arrow_type(f))
            order = np.argsort(np.concatenate([q_all, absent]), kind="stable")
            out[name] = take_rows(values, order)
        return out

    # --- writes -----------------------------------------------------------------------
    def insert(
        self,
        db: str,
        collection: str,
        columns: Mapping[str, Any],
        num_rows: int,
        partition: str | None = None,
    ) -> WriteResult:
        return self._write(
            db, collection, columns, num_rows, partition, upsert=False, partial=False
        )

    def upsert(
        self,
        db: str,
        collection: str,
        columns: Mapping[str, Any],
        num_rows: int,
        partition: str | None = None,
        partial_update: bool = False,
    ) -> WriteResult:
        return self._write(
            db, collection, columns, num_rows, partition, upsert=True, partial=partial_update
        )

    def delete(
        self,
        db: str,
        collection: str,
        *,
        ids: list[Any] | None = None,
        filter: str = "",
        filter_params: Mapping[str, Any] | None = None,
        partition: str | None = None,
    ) -> WriteResult:
        meta, data = self._data(db, collection)
        check_writing_allowed(self._db(db).properties)
        if partition and data.schema.partition_key_field is not None:
            raise ParameterError(_PARTITION_KEY_NAMES)
        if partition and meta.partition(partition) is None:
            raise PartitionNotFound(f"partition not found[partition={partition}]")
        if ids is None and not filter:
            raise ParameterError("either ids or filter must be given to delete")
        if ids is None:
            # A filter naming only primary keys (pk in [..], pk == v; how pymilvus sends
            # delete by ids) deletes those keys unlooked-up and counts each, as Milvus does.
            named = compile_filter(filter, data.schema, dict(filter_params or {})).primary_keys
            ids = list(named) if named is not None else None
        if ids is not None:
            keys = _delete_keys(data.schema, ids)
        else:
            from elanus.engine.query import matching_primary_keys

            # a filter must see every row it could match: refused like a Strong read
            check_segments_available(
                self.stores.get(meta.collection_id), meta.name, ConsistencyLevel.STRONG
            )
            snap = data.read(self.oracle.now()).in_partitions([partition] if partition else None)
            keys = as_key_array(matching_primary_keys(snap, filter, dict(filter_params or {})))
        ts = data.write(lambda t: [DeleteBatch(t, partition or None, keys)] if len(keys) else [])
        return WriteResult(keys.tolist(), len(keys), ts)

    def flush(self, db: str, collection: str) -> int:
        _, data = self._data(db, collection)
        ts = data.flush()
        self._after_seal(data)
        return ts

    def _after_seal(self, data: CollectionData) -> None:
        hook = getattr(self, "_schedule_index_builds", None)
        if hook is not None:
            hook(data)

    def compact(self, db: str, collection: str) -> int:
        _, data = self._data(db, collection)
        cid = next(_compaction_ids)
        self.compactions[cid] = "Executing"

        def job() -> None:
            try:
                if data.store.destroyed:
                    log.debug("compaction %d abandoned: collection %s was dropped", cid, collection)
                    return
                run_compaction(data, self.options.compact_min_rows)
                if data.store.destroyed:
                    log.debug("compaction %d abandoned: collection %s was dropped", cid, collection)
                    return
                self._after_seal(data)
            except Exception as exc:
                if data.store.destroyed:
                    # the drop removed the files this job was reading or writing
                    data.store.remove_leftovers()
                    log.debug(
                        "compaction %d abandoned: collection %s was dropped (%s)",
                        cid,
                        collection,
                        exc,
                    )
                    return
                if not self.options.background:
                    raise
                # nobody waits on a background job: say it here; the segments stay as they were
                log.error("compaction %d of collection %s failed: %s", cid, collection, exc)
            finally:
                self.compactions[cid] = "Completed"

        if self.options.background:
            self.worker.submit(job)
        else:
            job()
        return cid

    def get_compaction_state(self, compaction_id: int) -> str:
        return self.compactions.get(compaction_id, "Completed")

    def list_segments(self, db: str, collection: str) -> list[SegmentInfo]:
        meta, data = self._data(db, collection)
        ids = {p.name: p.partition_id for p in meta.partitions}
        # GetQuerySegmentInfo names the vector index a sealed segment is searched with.
        vector_indexes = [
            (i.index_name, i.field_name)
            for i in meta.indexes
            if (f := data.schema.get(i.field_name)) is not None and f.dtype.is_vector
        ]
        return [
            SegmentInfo(
                v.segment_id,
                meta.collection_id,
                ids.get(v.partition_name, 0),
                v.live_count,
                "Flushed" if v.sealed else "Growing",
                index_name=next(
                    (n for n, f in vector_indexes if v.data.vector_index(f) is not None), ""
                ),
            )
            for v in data.snapshot.segments
        ]

    def current_timestamp(self) -> int:
        return self.oracle.now()

    # --- reads ------------------------------------------------------------------------
    def _snapshot_for(
        self,
        db: str,
        collection: str,
        level: str | None,
        guarantee: int,
        partitions: list[str] | None,
    ) -> Snapshot:
        meta, data = self._data(db, collection)
        check_reading_allowed(self._db(db).properties)
        if not meta.loaded:
            raise CollectionNotLoaded(f"collection not loaded[collection={meta.collection_id}]")
        if partitions and data.schema.partition_key_field is not None:
            raise ParameterError(_PARTITION_KEY_NAMES)
        for name in partitions or []:
            p = meta.partition(name)
            if p is None:
                raise PartitionNotFound(f"partition not found[partition={name}]")
            if not p.loaded:
                raise PartitionNotLoaded(f"partition not loaded[partition={name}]")
        check_segments_available(
            self.stores.get(meta.collection_id), meta.name, level or meta.consistency_level
        )
        ts = read_timestamp(
            level or meta.consistency_level,
            oracle=self.oracle,
            guarantee_timestamp=guarantee,
            session_timestamp=data.last_write_ts,
        )
        snap = data.read(ts)
        window = result_window(meta.properties)
        return snap if window == snap.result_window else replace(snap, result_window=window)

    def read_snapshot(
        self,
        db: str,
        collection: str,
        *,
        consistency_level: str | None = None,
        guarantee_timestamp: int = 0,
        partition_names: list[str] | None = None,
    ) -> Snapshot:
        """The snapshot a read with these settings sees. Snapshots are immutable, so a
        read spanning several calls (search iterator pages) keeps one and stays
        consistent while the collection changes."""
        return self._snapshot_for(
            db, collection, consistency_level, guarantee_timestamp, partition_names
        )

    def query(self, db: str, collection: str, request: QueryRequest) -> QueryResult:
        from elanus.engine.query import execute_query

        zone = self._zone(db, collection, request.timezone)
        snap = self._snapshot_for(
            db,
            collection,
            request.consistency_level,
            request.guarantee_timestamp,
            request.partition_names,
        )
        return self.query_in_zone(snap, execute_query(snap, request), zone)

    def _zone(self, db: str, collection: str, requested: str) -> str:
        return resolve_timezone(requested, self._meta(db, collection).properties)

    @staticmethod
    def query_in_zone(snap: Snapshot, result: QueryResult, zone: str) -> QueryResult:
        return replace(result, columns=in_zone(snap.schema, result.columns, zone))

    @staticmethod
    def search_in_zone(snap: Snapshot, result: SearchResults, zone: str) -> SearchResults:
        return replace(result, fields=in_zone(snap.schema, result.fields, zone))

    def check_search_filters(self, db: str, collection: str, requests: list[SearchRequest]) -> None:
        """What the collection's settings require of a search's filters (isolation)."""
        meta = self._meta(db, collection)
        if isolation_enabled(meta.properties):
            schema = meta.collection_schema()
            for leg in requests:
                check_isolated_search(schema, leg.filter, leg.filter_params)

    def search(self, db: str, collection: str, request: SearchRequest) -> SearchResults:
        from elanus.engine.search import execute_search

        self.check_search_filters(db, collection, [request])
        zone = self._zone(db, collection, request.timezone)
        snap = self._snapshot_for(
            db,
            collection,
            request.consistency_level,
            request.guarantee_timestamp,
            request.partition_names,
        )
        if request.order_by:
            from elanus.engine.search_order import ordered_search

            return self.search_in_zone(snap, ordered_search(snap, request, execute_search), zone)
        return self.search_in_zone(snap, execute_search(snap, request), zone)

    def hybrid_search(
        self, db: str, collection: str, request: HybridSearchRequest
    ) -> SearchResults:
        from elanus.engine.hybrid import execute_hybrid_search

        self.check_search_filters(db, collection, list(request.requests))
        zone = self._zone(db, collection, "")
        snap = self._snapshot_for(
            db,
            collection,
            request.consistency_level,
            request.guarantee_timestamp,
            request.partition_names,
        )
        return self.search_in_zone(snap, execute_hybrid_search(snap, request), zone)
