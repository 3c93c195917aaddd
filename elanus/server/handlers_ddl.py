"""gRPC handlers for definitions: connection, databases, collections, partitions,
aliases and indexes. Each one translates, calls the engine, translates back."""

from __future__ import annotations

import re
import socket
import time
from dataclasses import replace
from typing import Any

import orjson
from pymilvus.grpc_gen import common_pb2, milvus_pb2

from elanus.engine.api import EngineAPI, LoadState
from elanus.engine.requests import ConsistencyLevel, IndexSpec
from elanus.errors import ParameterError
from elanus.server.convert_schema import (
    collection_info_to_proto,
    field_from_proto,
    index_user_params,
    kv_dict,
    kv_pairs,
    schema_from_proto,
)
from elanus.server.index_alter import check_index_alter
from elanus.server.rpc import Call, RpcStats, rpc

__all__ = ["DefinitionHandlers"]

SERVER_VERSION = "v2.6.0-elanus"

_INDEX_STATES = {
    "None": common_pb2.IndexStateNone,
    "InProgress": common_pb2.InProgress,
    "Finished": common_pb2.Finished,
    "Failed": common_pb2.Failed,
}


def _timestamp_ms(hybrid: int) -> int:
    return hybrid >> 18


def index_spec_from_proto(request: milvus_pb2.CreateIndexRequest) -> IndexSpec:
    extra = kv_dict(request.extra_params)
    index_type = extra.pop("index_type", "") or "AUTOINDEX"
    metric_type = extra.pop("metric_type", "") or None
    params: dict[str, Any] = {}
    inner = extra.pop("params", "")
    if inner:
        try:
            loaded = orjson.loads(inner)
        except orjson.JSONDecodeError:
            raise ParameterError(f"index params must be a JSON object, got {inner!r}") from None
        if not isinstance(loaded, dict):
            raise ParameterError(f"index params must be a JSON object, got {inner!r}")
        params.update(loaded)
    for key, text in extra.items():
        try:
            params[key] = orjson.loads(text)
        except orjson.JSONDecodeError:
            params[key] = text
    metric_type = metric_type or params.pop("metric_type", None)
    return IndexSpec(
        field_name=request.field_name,
        index_type=str(index_type),
        index_name=request.index_name,
        metric_type=metric_type,
        params=params,
    )


_PATH_STEP = re.compile(r"""\[\s*(?:'([^']*)'|"([^"]*)"|(-?\d+))\s*\]""")


def json_path_index_name(json_path: str, dynamic: bool) -> str:
    """Milvus's default name for a JSON path index: the field and each step of the
    path joined by "/" (``doc['a'][0]`` → ``doc/a/0``), under ``$meta/`` for a key
    of the dynamic field."""
    base, _, rest = json_path.partition("[")
    steps = [base.strip()]
    for match in _PATH_STEP.finditer("[" + rest if rest else ""):
        steps.append(next(g for g in match.groups() if g is not None))
    name = "/".join(steps)
    return f"$meta/{name}" if dynamic and steps[0] != "$meta" else name


class DefinitionHandlers:
    engine: EngineAPI
    stats: RpcStats
    started_at: float

    # --- connection --------------------------------------------------------------

    @rpc
    def Connect(self, request: milvus_pb2.ConnectRequest, call: Call) -> Any:
        reply = milvus_pb2.ConnectResponse(identifier=int(time.time_ns() % (2**62)))
        info = reply.server_info
        info.build_tags = SERVER_VERSION
        info.build_time = ""
        info.git_commit = ""
        info.go_version = "python"
        info.deploy_mode = "STANDALONE"
        info.reserved["hostname"] = socket.gethostname()
        return reply

    @rpc
    def GetVersion(self, request: Any, call: Call) -> Any:
        return milvus_pb2.GetVersionResponse(version=SERVER_VERSION)

    @rpc
    def CheckHealth(self, request: Any, call: Call) -> Any:
        return milvus_pb2.CheckHealthResponse(isHealthy=True)

    @rpc
    def AllocTimestamp(self, request: Any, call: Call) -> Any:
        return milvus_pb2.AllocTimestampResponse(timestamp=self.engine.current_timestamp())

    # --- databases ---------------------------------------------------------------

    @rpc
    def CreateDatabase(self, request: milvus_pb2.CreateDatabaseRequest, call: Call) -> Any:
        self.engine.create_database(request.db_name, kv_dict(request.properties))

    @rpc
    def DropDatabase(self, request: milvus_pb2.DropDatabaseRequest, call: Call) -> Any:
        self.engine.drop_database(request.db_name)

    @rpc
    def ListDatabases(self, request: Any, call: Call) -> Any:
        names = self.engine.list_databases()
        infos = [self.engine.describe_database(n) for n in names]
        return milvus_pb2.ListDatabasesResponse(
            db_names=names,
            db_ids=[i.database_id for i in infos],
            created_timestamp=[i.created_timestamp for i in infos],
        )

    @rpc
    def DescribeDatabase(self, request: milvus_pb2.DescribeDatabaseRequest, call: Call) -> Any:
        info = self.engine.describe_database(call.db)
        reply = milvus_pb2.DescribeDatabaseResponse(
            db_name=info.name, dbID=info.database_id, created_timestamp=info.created_timestamp
        )
        reply.properties.extend(kv_pairs(info.properties))
        return reply

    @rpc
    def AlterDatabase(self, request: milvus_pb2.AlterDatabaseRequest, call: Call) -> Any:
        if request.properties:
            self.engine.alter_database_properties(call.db, kv_dict(request.properties))
        if request.delete_keys:
            self.engine.drop_database_properties(call.db, list(request.delete_keys))

    # --- collections -------------------------------------------------------------

    @rpc
    def CreateCollection(self, request: milvus_pb2.CreateCollectionRequest, call: Call) -> Any:
        from pymilvus.grpc_gen import schema_pb2

        schema = schema_from_proto(schema_pb2.CollectionSchema.FromString(request.schema))
        properties = kv_dict(request.properties)
        level = ConsistencyLevel.parse(int(request.consistency_level))
        self.engine.create_collection(
            call.db,
            request.collection_name,
            schema,
            properties=properties or None,
            num_shards=int(request.shards_num) or 1,
            num_partitions=int(request.num_partitions) or None,
            consistency_level=level,
            load=False,
        )

    @rpc
    def DropCollection(self, request: milvus_pb2.DropCollectionRequest, call: Call) -> Any:
        self.engine.drop_collection(call.db, request.collection_name)

    @rpc
    def HasCollection(self, request: milvus_pb2.HasCollectionRequest, call: Call) -> Any:
        return milvus_pb2.BoolResponse(
            value=self.engine.has_collection(call.db, request.collection_name)
        )

    @rpc
    def DescribeCollection(self, request: milvus_pb2.DescribeCollectionRequest, call: Call) -> Any:
        info = self.engine.describe_collection(call.db, request.collection_name)
        return collection_info_to_proto(info)

    @rpc
    def ShowCollections(self, request: milvus_pb2.ShowCollectionsRequest, call: Call) -> Any:
        names = list(request.collection_names) or self.engine.list_collections(call.db)
        reply = milvus_pb2.ShowCollectionsResponse(collection_names=names)
        for name in names:
            info = self.engine.describe_collection(call.db, name)
            loaded = self.engine.get_load_state(call.db, name) == LoadState.LOADED
            reply.collection_ids.append(info.collection_id)
            reply.created_timestamps.append(info.created_timestamp)
            reply.created_utc_timestamps.append(_timestamp_ms(info.created_timestamp))
            reply.inMemory_percentages.append(100 if loaded else 0)
            reply.query_service_available.append(loaded)
            reply.shards_num.append(info.num_shards)
        return reply

    @rpc
    def RenameCollection(self, request: milvus_pb2.RenameCollectionRequest, call: Call) -> Any:
        self.engine.rename_collection(
            call.db, request.oldName, request.newName, request.newDBName or None
        )

    @rpc
    def AlterCollection(self, request: milvus_pb2.AlterCollectionRequest, call: Call) -> Any:
        keys = {p.key for p in request.properties} | set(request.delete_keys)
        if "mmap.enabled" in keys and (
            self.engine.get_load_state(call.db, request.collection_name) == LoadState.LOADED
        ):
            raise ParameterError("can not alter mmap properties if collection loaded")
        if request.properties:
            self.engine.alter_collection_properties(
                call.db, request.collection_name, kv_dict(request.properties)
            )
        if request.delete_keys:
            self.engine.drop_collection_properties(
                call.db, request.collection_name, list(request.delete_keys)
            )

    @rpc
    def AlterCollectionField(
        self, request: milvus_pb2.AlterCollectionFieldRequest, call: Call
    ) -> Any:
        params: dict[str, Any] = kv_dict(request.properties)
        self.engine.alter_collection_field(
            call.db, request.collection_name, request.field_name, params
        )
        if request.delete_keys:
            self.engine.alter_collection_field(
                call.db,
                request.collection_name,
                request.field_name,
                dict.fromkeys(request.delete_keys),
            )

    @rpc
    def AddCollectionField(self, request: milvus_pb2.AddCollectionFieldRequest, call: Call) -> Any:
        from pymilvus.grpc_gen import schema_pb2

        field = field_from_proto(schema_pb2.FieldSchema.FromString(request.schema))
        self.engine.add_collection_field(call.db, request.collection_name, field)

    @rpc
    def TruncateCollection(self, request: Any, call: Call) -> Any:
        self.engine.truncate_collection(call.db, request.collection_name)

    @rpc
    def GetCollectionStatistics(
        self, request: milvus_pb2.GetCollectionStatisticsRequest, call: Call
    ) -> Any:
        stats = self.engine.get_collection_stats(call.db, request.collection_name)
        reply = milvus_pb2.GetCollectionStatisticsResponse()
        reply.stats.extend(kv_pairs(stats))
        return reply

    # --- partitions --------------------------------------------------------------

    @rpc
    def CreatePartition(self, request: milvus_pb2.CreatePartitionRequest, call: Call) -> Any:
        self.engine.create_partition(call.db, request.collection_name, request.partition_name)

    @rpc
    def DropPartition(self, request: milvus_pb2.DropPartitionRequest, call: Call) -> Any:
        self.engine.drop_partition(call.db, request.collection_name, request.partition_name)

    @rpc
    def HasPartition(self, request: milvus_pb2.HasPartitionRequest, call: Call) -> Any:
        return milvus_pb2.BoolResponse(
            value=self.engine.has_partition(
                call.db, request.collection_name, request.partition_name
            )
        )

    @rpc
    def ShowPartitions(self, request: milvus_pb2.ShowPartitionsRequest, call: Call) -> Any:
        partitions = self.engine.list_partitions(call.db, request.collection_name)
        wanted = set(request.partition_names)
        if wanted:
            partitions = [p for p in partitions if p.name in wanted]
        reply = milvus_pb2.ShowPartitionsResponse()
        for p in partitions:
            state = self.engine.get_load_state(call.db, request.collection_name, p.name)
            reply.partition_names.append(p.name)
            reply.partitionIDs.append(p.partition_id)
            reply.created_timestamps.append(p.created_timestamp)
            reply.created_utc_timestamps.append(_timestamp_ms(p.created_timestamp))
            reply.inMemory_percentages.append(100 if state == LoadState.LOADED else 0)
        return reply

    @rpc
    def GetPartitionStatistics(
        self, request: milvus_pb2.GetPartitionStatisticsRequest, call: Call
    ) -> Any:
        stats = self.engine.get_partition_stats(
            call.db, request.collection_name, request.partition_name
        )
        reply = milvus_pb2.GetPartitionStatisticsResponse()
        reply.stats.extend(kv_pairs(stats))
        return reply

    # --- aliases -----------------------------------------------------------------

    @rpc
    def CreateAlias(self, request: milvus_pb2.CreateAliasRequest, call: Call) -> Any:
        self.engine.create_alias(call.db, request.alias, request.collection_name)

    @rpc
    def DropAlias(self, request: milvus_pb2.DropAliasRequest, call: Call) -> Any:
        self.engine.drop_alias(call.db, request.alias)

    @rpc
    def AlterAlias(self, request: milvus_pb2.AlterAliasRequest, call: Call) -> Any:
        self.engine.alter_alias(call.db, request.alias, request.collection_name)

    @rpc
    def DescribeAlias(self, request: milvus_pb2.DescribeAliasRequest, call: Call) -> Any:
        target = self.engine.describe_alias(call.db, request.alias)
        return milvus_pb2.DescribeAliasResponse(
            db_name=call.db, alias=request.alias, collection=target
        )

    @rpc
    def ListAliases(self, request: milvus_pb2.ListAliasesRequest, call: Call) -> Any:
        names = self.engine.list_aliases(call.db, request.collection_name or None)
        return milvus_pb2.ListAliasesResponse(
            db_name=call.db, collection_name=request.collection_name, aliases=names
        )

    # --- indexes -----------------------------------------------------------------

    @rpc
    def CreateIndex(self, request: milvus_pb2.CreateIndexRequest, call: Call) -> Any:
        spec = index_spec_from_proto(request)
        json_path = spec.params.get("json_path")
        if not spec.index_name and isinstance(json_path, str):
            schema = self.engine.describe_collection(call.db, request.collection_name).schema
            dynamic = schema.get(spec.field_name) is None and schema.enable_dynamic_field
            spec = replace(spec, index_name=json_path_index_name(json_path, dynamic))
        self.engine.create_index(call.db, request.collection_name, spec)

    @rpc
    def DropIndex(self, request: milvus_pb2.DropIndexRequest, call: Call) -> Any:
        name = request.index_name
        if not name:
            names = self.engine.list_indexes(
                call.db, request.collection_name, request.field_name or None
            )
            name = names[0] if names else request.field_name
        self.engine.drop_index(call.db, request.collection_name, name)

    def _index_descriptions(
        self, db: str, collection: str, index_name: str, field_name: str = ""
    ) -> list[milvus_pb2.IndexDescription]:
        if index_name:
            names = [index_name]
        else:
            names = self.engine.list_indexes(db, collection, field_name or None)
        out = []
        for name in names:
            info = self.engine.describe_index(db, collection, name)
            params = index_user_params(info)
            desc = milvus_pb2.IndexDescription(
                index_name=info.index_name,
                indexID=info.index_id,
                field_name=info.field_name,
                indexed_rows=info.indexed_rows,
                total_rows=info.total_rows,
                pending_index_rows=info.pending_index_rows,
                state=_INDEX_STATES.get(info.state, common_pb2.IndexStateNone),
                index_state_fail_reason=info.fail_reason,
            )
            desc.params.extend(kv_pairs(params))
            out.append(desc)
        if not out:
            from elanus.errors import IndexNotFound

            raise IndexNotFound(f"index not found[collection={collection}]")
        return out

    @rpc
    def DescribeIndex(self, request: milvus_pb2.DescribeIndexRequest, call: Call) -> Any:
        reply = milvus_pb2.DescribeIndexResponse()
        reply.index_descriptions.extend(
            self._index_descriptions(
                call.db, request.collection_name, request.index_name, request.field_name
            )
        )
        return reply

    @rpc
    def GetIndexState(self, request: milvus_pb2.GetIndexStateRequest, call: Call) -> Any:
        desc = self._index_descriptions(
            call.db, request.collection_name, request.index_name, request.field_name
        )[0]
        return milvus_pb2.GetIndexStateResponse(
            state=desc.state, fail_reason=desc.index_state_fail_reason
        )

    @rpc
    def GetIndexBuildProgress(
        self, request: milvus_pb2.GetIndexBuildProgressRequest, call: Call
    ) -> Any:
        desc = self._index_descriptions(
            call.db, request.collection_name, request.index_name, request.field_name
        )[0]
        return milvus_pb2.GetIndexBuildProgressResponse(
            indexed_rows=desc.indexed_rows, total_rows=desc.total_rows
        )

    @rpc
    def AlterIndex(self, request: milvus_pb2.AlterIndexRequest, call: Call) -> Any:
        if request.delete_keys and request.extra_params:
            raise ParameterError("cannot provide both DeleteKeys and ExtraParams")
        properties = kv_dict(request.extra_params)
        for key in request.delete_keys:
            properties[key] = ""
        check_index_alter(self.engine, call.db, request.collection_name, properties)
        self.engine.alter_index_properties(
            call.db, request.collection_name, request.index_name, properties
        )
