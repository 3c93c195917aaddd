"""The gRPC server: a thread pool serving MilvusService over the engine."""

from __future__ import annotations

import logging
from concurrent import futures

import grpc
from pymilvus.grpc_gen import milvus_pb2_grpc

from elanus.engine.api import EngineAPI
from elanus.errors import StorageError
from elanus.server.config import ServerConfig
from elanus.server.service import ElanusMilvusService

__all__ = ["GRPC_OPTIONS", "GrpcServer"]

log = logging.getLogger("elanus.server")

_UNLIMITED = -1

GRPC_OPTIONS: list[tuple[str, int]] = [
    ("grpc.max_send_message_length", _UNLIMITED),
    ("grpc.max_receive_message_length", _UNLIMITED),
    ("grpc.so_reuseport", 0),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 5000),
]


class GrpcServer:
    """Binds ``address`` (default ``config.host:config.port``; a ``unix:`` path
    behind the one-port listener), with TLS when ``credentials`` are given;
    ``stop`` lets in-flight requests finish."""

    def __init__(
        self,
        engine: EngineAPI,
        config: ServerConfig,
        *,
        address: str | None = None,
        credentials: grpc.ServerCredentials | None = None,
    ) -> None:
        self.config = config
        self.service = ElanusMilvusService(engine)
        self._server = grpc.server(
            futures.ThreadPoolExecutor(
                max_workers=config.max_workers, thread_name_prefix="elanus-grpc"
            ),
            options=GRPC_OPTIONS,
            maximum_concurrent_rpcs=None,
        )
        milvus_pb2_grpc.add_MilvusServiceServicer_to_server(self.service, self._server)
        address = address or config.address
        if credentials is None:
            self.port = self._server.add_insecure_port(address)
        else:
            self.port = self._server.add_secure_port(address, credentials)
        if self.port == 0:
            raise StorageError(f"cannot listen on {address}: address in use or invalid")

    def start(self) -> None:
        self._server.start()

    def stop(self, grace: float | None = None) -> None:
        """Refuse new requests, wait up to ``grace`` seconds for in-flight ones."""
        event = self._server.stop(self.config.shutdown_grace if grace is None else grace)
        event.wait()

    def wait(self, timeout: float | None = None) -> bool:
        return bool(self._server.wait_for_termination(timeout))
