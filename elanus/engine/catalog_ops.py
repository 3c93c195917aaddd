"""Databases, collections, partitions and aliases, with Milvus's semantics and messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from elanus.engine.api import (
    DEFAULT_DATABASE,
    DEFAULT_PARTITION,
    CollectionInfo,
    DatabaseInfo,
    LoadState,
    PartitionInfo,
)
from elanus.engine.database_settings import (
    check_collection_limit,
    check_database_properties,
    load_replica_number,
)
from elanus.engine.expiry import check_ttl_properties
from elanus.engine.functions import field_analyzer
from elanus.engine.integrity import STATUS_PROPERTY, storage_status
from elanus.engine.load_settings import LoadFields, check_load_fields, check_replica_number
from elanus.engine.metadata import CollectionMeta, DatabaseMeta, PartitionMeta
from elanus.engine.partition_isolation import check_isolation_change, check_isolation_properties
from elanus.engine.query_mode import check_query_mode_change, check_query_mode_properties
from elanus.engine.requests import ConsistencyLevel, IndexSpec
from elanus.engine.snapshot import Snapshot
from elanus.engine.state import EngineState
from elanus.engine.timezones import TIMEZONE_KEY, check_timezone_properties
from elanus.errors import (
    AliasNotFound,
    AlreadyExistsError,
    CollectionNotFound,
    DatabaseNotFound,
    IndexNotFound,
    NotSupportedError,
    ParameterError,
    PartitionNotFound,
    SchemaError,
)
from elanus.schema import CollectionSchema, FieldSchema
from elanus.schema.validate import validate_field, validate_name, validate_schema

# Milvus's proxy.maxShardNum default: each shard is a channel a collection describes.
MAX_SHARDS = 16

__all__ = ["CatalogOperations"]

DEFAULT_NUM_PARTITIONS = 16


def _props(properties: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (properties or {}).items()}


def _has_vector_index(meta: CollectionMeta) -> bool:
    vectors = {f.name for f in meta.collection_schema().fields if f.dtype.is_vector}
    return any(index.field_name in vectors for index in meta.indexes)


def _with_database_timezone(properties: dict[str, str], db: DatabaseMeta) -> dict[str, str]:
    """A collection created without a time zone takes its database's, as in Milvus."""
    zone = db.properties.get(TIMEZONE_KEY)
    if zone and TIMEZONE_KEY not in properties:
        properties[TIMEZONE_KEY] = zone
    return properties


def _indexed_vector_field(meta: CollectionMeta) -> str | None:
    vectors = {f.name for f in meta.collection_schema().fields if f.dtype.is_vector}
    return next((i.field_name for i in meta.indexes if i.field_name in vectors), None)


class CatalogOperations(EngineState):
    # --- databases --------------------------------------------------------------------
    def create_database(self, name: str, properties: Mapping[str, str] | None = None) -> None:
        check_database_properties(properties)
        with self.catalog.lock:
            if name in self.catalog.databases:
                raise AlreadyExistsError(f"database already exist: {name}", code=65535)
            self.catalog.databases[name] = DatabaseMeta(
                name, self.oracle.now(), _props(properties), self.oracle.now()
            )
            self.catalog.save()

    def drop_database(self, name: str) -> None:
        with self.catalog.lock:
            if name == DEFAULT_DATABASE:
                raise ParameterError("can not drop default database")
            db = self.catalog.databases.get(name)
            if db is None:
                return
            if db.collections:
                raise ParameterError(
                    f"{name} not empty, must drop all collections before drop database"
                )
            del self.catalog.databases[name]
            self.catalog.save()

    def list_databases(self) -> list[str]:
        return list(self.catalog.databases)

    def describe_database(self, name: str) -> DatabaseInfo:
        db = self._db(name)
        return DatabaseInfo(db.name, db.database_id, dict(db.properties), db.created_timestamp)

    def alter_database_properties(self, name: str, properties: Mapping[str, str]) -> None:
        check_database_properties(properties)
        with self.catalog.lock:
            self._db(name).properties.update(_props(properties))
            self.catalog.save()

    def drop_database_properties(self, name: str, keys: list[str]) -> None:
        with self.catalog.lock:
            db = self._db(name)
            for key in keys:
                db.properties.pop(key, None)
            self.catalog.save()

    # --- collections ------------------------------------------------------------------
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
        validate_name("collection", name)
        if int(num_shards or 1) > MAX_SHARDS:
            raise ParameterError(f"maximum shards's number should be limited to {MAX_SHARDS}")
        validated = validate_schema(schema, name)
        check_query_mode_properties(properties)
        check_ttl_properties(properties)
        check_isolation_properties(properties, validated, name)
        check_timezone_properties(properties)
        for text_field in validated.fields:
            if text_field.enable_analyzer or text_field.enable_match:
                # Milvus builds the analyzer at create: bad params fail here, not on
                # insert. One Elanus lacks (lindera, ...) is refused when it is used.
                try:
                    field_analyzer(text_field)
                except NotSupportedError:
                    pass
        level = ConsistencyLevel.parse(consistency_level)
        with self.catalog.lock:
            database = self._db(db)
            existing = database.collections.get(name)
            if existing is not None:
                if existing.schema == validated.to_json_dict():
                    return
                raise AlreadyExistsError(
                    f"create duplicate collection with different parameters, collection: {name}"
                )
            if name in database.aliases:
                raise AlreadyExistsError(
                    f"alias and collection name conflict[database={database.name}][alias={name}]"
                )
            check_collection_limit(database.name, database.properties, len(database.collections))
            now = self.oracle.now()
            partitions: list[PartitionMeta]
            if validated.partition_key_field is not None:
                count = int(num_partitions or DEFAULT_NUM_PARTITIONS)
                if not 1 <= count <= 1024:
                    raise ParameterError(
                        f"num_partitions should be in range [1, 1024], got {count}"
                    )
                partitions = [
                    PartitionMeta(f"{DEFAULT_PARTITION}_{i}", self.oracle.now(), now, loaded=load)
                    for i in range(count)
                ]
            else:
                if num_partitions:
                    raise ParameterError(
                        "num_partitions should only be specified with partition key field enabled"
                    )
                count = 1
                partitions = [PartitionMeta(DEFAULT_PARTITION, self.oracle.now(), now, loaded=load)]
            meta = CollectionMeta(
                collection_id=self.oracle.now(),
                name=name,
                schema=validated.to_json_dict(),
                num_shards=max(1, int(num_shards or 1)),
                num_partitions=count,
                consistency_level=level,
                properties=_with_database_timezone(_props(properties), database),
                created_timestamp=now,
                update_timestamp=now,
                partitions=partitions,
                loaded=load,
            )
            database.collections[name] = meta
            try:
                self._open_collection(meta)
                self.catalog.save()
            except BaseException:
                # a full disk: no collection, in memory or on disk, that the catalogue lacks
                database.collections.pop(name, None)
                self.collections.pop(meta.collection_id, None)
                store = self.stores.pop(meta.collection_id, None)
                if store is not None:
                    store.close()
                self.fs.delete_dir(self.layout.collection_dir(meta.collection_id))
                raise
        for spec in indexes or []:
            self.create_index(db, name, spec)  # type: ignore[attr-defined]

    def drop_collection(self, db: str, name: str) -> None:
        with self.catalog.lock:
            database = self._db(db)
            meta = database.collections.get(name)
            if meta is None:
                return
            aliases = [a for a, c in database.aliases.items() if c == name]
            if aliases:
                raise ParameterError(
                    f"unable to drop the collection [{name}] because it has aliases {aliases}, please remove all aliases before dropping the collection"
                )
            del database.collections[name]
            self.catalog.save()
            data = self.collections.pop(meta.collection_id, None)
            store = self.stores.pop(meta.collection_id, None)
            if data is not None:
                with data.write_lock:
                    if store is not None:
                        store.destroy()
            self.fs.delete_dir(self.layout.collection_dir(meta.collection_id))

    def has_collection(self, db: str, name: str) -> bool:
        try:
            self._meta(db, name)
        except CollectionNotFound:
            return False
        return True

    def list_collections(self, db: str) -> list[str]:
        return list(self._db(db).collections)

    def collection_schema(self, db: str, name: str) -> CollectionSchema:
        """The current schema of a collection (or alias): what every data call needs,
        without building a whole ``CollectionInfo``. Parsed once per schema version,
        so DDL (alter, add field, drop, rename) is seen by the next call."""
        return self._meta(db, name).collection_schema()

    def describe_collection(self, db: str, name: str) -> CollectionInfo:
        meta = self._meta(db, name)
        database = self._db(db)
        properties = dict(meta.properties)
        status = storage_status(self.stores.get(meta.collection_id))
        if status:
            properties[STATUS_PROPERTY] = status
        return CollectionInfo(
            name=meta.name,
            collection_id=meta.collection_id,
            database=database.name,
            schema=meta.collection_schema(),
            num_shards=meta.num_shards,
            num_partitions=meta.num_partitions,
            consistency_level=meta.consistency_level,
            properties=properties,
            aliases=sorted(a for a, c in database.aliases.items() if c == meta.name),
            created_timestamp=meta.created_timestamp,
            update_timestamp=meta.update_timestamp,
            partitions=self.list_partitions(db, name),
        )

    def rename_collection(
        self, db: str, old_name: str, new_name: str, new_db: str | None = None
    ) -> None:
        with self.catalog.lock:
            source = self._db(db)
            target = self._db(new_db or db)
            meta = source.collections.get(old_name)
            if meta is None:
                raise CollectionNotFound(
                    f"collection not found[database={source.name}][collection={old_name}]"
                )
            if new_name in target.aliases:
                raise AlreadyExistsError(
                    f"alias and collection name conflict[database={target.name}][alias={new_name}]"
                )
            if new_name in target.collections:
                raise AlreadyExistsError(
                    f"duplicated new collection name {new_name} in database {target.name}"
                )
            from elanus.schema.validate import validate_name

            validate_name("collection", new_name)
            del source.collections[old_name]
            meta.name = new_name
            meta.update_timestamp = self.oracle.now()
            target.collections[new_name] = meta
            for alias, coll in list(source.aliases.items()):
                if coll == old_name:
                    source.aliases[alias] = new_name
            self.catalog.save()

    def alter_collection_properties(
        self, db: str, name: str, properties: Mapping[str, str]
    ) -> None:
        check_query_mode_properties(properties)
        check_ttl_properties(properties)
        check_timezone_properties(properties)
        with self.catalog.lock:
            meta = self._meta(db, name)
            check_query_mode_change(properties, _has_vector_index(meta))
            check_isolation_properties(properties, meta.collection_schema(), meta.name)
            check_isolation_change(meta.properties, properties, (), _indexed_vector_field(meta))
            meta.properties.update(_props(properties))
            meta.update_timestamp = self.oracle.now()
            self.catalog.save()

    def drop_collection_properties(self, db: str, name: str, keys: list[str]) -> None:
        with self.catalog.lock:
            meta = self._meta(db, name)
            check_query_mode_change(keys, _has_vector_index(meta))
            check_isolation_change(meta.properties, {}, keys, _indexed_vector_field(meta))
            for key in keys:
                meta.properties.pop(key, None)
            self.catalog.save()

    def _replace_schema(self, meta: CollectionMeta, schema: CollectionSchema) -> None:
        meta.schema = schema.to_json_dict()
        meta.update_timestamp = self.oracle.now()
        self.collections[meta.collection_id].set_schema(schema)
        self.catalog.save()

    def alter_collection_field(
        self, db: str, name: str, field_name: str, params: Mapping[str, Any]
    ) -> None:
        with self.catalog.lock:
            meta = self._meta(db, name)
            schema = meta.collection_schema()
            old = schema.field(field_name)
            changed = validate_field(replace(old, params={**old.params, **dict(params)}), name)
            fields = tuple(changed if f.name == field_name else f for f in schema.fields)
            self._replace_schema(meta, replace(schema, fields=fields))

    def add_collection_field(self, db: str, name: str, field: FieldSchema) -> None:
        with self.catalog.lock:
            meta = self._meta(db, name)
            schema = meta.collection_schema()
            if schema.has_field(field.name):
                raise SchemaError(f"duplicate field name: {field.name}")
            if not field.nullable:
                raise SchemaError("added field must be nullable, please check it")
            if (
                field.is_primary
                or field.is_partition_key
                or field.dtype.is_vector
                and not field.nullable
            ):
                raise SchemaError(
                    f"cannot add field {field.name}: not supported for this kind of field"
                )
            checked = validate_field(field, name)
            self._replace_schema(meta, schema.with_field(checked))

    def truncate_collection(self, db: str, name: str) -> None:
        with self.catalog.lock:
            meta = self._meta(db, name)
            old = self.collections[meta.collection_id]
            with old.write_lock:
                self.stores.pop(meta.collection_id).destroy()
                self._open_collection(meta)

    def get_collection_stats(self, db: str, name: str) -> dict[str, int]:
        _, data = self._data(db, name)
        return {"row_count": _rows_written(data.snapshot)}

    def load_collection(
        self,
        db: str,
        name: str,
        *,
        load_fields: list[str] | None = None,
        skip_load_dynamic_field: bool = False,
        replica_number: int | None = None,
    ) -> None:
        with self.catalog.lock:
            meta = self._meta(db, name)
            _require_vector_indexes(meta)
            fields = self._check_load(db, meta, load_fields, skip_load_dynamic_field, replica_number)
            meta.loaded = True
            for p in meta.partitions:
                p.loaded = True
            self._apply_load_fields(meta, fields)

    def _check_load(
        self,
        db: str,
        meta: CollectionMeta,
        load_fields: list[str] | None,
        skip_dynamic: bool,
        replica_number: int | None,
    ) -> LoadFields:
        properties = self._db(db).properties
        check_replica_number(load_replica_number(replica_number, properties))
        return check_load_fields(meta.collection_schema(), load_fields, skip_dynamic)

    def _apply_load_fields(self, meta: CollectionMeta, fields: LoadFields) -> None:
        """Record the load's field list and hold only those fields in memory."""
        meta.load_fields, meta.skip_load_dynamic = list(fields.names), fields.skip_dynamic
        self.catalog.save()  # a failed save puts the record back as it was
        data = self.collections[meta.collection_id]
        data.unloaded_fields = fields.unloaded(meta.collection_schema())
        data.republish()

    def release_collection(self, db: str, name: str) -> None:
        with self.catalog.lock:
            meta = self._meta(db, name)
            meta.loaded = False
            for p in meta.partitions:
                p.loaded = False
            self.catalog.save()

    def get_load_state(self, db: str, name: str, partition: str | None = None) -> str:
        try:
            meta = self._meta(db, name)
        except CollectionNotFound:
            return LoadState.NOT_EXIST
        if partition:
            p = meta.partition(partition)
            if p is None:
                return LoadState.NOT_EXIST
            return LoadState.LOADED if p.loaded else LoadState.NOT_LOAD
        loaded = meta.loaded or any(p.loaded for p in meta.partitions)
        return LoadState.LOADED if loaded else LoadState.NOT_LOAD

    # --- partitions -------------------------------------------------------------------
    def _partition(self, meta: CollectionMeta, partition: str) -> PartitionMeta:
        p = meta.partition(partition)
        if p is None:
            raise PartitionNotFound(f"partition not found[partition={partition}]")
        return p

    def create_partition(self, db: str, collection: str, partition: str) -> None:
        from elanus.schema.validate import validate_name

        with self.catalog.lock:
            meta = self._meta(db, collection)
            if meta.collection_schema().partition_key_field is not None:
                raise ParameterError("disable create partition if partition key mode is used")
            validate_name("partition", partition)
            if meta.partition(partition) is not None:
                return  # Milvus: creating an existing partition again is a no-op
            if len(meta.partitions) >= 1024:
                raise ParameterError("partition number (1024) exceeds max configuration (1024)")
            now = self.oracle.now()
            meta.partitions.append(PartitionMeta(partition, now, now, loaded=meta.loaded))
            self.catalog.save()

    def drop_partition(self, db: str, collection: str, partition: str) -> None:
        with self.catalog.lock:
            meta = self._meta(db, collection)
            if partition == DEFAULT_PARTITION:
                raise ParameterError("default partition cannot be deleted")
            if meta.collection_schema().partition_key_field is not None:
                raise ParameterError("disable drop partition if partition key mode is used")
            p = meta.partition(partition)
            if p is None:
                return
            if p.loaded and meta.loaded:
                raise ParameterError(
                    "partition cannot be dropped, partition is loaded, please release it first"
                )
            meta.partitions.remove(p)
            self.catalog.save()
            data = self.collections[meta.collection_id]
            data.drop_partition(partition)

    def has_partition(self, db: str, collection: str, partition: str) -> bool:
        return self._meta(db, collection).partition(partition) is not None

    def list_partitions(self, db: str, collection: str) -> list[PartitionInfo]:
        meta = self._meta(db, collection)
        return [PartitionInfo(p.name, p.partition_id, p.created_timestamp) for p in meta.partitions]

    def load_partitions(
        self,
        db: str,
        collection: str,
        partitions: list[str],
        *,
        load_fields: list[str] | None = None,
        skip_load_dynamic_field: bool = False,
        replica_number: int | None = None,
    ) -> None:
        with self.catalog.lock:
            meta = self._meta(db, collection)
            if meta.collection_schema().partition_key_field is not None:
                raise ParameterError("disable load partitions if partition key mode is used")
            _require_vector_indexes(meta)
            fields = self._check_load(db, meta, load_fields, skip_load_dynamic_field, replica_number)
            # Every name is resolved before any is loaded: a bad name changes nothing.
            for part in [self._partition(meta, name) for name in partitions]:
                part.loaded = True
            meta.loaded = True
            self._apply_load_fields(meta, fields)

    def release_partitions(self, db: str, collection: str, partitions: list[str]) -> None:
        with self.catalog.lock:
            meta = self._meta(db, collection)
            if meta.collection_schema().partition_key_field is not None:
                raise ParameterError("disable release partitions if partition key mode is used")
            for part in [self._partition(meta, name) for name in partitions]:
                part.loaded = False
            if not any(p.loaded for p in meta.partitions):
                meta.loaded = False
            self.catalog.save()

    def get_partition_stats(self, db: str, collection: str, partition: str) -> dict[str, int]:
        meta, data = self._data(db, collection)
        self._partition(meta, partition)
        return {"row_count": _rows_written(data.snapshot.in_partitions([partition]))}

    # --- aliases ----------------------------------------------------------------------
    def create_alias(self, db: str, alias: str, collection: str) -> None:
        with self.catalog.lock:
            database = self._db(db)
            if collection not in database.collections:
                raise CollectionNotFound(
                    f"collection not found[database={database.name}][collection={collection}]"
                )
            if alias in database.collections:
                raise AlreadyExistsError(
                    f"alias and collection name conflict[database={database.name}][alias={alias}]"
                )
            current = database.aliases.get(alias)
            if current is not None and current != collection:
                raise AlreadyExistsError(f"{alias} is alias to another collection: {current}")
            database.aliases[alias] = collection
            self.catalog.save()

    def drop_alias(self, db: str, alias: str) -> None:
        with self.catalog.lock:
            database = self._db(db)
            if database.aliases.pop(alias, None) is not None:
                self.catalog.save()

    def alter_alias(self, db: str, alias: str, collection: str) -> None:
        with self.catalog.lock:
            database = self._db(db)
            if collection not in database.collections:
                raise CollectionNotFound(f"collection not found[collection={collection}]")
            if alias in database.collections:
                raise AlreadyExistsError(
                    f"alias and collection name conflict[database={database.name}][alias={alias}]"
                )
            if alias not in database.aliases:
                raise AliasNotFound(f"alias not found[database={database.name}][alias={alias}]")
            database.aliases[alias] = collection
            self.catalog.save()

    def describe_alias(self, db: str, alias: str) -> str:
        database = self._db(db)
        target = database.aliases.get(alias)
        if target is None:
            raise AliasNotFound(f"alias not found[database={database.name}][alias={alias}]")
        return target

    def list_aliases(self, db: str, collection: str | None = None) -> list[str]:
        database = self._db(db)
        if collection:
            self._meta(db, collection)
            target = database.aliases.get(collection, collection)
            return sorted(a for a, c in database.aliases.items() if c == target)
        return sorted(database.aliases)

    def _require_database(self, name: str) -> None:
        if name not in self.catalog.databases:
            raise DatabaseNotFound(f"database not found[database={name}]")


def _require_vector_indexes(meta: CollectionMeta) -> None:
    """Milvus loads a collection only once every vector field has an index."""
    schema = CollectionSchema.from_dict(meta.schema)
    indexed = {index.field_name for index in meta.indexes}
    if not indexed and schema.vector_fields:
        raise IndexNotFound(f"index not found[collection={meta.name}]")
    missing = [f.name for f in schema.vector_fields if f.name not in indexed]
    if missing:
        # Milvus's proxy refuses this as an invalid parameter, listing every field.
        raise ParameterError(
            f"there is no vector index on field: [{' '.join(missing)}], "
            "please create index firstly"
        )


def _rows_written(snapshot: Snapshot) -> int:
    """Milvus's ``row_count``: every row written to the segments, deleted or replaced
    ones included until compaction rewrites them (``count(*)`` counts visible rows)."""
    return sum(view.num_rows for view in snapshot.segments)
