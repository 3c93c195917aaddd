"""REST v2 definitions: databases, collections, partitions, aliases, indexes."""

from __future__ import annotations

from typing import Any

from elanus.engine.api import EngineAPI, IndexInfo, LoadState
from elanus.engine.requests import ConsistencyLevel
from elanus.errors import NotSupportedError, ParameterError
from elanus.server.index_alter import check_index_alter
from elanus.server.rest_body import (
    MissingParameter,
    RestBody,
    consistency_level,
    describe,
    endpoint,
    go_text,
    invalid,
)
from elanus.server.rest_schema import (
    collection_json,
    index_json,
    index_specs,
    load_state_name,
    quick_schema,
    schema_from_json,
)

__all__: list[str] = []

# --- databases -----------------------------------------------------------------------


@endpoint("databases/create")
def create_database(engine: EngineAPI, body: RestBody) -> None:
    properties = body.properties()
    engine.create_database(body.name("dbName", "database"), properties or None)


@endpoint("databases/alter", "databases/alter_properties")
def alter_database(engine: EngineAPI, body: RestBody) -> None:
    engine.alter_database_properties(body.name("dbName", "database"), body.properties())


@endpoint("databases/drop_properties")
def drop_database_properties(engine: EngineAPI, body: RestBody) -> None:
    name = body.name("dbName", "database")
    engine.drop_database_properties(name, body.text_list("propertyKeys") or [])


@endpoint("databases/drop")
def drop_database(engine: EngineAPI, body: RestBody) -> None:
    engine.drop_database(body.name("dbName", "database"))


@endpoint("databases/list")
def list_databases(engine: EngineAPI, body: RestBody) -> list[str]:
    return engine.list_databases()


@endpoint("databases/describe")
def describe_database(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    info = engine.describe_database(body.name("dbName", "database"))
    return {
        "dbName": info.name,
        "dbID": info.database_id,
        "properties": [{"key": k, "value": v} for k, v in info.properties.items()],
    }


# --- collections -----------------------------------------------------------------------


# Settings of ``params`` that become collection properties, as Milvus stores them.
_PARAM_PROPERTIES = {
    "ttlSeconds": "collection.ttl.seconds",
    "ttlField": "ttl_field",
    "partitionKeyIsolation": "partitionkey.isolation",
    "mmap.enabled": "mmap.enabled",
    "warmup.scalarField": "warmup.scalarField",
    "warmup.scalarIndex": "warmup.scalarIndex",
    "warmup.vectorField": "warmup.vectorField",
    "warmup.vectorIndex": "warmup.vectorIndex",
}


def _consistency(body: RestBody, params: dict[str, Any]) -> str:
    top = body.get("consistencyLevel")
    inner = params.get("consistencyLevel")
    if top not in (None, "") and inner is not None and top != go_text(inner):
        raise invalid(
            "same consistencyLevel",
            inner,
            "top-level consistencyLevel conflicts with params.consistencyLevel",
        )
    level = consistency_level(top if top not in (None, "") else inner)
    return level or ConsistencyLevel.BOUNDED


def _options(body: RestBody, partition_key: bool) -> dict[str, Any]:
    """The ``params`` and ``properties`` of a collection create as the engine's
    keyword options, read as Milvus reads them."""
    params = body.mapping("params")
    properties = body.properties()
    ttl_keys = [k for k in ("collection.ttl.seconds", "ttl.seconds") if k in properties]
    if len(ttl_keys) + ("ttlSeconds" in params) > 1:
        raise ParameterError("collection TTL is specified multiple times")
    if "ttl.seconds" in properties:
        properties["collection.ttl.seconds"] = properties.pop("ttl.seconds")
    for key, prop in _PARAM_PROPERTIES.items():
        if key in params:
            properties[prop] = go_text(params[key])
    options = body.with_raw(params)
    partitions = options.param_int("partitionsNum", None)
    return {
        "properties": properties or None,
        "num_shards": options.param_int("shardsNum", 1) or 1,
        "num_partitions": partitions if partition_key and partitions and partitions > 0 else None,
        "consistency_level": _consistency(body, params),
    }


@endpoint("collections/create")
def create_collection(engine: EngineAPI, body: RestBody) -> None:
    name = body.text("collectionName")
    schema_raw = body.mapping("schema")
    if not schema_raw.get("fields"):
        schema, index = quick_schema(body)
        engine.create_collection(
            body.db, name, schema, indexes=[index], load=False, **_options(body, False)
        )
        engine.load_collection(body.db, name)
        return
    schema = schema_from_json(schema_raw, body.get("description"))
    specs = index_specs(body.get("indexParams"))
    for spec in specs:
        if schema.get(spec.field_name) is None:
            raise MissingParameter(
                f"missing required parameters, error: `{spec.field_name}` hasn't defined in schema"
            )
    partition_key = any(f.is_partition_key for f in schema.fields)
    engine.create_collection(
        body.db,
        name,
        schema,
        indexes=specs or None,
        load=False,
        **_options(body, partition_key),
    )
    if specs:
        # Milvus creates, indexes, then loads: a load it refuses (a vector field
        # left without an index) is the answer, and the collection stays.
        engine.load_collection(body.db, name)


@endpoint("collections/describe")
def describe_collection(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    db, name = body.db, body.collection
    info = describe(engine, db, name)
    indexes = [engine.describe_index(db, name, n) for n in engine.list_indexes(db, name)]
    return collection_json(info, indexes, engine.get_load_state(db, name))


@endpoint("collections/list")
def list_collections(engine: EngineAPI, body: RestBody) -> list[str]:
    return engine.list_collections(body.db)


@endpoint("collections/has")
def has_collection(engine: EngineAPI, body: RestBody) -> dict[str, bool]:
    return {"has": engine.has_collection(body.db, body.collection)}


@endpoint("collections/drop")
def drop_collection(engine: EngineAPI, body: RestBody) -> None:
    engine.drop_collection(body.db, body.collection)


@endpoint("collections/rename")
def rename_collection(engine: EngineAPI, body: RestBody) -> None:
    new_db = body.get("newDbName") or None
    engine.rename_collection(
        body.db, body.collection, body.name("newCollectionName", "collection"), new_db
    )


@endpoint("collections/get_stats")
def collection_stats(engine: EngineAPI, body: RestBody) -> dict[str, int]:
    stats = engine.get_collection_stats(body.db, body.collection)
    return {"rowCount": int(stats.get("row_count", 0))}


@endpoint("collections/get_load_state")
def get_load_state(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    db, name = body.db, body.collection
    partitions = body.text_list("partitionNames") or []
    states = {engine.get_load_state(db, name, p) for p in partitions} or {
        engine.get_load_state(db, name)
    }
    # The least loaded of the partitions asked about is the answer, as in Milvus.
    order = (LoadState.NOT_EXIST, LoadState.NOT_LOAD, LoadState.LOADING, LoadState.LOADED)
    state = next(s for s in order if s in states)
    data: dict[str, Any] = {"loadState": load_state_name(state)}
    if state in (LoadState.LOADED, LoadState.LOADING):
        data["loadProgress"] = 100 if state == LoadState.LOADED else 50
    return data


def _load_options(body: RestBody) -> dict[str, Any]:
    """What a load asks for beyond its target, checked by the engine as over gRPC."""
    return {
        "load_fields": body.text_list("loadFields"),
        "skip_load_dynamic_field": body.flag("skipLoadDynamicField"),
        "replica_number": body.integer("replicaNumber", 0),
    }


@endpoint("collections/load")
def load_collection(engine: EngineAPI, body: RestBody) -> None:
    engine.load_collection(body.db, body.collection, **_load_options(body))


@endpoint("collections/refresh_load")
def refresh_load_collection(engine: EngineAPI, body: RestBody) -> None:
    # One process holds every row it serves: a load is always current, so a
    # refresh is the load itself (which checks the collection and its indexes).
    engine.load_collection(body.db, body.collection)


@endpoint("collections/release")
def release_collection(engine: EngineAPI, body: RestBody) -> None:
    engine.release_collection(body.db, body.collection)


def _check_mmap_change(engine: EngineAPI, db: str, name: str, keys: set[str]) -> None:
    if "mmap.enabled" in keys and engine.get_load_state(db, name) == LoadState.LOADED:
        raise ParameterError("can not alter mmap properties if collection loaded")


@endpoint("collections/alter_properties")
def alter_collection_properties(engine: EngineAPI, body: RestBody) -> None:
    db, name = body.db, body.collection
    properties = body.properties()
    _check_mmap_change(engine, db, name, set(properties))
    engine.alter_collection_properties(db, name, properties)


@endpoint("collections/drop_properties")
def drop_collection_properties(engine: EngineAPI, body: RestBody) -> None:
    db, name = body.db, body.collection
    keys = body.text_list("propertyKeys") or []
    _check_mmap_change(engine, db, name, set(keys))
    engine.drop_collection_properties(db, name, keys)


@endpoint("collections/truncate")
def truncate_collection(engine: EngineAPI, body: RestBody) -> None:
    engine.truncate_collection(body.db, body.collection)


@endpoint("collections/flush")
def flush_collection(engine: EngineAPI, body: RestBody) -> None:
    # The engine's flush returns once the rows are sealed and durable, which is
    # what Milvus's REST flush waits for before answering.
    engine.flush(body.db, body.collection)


@endpoint("collections/compact")
def compact_collection(engine: EngineAPI, body: RestBody) -> dict[str, int]:
    if body.flag("isClustering"):
        raise NotSupportedError("clustering compaction is not supported by Elanus")
    return {"compactionID": engine.compact(body.db, body.collection)}


@endpoint("collections/get_compaction_state")
def compaction_state(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    job = body.integer("jobID", 0)
    state = engine.get_compaction_state(job)
    done = state == "Completed"
    return {
        "compactionID": job,
        "state": state,
        "executingPlanNumber": 0 if done else 1,
        "timeoutPlanNumber": 0,
        "completedPlanNumber": 1 if done else 0,
    }


# --- partitions ------------------------------------------------------------------------


@endpoint("partitions/create")
def create_partition(engine: EngineAPI, body: RestBody) -> None:
    engine.create_partition(body.db, body.collection, body.name("partitionName", "partition"))


@endpoint("partitions/drop")
def drop_partition(engine: EngineAPI, body: RestBody) -> None:
    engine.drop_partition(body.db, body.collection, body.name("partitionName", "partition"))


@endpoint("partitions/list")
def list_partitions(engine: EngineAPI, body: RestBody) -> list[str]:
    return [p.name for p in engine.list_partitions(body.db, body.collection)]


@endpoint("partitions/has")
def has_partition(engine: EngineAPI, body: RestBody) -> dict[str, bool]:
    partition = body.name("partitionName", "partition")
    return {"has": engine.has_partition(body.db, body.collection, partition)}


@endpoint("partitions/get_stats")
def partition_stats(engine: EngineAPI, body: RestBody) -> dict[str, int]:
    partition = body.name("partitionName", "partition")
    stats = engine.get_partition_stats(body.db, body.collection, partition)
    return {"rowCount": int(stats.get("row_count", 0))}


@endpoint("partitions/load")
def load_partitions(engine: EngineAPI, body: RestBody) -> None:
    names = body.text_list("partitionNames", required=True) or []
    engine.load_partitions(body.db, body.collection, names, **_load_options(body))


@endpoint("partitions/release")
def release_partitions(engine: EngineAPI, body: RestBody) -> None:
    names = body.text_list("partitionNames", required=True) or []
    engine.release_partitions(body.db, body.collection, names)


# --- aliases ---------------------------------------------------------------------------


@endpoint("aliases/create")
def create_alias(engine: EngineAPI, body: RestBody) -> None:
    engine.create_alias(body.db, body.name("aliasName", "alias"), body.collection)


@endpoint("aliases/drop")
def drop_alias(engine: EngineAPI, body: RestBody) -> None:
    engine.drop_alias(body.db, body.name("aliasName", "alias"))


@endpoint("aliases/alter")
def alter_alias(engine: EngineAPI, body: RestBody) -> None:
    engine.alter_alias(body.db, body.name("aliasName", "alias"), body.collection)


@endpoint("aliases/describe")
def describe_alias(engine: EngineAPI, body: RestBody) -> dict[str, str]:
    alias = body.name("aliasName", "alias")
    return {
        "dbName": body.db,
        "aliasName": alias,
        "collectionName": engine.describe_alias(body.db, alias),
    }


@endpoint("aliases/list")
def list_aliases(engine: EngineAPI, body: RestBody) -> list[str]:
    collection = body.get("collectionName") or None
    return engine.list_aliases(body.db, None if collection is None else body.collection)


# --- indexes ---------------------------------------------------------------------------


@endpoint("indexes/create")
def create_index(engine: EngineAPI, body: RestBody) -> None:
    db, name = body.db, body.collection
    specs = index_specs(body.get("indexParams"))
    if not specs:
        raise ParameterError("indexParams must name at least one index")
    for spec in specs:
        engine.create_index(db, name, spec)


@endpoint("indexes/describe")
def describe_index(engine: EngineAPI, body: RestBody) -> list[dict[str, Any]]:
    info: IndexInfo = engine.describe_index(body.db, body.collection, body.text("indexName"))
    return [index_json(info)]


@endpoint("indexes/list")
def list_indexes(engine: EngineAPI, body: RestBody) -> list[str]:
    return engine.list_indexes(body.db, body.collection, body.get("fieldName") or None)


@endpoint("indexes/drop")
def drop_index(engine: EngineAPI, body: RestBody) -> None:
    engine.drop_index(body.db, body.collection, body.text("indexName"))


@endpoint("indexes/alter_properties")
def alter_index_properties(engine: EngineAPI, body: RestBody) -> None:
    db, name, index = body.db, body.collection, body.text("indexName")
    properties = body.properties()
    check_index_alter(engine, db, name, properties)
    engine.alter_index_properties(db, name, index, properties)


@endpoint("indexes/drop_properties")
def drop_index_properties(engine: EngineAPI, body: RestBody) -> None:
    db, name, index = body.db, body.collection, body.text("indexName")
    keys = body.text_list("propertyKeys") or []
    check_index_alter(engine, db, name, keys)
    engine.drop_index_properties(db, name, index, keys)
