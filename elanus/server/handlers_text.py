"""gRPC handlers for text: RunAnalyzer."""

from __future__ import annotations

from typing import Any

from pymilvus.grpc_gen import milvus_pb2

from elanus.engine.api import EngineAPI
from elanus.server.rpc import Call, RpcStats, rpc

__all__ = ["TextHandlers"]


def _token(item: Any) -> milvus_pb2.AnalyzerToken:
    if isinstance(item, str):
        return milvus_pb2.AnalyzerToken(token=item)
    return milvus_pb2.AnalyzerToken(**item)


class TextHandlers:
    engine: EngineAPI
    stats: RpcStats

    @rpc
    def RunAnalyzer(self, request: milvus_pb2.RunAnalyzerRequest, call: Call) -> Any:
        texts = [raw.decode("utf-8") for raw in request.placeholder]
        names = list(request.analyzer_names)
        results = self.engine.run_analyzer(
            texts,
            request.analyzer_params or None,
            with_detail=request.with_detail,
            with_hash=request.with_hash,
            db=call.db,
            collection=request.collection_name or None,
            field=request.field_name or None,
            analyzer_names=(names[0] if len(names) == 1 else names) if names else None,
        )
        reply = milvus_pb2.RunAnalyzerResponse()
        for result in results:
            reply.results.append(
                milvus_pb2.AnalyzerResult(tokens=[_token(t) for t in result.tokens])
            )
        return reply
