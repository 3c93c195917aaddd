"""gRPC answers about the deployment (metrics, resource groups, replicas) and the
index description shapes SDKs read, through real pymilvus."""

from __future__ import annotations

import json
from typing import Any

from conftest import ServerProcess
from pymilvus.grpc_gen import milvus_pb2

DIM = 8


def test_index_description_carries_the_nested_params_entry(
    server: ServerProcess, client: Any
) -> None:
    from pymilvus import Collection, connections

    client.create_collection("cl_index", dimension=DIM, metric_type="L2")
    client.release_collection("cl_index")
    client.drop_index("cl_index", "vector")
    params = client.prepare_index_params()
    params.add_index(
        "vector", index_type="HNSW", metric_type="L2", params={"M": 16, "efConstruction": 200}
    )
    client.create_index("cl_index", params)
    described = client.describe_index("cl_index", "vector")
    assert described["params"] == {"M": 16, "efConstruction": 200}
    assert described["index_type"] == "HNSW" and described["metric_type"] == "L2"
    connections.connect("cl_orm", uri=server.uri)
    try:
        index = Collection("cl_index", using="cl_orm").indexes[0].to_dict()
    finally:
        connections.disconnect("cl_orm")
    assert index["index_param"]["params"] == {"M": 16, "efConstruction": 200}
    assert index["index_param"]["index_type"] == "HNSW"


def test_metrics_resource_groups_and_replicas_describe_one_node(
    server: ServerProcess, client: Any
) -> None:
    client.create_collection("cl_loaded", dimension=DIM)
    assert client.list_resource_groups() == ["__default_resource_group"]
    group = client.describe_resource_group("__default_resource_group")
    assert group.num_available_node == 1 and group.num_loaded_replica["cl_loaded"] == 1

    stub = client._get_connection()._stub
    reply = stub.GetMetrics(milvus_pb2.GetMetricsRequest(request='{"metric_type": "system_info"}'))
    assert reply.status.code == 0
    nodes = json.loads(reply.response)["nodes_info"]
    assert len(nodes) == 1 and nodes[0]["infos"]["system_info"]["deploy_mode"] == "STANDALONE"
    other = stub.GetMetrics(milvus_pb2.GetMetricsRequest(request='{"metric_type": "bogus"}'))
    assert other.status.code != 0 and "not supported by Elanus" in other.status.reason

    replicas = stub.GetReplicas(
        milvus_pb2.GetReplicasRequest(collection_name="cl_loaded", with_shard_nodes=True)
    )
    assert replicas.status.code == 0 and len(replicas.replicas) == 1
    replica = replicas.replicas[0]
    assert replica.resource_group_name == "__default_resource_group"
    assert list(replica.node_ids) == [1] and replica.shard_replicas[0].leaderID == 1
    client.release_collection("cl_loaded")
    released = stub.GetReplicas(milvus_pb2.GetReplicasRequest(collection_name="cl_loaded"))
    assert released.status.code == 0 and len(released.replicas) == 0
