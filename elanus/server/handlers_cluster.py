"""gRPC handlers about the deployment: GetMetrics, resource groups, replicas.

Elanus answers them for what it is, one node (``cluster``): Attu's system page,
``list_resource_groups``, ``describe_resource_group`` and ``get_replicas`` then
work, and a request for a layout Elanus does not have is refused by name.
"""

from __future__ import annotations

from typing import Any

import orjson
from pymilvus.grpc_gen import common_pb2, milvus_pb2, rg_pb2

from elanus.engine.api import EngineAPI, LoadState
from elanus.errors import NotSupportedError, ParameterError
from elanus.server.cluster import (
    DEFAULT_RESOURCE_GROUP,
    NODE_ID,
    collection_with_id,
    loaded_collections,
    system_info,
)
from elanus.server.handlers_ddl import SERVER_VERSION
from elanus.server.rpc import Call, RpcStats, rpc

__all__ = ["ClusterHandlers"]


class ClusterHandlers:
    engine: EngineAPI
    stats: RpcStats
    started_at: float

    @rpc
    def GetMetrics(self, request: milvus_pb2.GetMetricsRequest, call: Call) -> Any:
        try:
            asked = orjson.loads(request.request or "{}")
        except orjson.JSONDecodeError:
            raise ParameterError(f"invalid metric request: {request.request!r}") from None
        kind = asked.get("metric_type") if isinstance(asked, dict) else None
        if kind != "system_info":
            raise NotSupportedError(f"not supported by Elanus: metric type {kind!r}")
        info = system_info(self.started_at, SERVER_VERSION, self.engine.data_dir)
        return milvus_pb2.GetMetricsResponse(
            response=orjson.dumps(info).decode(), component_name=f"proxy{NODE_ID}"
        )

    @rpc
    def ListResourceGroups(self, request: Any, call: Call) -> Any:
        return milvus_pb2.ListResourceGroupsResponse(resource_groups=[DEFAULT_RESOURCE_GROUP])

    @rpc
    def DescribeResourceGroup(
        self, request: milvus_pb2.DescribeResourceGroupRequest, call: Call
    ) -> Any:
        if request.resource_group != DEFAULT_RESOURCE_GROUP:
            raise ParameterError(f"resource group not found[rg={request.resource_group}]")
        group = milvus_pb2.ResourceGroup(
            name=DEFAULT_RESOURCE_GROUP,
            capacity=1,
            num_available_node=1,
            config=rg_pb2.ResourceGroupConfig(
                requests=rg_pb2.ResourceGroupLimit(node_num=1),
                limits=rg_pb2.ResourceGroupLimit(node_num=1),
            ),
            nodes=[common_pb2.NodeInfo(node_id=NODE_ID, address="localhost", hostname="elanus")],
        )
        for name, replicas in loaded_collections(self.engine).items():
            group.num_loaded_replica[name] = replicas
        return milvus_pb2.DescribeResourceGroupResponse(resource_group=group)

    @rpc
    def GetReplicas(self, request: milvus_pb2.GetReplicasRequest, call: Call) -> Any:
        db = request.db_name or call.db
        name = request.collection_name
        if not name:
            wanted = int(request.collectionID)
            name = collection_with_id(self.engine, db, wanted) or ""
            if not name:
                raise ParameterError(f"collection not found[collection={wanted}]")
        info = self.engine.describe_collection(db, name)
        reply = milvus_pb2.GetReplicasResponse()
        if self.engine.get_load_state(db, name) != LoadState.LOADED:
            return reply
        partitions = [p.partition_id for p in self.engine.list_partitions(db, name)]
        replica = milvus_pb2.ReplicaInfo(
            replicaID=info.collection_id,
            collectionID=info.collection_id,
            partition_ids=partitions,
            node_ids=[NODE_ID],
            resource_group_name=DEFAULT_RESOURCE_GROUP,
        )
        if request.with_shard_nodes:
            for shard in range(max(info.num_shards, 1)):
                replica.shard_replicas.append(
                    milvus_pb2.ShardReplica(
                        leaderID=NODE_ID,
                        leader_addr="localhost",
                        dm_channel_name=f"elanus-dml_{shard}_{info.collection_id}v{shard}",
                        node_ids=[NODE_ID],
                    )
                )
        reply.replicas.append(replica)
        return reply
