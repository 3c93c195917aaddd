"""The HTTP port of ``elanus serve``: ``/healthz``, ``/metrics`` and REST v2 (``rest_app``).

Starlette on uvicorn, run in a thread beside the gRPC server (docs/server.md says
why). The port opens before the engine does, so a health check gets an answer
while the data directory is still being recovered: 503 until the engine is open,
200 "OK" while serving, 503 again once shutdown starts.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from elanus.errors import StorageError
from elanus.server.listen import listen_socket
from elanus.server.rest_app import rest_routes
from elanus.server.rest_auth import RestAuthMiddleware
from elanus.server.rpc import RpcStats

__all__ = ["HttpServer", "HttpState", "create_http_app", "render_metrics"]

_PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class HttpState:
    """What the HTTP endpoints report; the server fills it in as it starts and stops."""

    ready: bool = False
    stats: RpcStats | None = None
    # The engine REST calls, set once it is open (an EngineAPI).
    engine: Any = None
    started_at: float = field(default_factory=time.time)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_metrics(state: HttpState) -> str:
    """Prometheus text exposition of the per-RPC counters of ``RpcStats``."""
    lines = [
        "# HELP elanus_up 1 while the engine is open and requests are served.",
        "# TYPE elanus_up gauge",
        f"elanus_up {1 if state.ready else 0}",
        "# HELP elanus_uptime_seconds Seconds since the process started serving.",
        "# TYPE elanus_uptime_seconds gauge",
        f"elanus_uptime_seconds {time.time() - state.started_at:.3f}",
    ]
    stats = state.stats
    calls = dict(stats.calls) if stats else {}
    errors = dict(stats.errors) if stats else {}
    seconds = dict(stats.seconds) if stats else {}
    lines += [
        "# HELP elanus_rpc_requests_total gRPC requests answered, by method and outcome.",
        "# TYPE elanus_rpc_requests_total counter",
    ]
    for name in sorted(calls):
        failed = errors.get(name, 0)
        method = _label(name)
        lines.append(
            f'elanus_rpc_requests_total{{method="{method}",status="success"}} '
            f"{calls[name] - failed}"
        )
        lines.append(f'elanus_rpc_requests_total{{method="{method}",status="fail"}} {failed}')
    lines += [
        "# HELP elanus_rpc_seconds_total Seconds spent answering gRPC requests, by method.",
        "# TYPE elanus_rpc_seconds_total counter",
    ]
    for name in sorted(seconds):
        lines.append(f'elanus_rpc_seconds_total{{method="{_label(name)}"}} {seconds[name]:.6f}')
    return "\n".join(lines) + "\n"


def create_http_app(state: HttpState, *, rest: bool = True) -> Starlette:
    """``rest=False`` leaves only /healthz and /metrics (the plaintext probe port of
    a TLS server, which must not carry data)."""

    async def healthz(request: Request) -> Response:
        if state.ready:
            return PlainTextResponse("OK")
        return PlainTextResponse("not ready", status_code=503)

    async def metrics(request: Request) -> Response:
        return Response(render_metrics(state), media_type=_PROMETHEUS_TEXT)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/metrics", metrics, methods=["GET"]),
            *(rest_routes(lambda: state.engine) if rest else []),
        ],
        middleware=[Middleware(RestAuthMiddleware, engine_of=lambda: state.engine)],
    )


class HttpServer:
    """uvicorn serving the app on ``host:port`` (or the Unix socket ``unix_path``,
    behind the one-port listener) from a daemon thread; ``ssl_options`` are
    uvicorn's TLS settings (``tls.uvicorn_ssl_options``)."""

    def __init__(
        self,
        state: HttpState,
        host: str,
        port: int,
        *,
        unix_path: str | None = None,
        rest: bool = True,
        ssl_options: dict[str, Any] | None = None,
    ) -> None:
        self.state = state
        self.address = unix_path or f"{host}:{port}"
        self._unix_path = unix_path
        config = uvicorn.Config(
            create_http_app(state, rest=rest),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            **(ssl_options or {}),
        )
        self._server = uvicorn.Server(config)
        self._host = host
        self._thread: threading.Thread | None = None
        self.port = port

    def _bind(self) -> socket.socket:
        address = self._unix_path or (self._host, self.port)
        return listen_socket(address, f"{self.address} (HTTP)")

    def start(self, timeout: float = 10.0) -> None:
        """Listen, or raise ``StorageError`` if the port cannot be bound."""
        sock = self._bind()
        if self._unix_path is None:
            self.port = int(sock.getsockname()[1])
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="elanus-http", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise StorageError(f"cannot serve HTTP on {self.address}: the server did not start")
            time.sleep(0.01)

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)
