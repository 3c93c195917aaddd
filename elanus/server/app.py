"""Running ``elanus serve``: open the engine, serve, shut down cleanly on a signal.

Shutdown order matters: first stop taking requests and let in-flight ones finish,
then close the engine (flushes data and releases the data directory's lock).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from types import FrameType

from elanus.engine.api import EngineAPI
from elanus.server.auth import prepare_authorization
from elanus.server.config import ServerConfig
from elanus.server.grpc_server import GrpcServer
from elanus.server.http_app import HttpServer, HttpState
from elanus.server.one_port import OnePortListener
from elanus.server.tls import TlsSettings, grpc_server_credentials, load_tls, uvicorn_ssl_options

__all__ = ["open_engine", "serve"]

log = logging.getLogger("elanus.server")

READY_MESSAGE = (
    "elanus ready: grpc={host}:{port} http={host}:{http_port} data_dir={data_dir} "
    "rest_on_grpc_port={shared} tls_mode={tls_mode}"
)


def open_engine(data_dir: str, *, sync: bool = True, scrub_interval: float = 0.0) -> EngineAPI:
    from elanus.engine.engine import Engine

    engine: EngineAPI = Engine.open(data_dir, sync=sync, scrub_interval=scrub_interval)
    return engine


def configure_logging(level: str) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


class MilvusPort:
    """What listens on the Milvus port: grpcio alone, or (``rest_on_grpc_port``)
    the one-port listener in front of grpcio and the HTTP app on private Unix
    sockets in a directory only this user can enter."""

    def __init__(
        self, engine: EngineAPI, config: ServerConfig, http_state: HttpState, tls: TlsSettings | None
    ) -> None:
        credentials = grpc_server_credentials(tls) if tls is not None else None
        self.front: OnePortListener | None = None
        self.inner_http: HttpServer | None = None
        self._sockets_dir: str | None = None
        if not config.rest_on_grpc_port:
            self.grpc = GrpcServer(engine, config, credentials=credentials)
            self.port = self.grpc.port
            return
        self._sockets_dir = tempfile.mkdtemp(prefix="elanus-")
        grpc_path = os.path.join(self._sockets_dir, "grpc.sock")
        http_path = os.path.join(self._sockets_dir, "http.sock")
        try:
            self.grpc = GrpcServer(
                engine, config, address=f"unix:{grpc_path}", credentials=credentials
            )
            self.inner_http = HttpServer(
                http_state,
                config.host,
                0,
                unix_path=http_path,
                ssl_options=uvicorn_ssl_options(tls) if tls is not None else None,
            )
            self.front = OnePortListener(
                config.host,
                config.port,
                grpc_path,
                http_path,
                tls=tls is not None,
                log_level=config.log_level,
            )
        except BaseException:
            self._remove_sockets()
            raise
        self.port = self.front.port

    def start(self, on_failure: Callable[[], None]) -> None:
        """``on_failure``: the port closed on its own (the relay died)."""
        self.grpc.start()
        if self.inner_http is not None:
            self.inner_http.start()
        if self.front is not None:
            self.front.start(on_failure)

    @property
    def failed(self) -> bool:
        return self.front is not None and self.front.failed

    def stop(self) -> None:
        """New connections refused first, then in-flight requests get the grace."""
        if self.front is not None:
            self.front.stop_accepting()
        self.grpc.stop()
        if self.inner_http is not None:
            self.inner_http.stop()
        if self.front is not None:
            self.front.stop()
        self._remove_sockets()

    def _remove_sockets(self) -> None:
        if self._sockets_dir is not None:
            shutil.rmtree(self._sockets_dir, ignore_errors=True)


def serve(
    config: ServerConfig,
    *,
    engine_factory: Callable[[str], EngineAPI] | None = None,
    stop_event: threading.Event | None = None,
) -> int:
    """Serve until SIGTERM/SIGINT (or ``stop_event``); returns the exit status.
    ``engine_factory`` opens the data directory (default: ``open_engine`` with the
    config's fsync setting)."""
    configure_logging(config.log_level)
    tls = load_tls(config.tls_mode, config.tls_cert, config.tls_key, config.tls_ca)
    # The HTTP port opens first so health checks are answered (503) during recovery.
    # With TLS on it stays plaintext for probes and carries no data: REST is then
    # served over TLS on the Milvus port only.
    http_state = HttpState()
    http = HttpServer(http_state, config.host, config.http_port, rest=tls is None)
    http.start()
    try:
        if engine_factory is None:
            engine = open_engine(
                config.data_dir, sync=config.fsync, scrub_interval=config.scrub_interval
            )
        else:
            engine = engine_factory(config.data_dir)
    except BaseException:
        http.stop()
        raise
    try:
        prepare_authorization(
            engine, config.authorization_enabled, config.default_root_password
        )
        server = MilvusPort(engine, config, http_state, tls)
    except BaseException:
        engine.close()
        http.stop()
        raise
    if tls is not None and not config.rest_on_grpc_port:
        log.warning("REST is not served: with TLS on it is served on the Milvus port only")
    http_state.stats = server.grpc.service.stats
    http_state.engine = engine
    stop = stop_event or threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    server.start(on_failure=stop.set)
    http_state.ready = True
    print(
        READY_MESSAGE.format(
            host=config.host,
            port=server.port,
            http_port=http.port,
            data_dir=config.data_dir,
            shared=str(config.rest_on_grpc_port).lower(),
            tls_mode=config.tls_mode,
        ),
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        http_state.ready = False
        log.info("stopping gRPC server (grace %.0fs)", config.shutdown_grace)
        server.stop()
        log.info("closing engine")
        engine.close()
        http.stop()
        log.info("stopped")
    # A supervisor should restart a server whose port died under it.
    return 1 if server.failed else 0
