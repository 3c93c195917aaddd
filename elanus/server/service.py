"""The MilvusService servicer: the handlers, plus a clear "not supported by Elanus"
answer for every other RPC of the service (generated from the service descriptor,
so new RPCs in pymilvus's protos are covered without code here)."""

from __future__ import annotations

import time

from pymilvus.grpc_gen import milvus_pb2_grpc

from elanus.engine.api import EngineAPI
from elanus.server.auth import Doorkeeper
from elanus.server.handlers_cluster import ClusterHandlers
from elanus.server.handlers_data import DataHandlers
from elanus.server.handlers_ddl import DefinitionHandlers
from elanus.server.handlers_rbac import SecurityHandlers
from elanus.server.handlers_text import TextHandlers
from elanus.server.rpc import RpcStats, rpc_names, unsupported

__all__ = ["ElanusMilvusService", "supported_rpcs"]


class ElanusMilvusService(
    DefinitionHandlers,
    DataHandlers,
    TextHandlers,
    SecurityHandlers,
    ClusterHandlers,
    milvus_pb2_grpc.MilvusServiceServicer,
):
    def __init__(self, engine: EngineAPI) -> None:
        self.engine = engine
        self.doorkeeper = Doorkeeper()
        self.stats = RpcStats()
        self.started_at = time.time()


def _implemented(name: str) -> bool:
    handlers = (DefinitionHandlers, DataHandlers, TextHandlers, SecurityHandlers, ClusterHandlers)
    return any(name in vars(base) for base in handlers)


def supported_rpcs() -> list[str]:
    return [name for name in rpc_names() if _implemented(name)]


for _name in rpc_names():
    if not _implemented(_name):
        setattr(ElanusMilvusService, _name, unsupported(_name))
