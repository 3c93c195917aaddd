"""Running ``elanus serve``: open the engine, serve, shut down cleanly on a signal.

Shutdown order matters: first stop taking requests and let in-flight ones finish,
then close the engine (flushes data and releases the data directory's lock).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from elanus.engine.api import EngineAPI
from elanus.server.auth import prepare_authorization
from elanus.server.config import ServerConfig
from elanus.server.grpc_server import GrpcServer
from elanus.server.http_app import HttpServer, HttpState

__all__ = ["open_engine", "serve"]

log = logging.getLogger("elanus.server")

READY_MESSAGE = "elanus ready: grpc={host}:{port} http={host}:{http_port} data_dir={data_dir}"


def open_engine(data_dir: str, *, sync: bool = True) -> EngineAPI:
    from elanus.engine.engine import Engine

    engine: EngineAPI = Engine.open(data_dir, sync=sync)
    return engine


def configure_logging(level: str) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


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
    # The HTTP port opens first so health checks are answered (503) during recovery.
    http_state = HttpState()
    http = HttpServer(http_state, config.host, config.http_port)
    http.start()
    try:
        if engine_factory is None:
            engine = open_engine(config.data_dir, sync=config.fsync)
        else:
            engine = engine_factory(config.data_dir)
    except BaseException:
        http.stop()
        raise
    try:
        prepare_authorization(
            engine, config.authorization_enabled, config.default_root_password
        )
        server = GrpcServer(engine, config)
    except BaseException:
        engine.close()
        http.stop()
        raise
    http_state.stats = server.service.stats
    http_state.engine = engine
    stop = stop_event or threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    server.start()
    http_state.ready = True
    print(
        READY_MESSAGE.format(
            host=config.host, port=server.port, http_port=http.port, data_dir=config.data_dir
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
    return 0
