"""The transport floor: a grpcio server that does no work, driven through pymilvus.

    python -m benchmarks.grpc_floor --port N

Serves ``MilvusService`` with the same grpcio server settings as ``elanus serve``
(thread pool, options) but answers ``Search`` with a reply built once: ten hits,
the shape a real single-query top-10 reply has. A pymilvus ``search`` against it
costs what pymilvus's client side plus grpcio's transport cost, and nothing else;
``server_vs_embedded`` uses it to show how much of a round trip any server could
remove.
"""

from __future__ import annotations

import argparse
import sys
from concurrent import futures
from typing import Any

import grpc
from pymilvus.grpc_gen import common_pb2, milvus_pb2, milvus_pb2_grpc, schema_pb2

from elanus.server.grpc_server import GRPC_OPTIONS


def _top10_reply() -> milvus_pb2.SearchResults:
    reply = milvus_pb2.SearchResults(collection_name="floor")
    reply.status.CopyFrom(common_pb2.Status(code=0))
    data = reply.results
    data.num_queries = 1
    data.top_k = 10
    data.topks.append(10)
    data.ids.int_id.data.extend(range(10))
    data.scores.extend(float(i) for i in range(10))
    data.primary_field_name = "id"
    return reply


class FloorService(milvus_pb2_grpc.MilvusServiceServicer):
    """Answers the RPCs a connect-then-search session sends, doing no work."""

    def __init__(self) -> None:
        self._search = _top10_reply()

    def Connect(self, request: Any, context: Any) -> milvus_pb2.ConnectResponse:
        return milvus_pb2.ConnectResponse(status=common_pb2.Status(code=0))

    def GetVersion(self, request: Any, context: Any) -> milvus_pb2.GetVersionResponse:
        return milvus_pb2.GetVersionResponse(status=common_pb2.Status(code=0), version="floor")

    def Search(self, request: Any, context: Any) -> milvus_pb2.SearchResults:
        return self._search

    def DescribeCollection(self, request: Any, context: Any) -> Any:
        reply = milvus_pb2.DescribeCollectionResponse(status=common_pb2.Status(code=0))
        schema = reply.schema
        schema.name = request.collection_name
        schema.fields.append(
            schema_pb2.FieldSchema(
                fieldID=100, name="id", data_type=schema_pb2.DataType.Int64, is_primary_key=True
            )
        )
        return reply


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.grpc_floor")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workers", type=int, default=32)
    args = ap.parse_args(argv)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers), options=GRPC_OPTIONS)
    milvus_pb2_grpc.add_MilvusServiceServicer_to_server(FloorService(), server)
    server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    print("floor ready", flush=True)
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    sys.exit(main())
