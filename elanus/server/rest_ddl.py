"""REST v2 definitions: databases, collections, partitions, aliases, indexes."""

from __future__ import annotations

from typing import Any

from elanus.engine.api import EngineAPI, IndexInfo, LoadState
from elanus.engine.requests import ConsistencyLevel
from elanus.errors import ParameterError
from elanus.server.rest_body import RestBody, endpoint
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
    properties = {k: str(v) for k, v in body.mapping("properties").items()}
    engine.create_database(body.name("dbName", "database"), properties or None)


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


def _options(body: RestBody) -> dict[str, Any]:
    """The ``params`` of a collection create as the engine's keyword options."""
    params = body.mapping("params")
    properties = {k: str(v) for k, v in body.mapping("properties").items()}
    if "ttlSeconds" in params:
        properties["collection.ttl.seconds"] = str(params["ttlSeconds"])
    try:
        level = ConsistencyLevel.parse(params.get("consistencyLevel"))
    except ValueError as exc:
        raise ParameterError(str(exc)) from None
    options = RestBody(params)
    num_partitions = options.get("partitionsNum")
    return {
        "properties": properties or None,
        "num_shards": options.integer("shardsNum", 1),
        "num_partitions": None if num_partitions is None else options.integer("partitionsNum", 0),
        "consistency_level": level,
    }


@endpoint("collections/create")
def create_collection(engine: EngineAPI, body: RestBody) -> None:
    name = body.text("collectionName")
    if body.get("schema") is None:
        schema, index = quick_schema(body.raw)
        engine.create_collection(
            body.db, name, schema, indexes=[index], load=True, **_options(body)
        )
        return
    specs = index_specs(body.get("indexParams"))
    engine.create_collection(
        body.db,
        name,
        schema_from_json(body.get("schema")),
        indexes=specs or None,
        load=bool(specs),
        **_options(body),
    )


@endpoint("collections/describe")
def describe_collection(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    db, name = body.db, body.collection
    info = engine.describe_collection(db, name)
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


@endpoint("collections/load")
def load_collection(engine: EngineAPI, body: RestBody) -> None:
    engine.load_collection(body.db, body.collection)


@endpoint("collections/release")
def release_collection(engine: EngineAPI, body: RestBody) -> None:
    engine.release_collection(body.db, body.collection)


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
    engine.load_partitions(body.db, body.collection, names)


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
