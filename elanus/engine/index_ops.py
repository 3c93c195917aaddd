"""Index definitions and their background builds, one per sealed segment.

A search never waits: a segment without a built index is searched exactly.
Building is delegated to ``elanus.index`` (``build_vector_index``); the built
index is saved beside the segment (``segments/<id>/indexes/<index name>``) and
attached to it. A segment whose index was saved gets it back on open with
``load_vector_index`` (memory-mapped where FAISS allows), not rebuilt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import elanus.index as vector_indexes
from elanus.engine.api import IndexInfo
from elanus.engine.collection import CollectionData
from elanus.engine.metadata import IndexMeta
from elanus.engine.requests import IndexSpec
from elanus.engine.scalar_indexes import ScalarTarget, build_scalar_index, scalar_target
from elanus.engine.segment import SealedSegment
from elanus.engine.state import EngineState
from elanus.errors import AlreadyExistsError, IndexNotFound, ParameterError, StorageError
from elanus.index.scalar import is_scalar_index_dir, load_scalar_index
from elanus.schema import DataType, FieldSchema
from elanus.storage.fs import storage_errors

__all__ = ["IndexOperations"]

log = logging.getLogger(__name__)


def _attached(seg: Any, field: FieldSchema, key: str | None = None) -> Any | None:
    """The index a segment has for the field (vector or scalar, the latter under its
    key: the field's name or a JSON path), if built."""
    if field.dtype.is_vector:
        return seg.vector_index(field.name)
    return seg.scalar_index(key or field.name)


def _target(schema: Any, spec: Mapping[str, Any]) -> ScalarTarget:
    return scalar_target(schema, spec["field_name"], spec["index_type"], spec["params"])


def _spec_field(schema: Any, spec: Mapping[str, Any]) -> FieldSchema | None:
    """The field an index spec is on; a dynamic-field key reads as a JSON field."""
    field = schema.get(spec["field_name"])
    if field is None and schema.enable_dynamic_field:
        return FieldSchema(spec["field_name"], DataType.JSON, nullable=True)
    return field  # type: ignore[no-any-return]


class IndexOperations(EngineState):
    _building: set[tuple[int, str]]
    _build_failures: dict[tuple[int, str], str]  # (segment id, key) -> why its build failed
    _build_lock: threading.Lock

    def create_index(self, db: str, collection: str, spec: IndexSpec) -> None:
        with self.catalog.lock:
            meta, data = self._data(db, collection)
            index_type = (spec.index_type or "AUTOINDEX").upper()
            metric = (spec.metric_type or "").upper() or None
            params = dict(spec.params)
            field = data.schema.get(spec.field_name)
            if field is not None and field.dtype.is_vector:
                request = vector_indexes.validate_index_params(field, index_type, metric, params)
                metric = request["metric_type"]
                key = field.name
            else:
                # wrong type/field/params fail now, as in Milvus
                # given as typed, so a refusal names the type as the user wrote it
                raw_type = spec.index_type or "AUTOINDEX"
                key = scalar_target(data.schema, spec.field_name, raw_type, params).key
            field_name = spec.field_name
            name = spec.index_name or field_name
            specs = {self._key(data, i): i for i in meta.indexes}
            for existing in meta.indexes:
                if existing.index_name == name or specs.get(key) is existing:
                    same_target = specs.get(key) is existing
                    same_params = (
                        existing.index_type == index_type
                        and existing.metric_type == metric
                        and existing.params == params
                    )
                    if same_target and same_params and existing.index_name == name:
                        return
                    # Milvus's three refusals: another index on the same field (or
                    # path), a second name for the same index, a name taken elsewhere
                    if same_target and not same_params:
                        raise AlreadyExistsError("at most one distinct index is allowed per field")
                    if same_target:
                        raise AlreadyExistsError(
                            "CreateIndex failed: creating multiple indexes on same field "
                            "is not supported"
                        )
                    raise AlreadyExistsError(
                        f"index already exist, but parameters are inconsistent: {name}"
                    )
            meta.indexes.append(
                IndexMeta(name, field_name, index_type, metric, params, self.oracle.now())
            )
            self.catalog.save()
            self._publish_specs(meta.indexes, data)
        self._schedule_index_builds(data)

    @staticmethod
    def _key(data: CollectionData, index: IndexMeta) -> str:
        """What the index is published under: its field, or its JSON path."""
        field = data.schema.get(index.field_name)
        if field is not None and field.dtype.is_vector:
            return index.field_name
        try:
            return scalar_target(data.schema, index.field_name, index.index_type, index.params).key
        except (ParameterError, KeyError):
            return index.field_name

    def _publish_specs(self, indexes: list[IndexMeta], data: CollectionData) -> None:
        data.set_index_specs(
            {
                self._key(data, i): {
                    "index_name": i.index_name,
                    "field_name": i.field_name,
                    "index_type": i.index_type,
                    "metric_type": i.metric_type,
                    "params": dict(i.params),
                }
                for i in indexes
            }
        )

    def _load_saved_index(
        self, data: CollectionData, seg: SealedSegment, field_name: str, spec: dict[str, Any]
    ) -> bool:
        """Attach the index saved beside the segment, if there is a usable one."""
        store = self.stores.get(data.collection_id)
        if store is None:
            return False
        path = store.index_dir(seg.segment_id, spec["index_name"])
        if not self.fs.exists(path):
            return False
        try:
            state = store.verify_index(seg.segment_id, spec["index_name"])
        except StorageError as exc:
            log.error("saved index %s fails its check (%s); building it again", path, exc)
            return False
        if state == "unrecorded":
            log.warning(
                "saved index %s was not committed to the manifest (interrupted); "
                "building it again",
                path,
            )
            return False
        local = self.fs.local_path(path)
        if local is not None and is_scalar_index_dir(local):
            try:
                scalar = load_scalar_index(local)
            except (StorageError, OSError, ValueError, KeyError, TypeError) as exc:
                # an unreadable file of an index saved before checksums: rebuild it
                log.error("saved index %s cannot be loaded (%s); building it again", path, exc)
                return False
            if scalar.num_rows != seg.num_rows:
                return False
            seg.scalar_indexes[field_name] = scalar
            return True
        vector_field = data.schema.get(field_name)
        if vector_field is None or not vector_field.dtype.is_vector:
            return False
        try:
            loaded = vector_indexes.load_vector_index(path, mmap=True)
        except (StorageError, RuntimeError, OSError, ValueError) as exc:
            # FAISS reports a damaged file as RuntimeError; the segment can rebuild it
            log.error("saved index %s cannot be loaded (%s); building it again", path, exc)
            return False
        if loaded.ntotal != seg.num_rows or (
            spec["metric_type"] and loaded.metric_type != spec["metric_type"]
        ):
            return False
        if spec["index_type"].upper() not in ("AUTOINDEX", loaded.index_type.upper()):
            return False  # files of an index dropped since, saved by a late build
        seg.vector_indexes[field_name] = loaded
        return True

    def _build_index(
        self, data: CollectionData, seg: SealedSegment, field: FieldSchema, spec: dict[str, Any]
    ) -> bool:
        """Build one index of one segment, save it and attach it; False when the
        index was dropped or replaced meanwhile (nothing attached)."""
        if not field.dtype.is_vector:
            target = _target(data.schema, spec)
            index = build_scalar_index(
                target, spec["index_type"], spec["params"], seg.column(target.column)
            )
            return self._attach_built(data, seg, target.key, spec, index, seg.scalar_indexes)
        column = seg.column(field.name)
        built = vector_indexes.build_vector_index(
            field, spec["index_type"], spec["metric_type"], spec["params"], column
        )
        return self._attach_built(data, seg, field.name, spec, built, seg.vector_indexes)

    def _attach_built(
        self,
        data: CollectionData,
        seg: SealedSegment,
        key: str,
        spec: dict[str, Any],
        index: Any,
        attached: dict[str, Any],
    ) -> bool:
        """Save and attach a built index, unless its definition was dropped or
        replaced while it was being built (then it serves nothing)."""
        if data.index_specs.get(key) != spec:
            return False
        self._save_index(data, seg, spec["index_name"], index)
        with data.write_lock:
            if data.index_specs.get(key) != spec:
                return False
            attached[key] = index
            data.republish()
        return True

    def _save_index(
        self, data: CollectionData, seg: SealedSegment, index_name: str, index: Any
    ) -> None:
        """Save a built index beside its segment and commit its files' checksums."""
        store = self.stores.get(data.collection_id)
        if store is None:
            return
        if store.manifest.segment(seg.segment_id) is None:
            return  # not committed yet, or compacted away
        with data.write_lock:
            if store.destroyed:
                log.debug("index %s not saved: its collection was dropped", index_name)
                return
            try:
                if store.forget_index(seg.segment_id, index_name):
                    store.commit_checksums()
            except (StorageError, OSError) as exc:
                # the old files stay where the manifest's checksums name them
                log.warning("index %s kept in memory only: %s", index_name, exc)
                return
        try:
            with storage_errors(
                f"save index {index_name} in", store.index_dir(seg.segment_id, index_name)
            ):
                _, checksums = store.save_index(seg.segment_id, index_name, index)
                with data.write_lock:
                    if store.destroyed:
                        # dropped while the files were written: they recreated its directory
                        store.remove_leftovers()
                        log.debug("index %s not saved: its collection was dropped", index_name)
                        return
                    if store.manifest.segment(seg.segment_id) is not None:
                        store.record_index(seg.segment_id, index_name, checksums)
                        store.commit_checksums()
        except (StorageError, RuntimeError) as exc:
            if store.destroyed:
                store.remove_leftovers()
                log.debug("index %s not saved: its collection was dropped (%s)", index_name, exc)
                return
            # Index files are a cache of the segment: on a full or read-only disk the
            # built index still serves from memory, and the next open builds it again.
            # (FAISS reports a failed write as RuntimeError, with the errno's text.)
            log.warning("index kept in memory only: %s", exc)

    def _schedule_index_builds(self, data: CollectionData) -> None:
        """Give every sealed segment its indexes: saved vector indexes loaded now, the
        missing ones built in the background."""
        loaded_any = False
        for seg in list(data.sealed):
            for field_name, spec in data.index_specs.items():
                field = _spec_field(data.schema, spec)
                if field is None or _attached(seg, field, field_name) is not None:
                    continue
                if self._load_saved_index(data, seg, field_name, spec):
                    loaded_any = True
                    continue
                key = (seg.segment_id, field_name)
                with self._build_lock:
                    if key in self._building:
                        continue
                    self._building.add(key)

                def job(
                    seg: SealedSegment = seg,
                    field: FieldSchema = field,
                    spec: dict[str, Any] = spec,
                    key: tuple[int, str] = key,
                ) -> None:
                    current = True
                    try:
                        current = self._build_index(data, seg, field, spec)
                    except Exception as exc:
                        # a background job has nobody to raise to: describe_index says it
                        log.exception(
                            "building index %s of segment %d failed", key[1], seg.segment_id
                        )
                        self._build_failures[key] = f"{type(exc).__name__}: {exc}"
                    finally:
                        with self._build_lock:
                            self._building.discard(key)
                    if not current:
                        # the index changed while this one was built: build what is
                        # defined now (this job held the segment's slot meanwhile)
                        self._schedule_index_builds(data)

                if self.options.background:
                    self.worker.submit(job)
                else:
                    job()
        if loaded_any:
            data.republish()

    def drop_index(self, db: str, collection: str, index_name: str) -> None:
        with self.catalog.lock:
            meta, data = self._data(db, collection)
            found = [i for i in meta.indexes if i.index_name == index_name]
            if not found:
                return
            indexed = data.schema.get(found[0].field_name)
            # Milvus drops a scalar index from a loaded collection; a vector index
            # is what serves its searches, so that one needs a release first.
            if meta.loaded and indexed is not None and indexed.dtype.is_vector:
                raise ParameterError(
                    "index cannot be dropped, collection is loaded, please release it first"
                )
            key = self._key(data, found[0])
            meta.indexes.remove(found[0])
            self.catalog.save()
            # specs first: a build finishing meanwhile sees its index gone, attaches nothing
            self._publish_specs(meta.indexes, data)
            for seg in data.sealed:
                seg.vector_indexes.pop(key, None)
                seg.scalar_indexes.pop(key, None)
            store = self.stores.get(meta.collection_id)
            if store is not None:
                with data.write_lock:
                    store.drop_index(index_name)

    def list_indexes(self, db: str, collection: str, field_name: str | None = None) -> list[str]:
        meta = self._meta(db, collection)
        return [i.index_name for i in meta.indexes if field_name in (None, "", i.field_name)]

    def describe_index(self, db: str, collection: str, index_name: str) -> IndexInfo:
        meta, data = self._data(db, collection)
        found = [i for i in meta.indexes if i.index_name == index_name]
        if not found:
            raise IndexNotFound(f"index not found[indexName={index_name}]")
        i = found[0]
        snap = data.snapshot
        total = sum(v.num_rows for v in snap.segments)
        field = data.schema.get(i.field_name)
        if field is None and data.schema.enable_dynamic_field:
            field = FieldSchema(i.field_name, DataType.JSON, nullable=True)
        key = self._key(data, i)
        indexed = sum(
            v.num_rows
            for v in snap.segments
            if v.sealed and field is not None and _attached(v.data, field, key) is not None
        )
        pending = sum(v.num_rows for v in snap.segments if v.sealed) - indexed
        failures = [
            self._build_failures.get((v.segment_id, key))
            for v in snap.segments
            if v.sealed and (v.segment_id, key) in self._build_failures
        ]
        state = "Finished" if pending == 0 else "Failed" if failures else "InProgress"
        return IndexInfo(
            index_name=i.index_name,
            field_name=i.field_name,
            index_type=i.index_type,
            metric_type=i.metric_type,
            params=dict(i.params),
            total_rows=total,
            indexed_rows=indexed,
            pending_index_rows=pending,
            state=state,
            index_id=i.index_id,
            properties=dict(i.properties),
            fail_reason=str(failures[0]) if state == "Failed" else "",
        )

    def alter_index_properties(
        self, db: str, collection: str, index_name: str, properties: Mapping[str, str]
    ) -> None:
        with self.catalog.lock:
            meta = self._meta(db, collection)
            found = [i for i in meta.indexes if i.index_name == index_name]
            if not found:
                raise IndexNotFound(f"index not found[indexName={index_name}]")
            changes = {str(k): str(v) for k, v in properties.items()}
            mmap = changes.get("mmap.enabled")
            if mmap not in (None, "") and mmap.lower() not in ("true", "false"):
                raise ParameterError(f"invalid mmap.enabled value: {mmap}, expected true or false")
            for key, value in changes.items():
                # an empty value is how the gRPC AlterIndex carries a deleted key
                if value == "":
                    found[0].properties.pop(key, None)
                else:
                    found[0].properties[key] = value.lower() if key == "mmap.enabled" else value
            self.catalog.save()

    def drop_index_properties(
        self, db: str, collection: str, index_name: str, keys: list[str]
    ) -> None:
        self.alter_index_properties(db, collection, index_name, dict.fromkeys(keys, ""))

    def wait_for_index(self, db: str, collection: str, timeout: float | None = None) -> None:
        meta = self._meta(db, collection)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if all(
                self.describe_index(db, collection, i.index_name).state in ("Finished", "Failed")
                for i in meta.indexes
            ):
                return
            if deadline is not None and time.monotonic() > deadline:
                return
            time.sleep(0.01)
