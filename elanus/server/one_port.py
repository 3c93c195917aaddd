"""One port, two protocols: gRPC and the HTTP app (REST v2, /healthz, /metrics) on
the Milvus port, as Milvus serves them on 19530.

grpcio's Python server cannot adopt a socket accepted elsewhere, so grpcio and
uvicorn listen on private Unix sockets and a relay (``relay.py``) owns the public
port, sending each connection to one of them by its first bytes. The server binds
the port itself (a busy port is its error to report) and hands it to the relay.

The relay runs in a process of its own: in the server's process each relayed
message waited for the GIL behind request threads, up to the interpreter's 5 ms
switch interval at the tail; in its own process the hop costs a few microseconds
at the median (docs/server.md, ``benchmarks/one_port.py``). A pipe ties the relay to
the server: one byte means stop accepting, end of file (the server stopped or
died) means exit.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable

from elanus.errors import StorageError
from elanus.server import relay
from elanus.server.listen import listen_socket

__all__ = ["OnePortListener"]

log = logging.getLogger("elanus.server")


class OnePortListener:
    """The public port, relayed to ``grpc_path`` and ``http_path`` (Unix sockets).

    ``in_process`` runs the relay as threads of this process instead, and ``pump``
    picks how it moves bytes: both exist for the benchmark that compares them.
    """

    def __init__(
        self,
        host: str,
        port: int,
        grpc_path: str,
        http_path: str | None,
        *,
        tls: bool = False,
        pump: str = relay.DEFAULT_PUMP,
        in_process: bool = False,
        log_level: str = "INFO",
    ) -> None:
        if pump not in relay.PUMPS:
            raise ValueError(f"unknown pump {pump!r}")
        self._sock = listen_socket((host, port), f"{host}:{port}")
        self.port = int(self._sock.getsockname()[1])
        self._grpc_path = grpc_path
        self._http_path = http_path
        self._tls = tls
        self._pump = pump
        self._log_level = log_level
        self._in_process: relay.Relay | None = None
        if in_process:
            self._in_process = relay.Relay(self._sock, grpc_path, http_path, tls=tls, pump=pump)
        self._process: subprocess.Popen[bytes] | None = None
        self._control: int | None = None
        self._watch: threading.Thread | None = None
        self._stopping = False
        self._on_failure: Callable[[], None] | None = None
        # The relay exited on its own: the port is closed.
        self.failed = False

    @property
    def relay_pid(self) -> int | None:
        """The relay process's id once started (``None`` in process)."""
        return self._process.pid if self._process is not None else None

    def start(self, on_failure: Callable[[], None] | None = None) -> None:
        """``on_failure`` is called (from a watcher thread) if the relay exits
        before ``stop``: the server then has no Milvus port and should stop."""
        self._on_failure = on_failure
        if self._in_process is not None:
            self._in_process.start()
            return
        control_read, control_write = os.pipe()
        args = [sys.executable, "-I", "-S", relay.__file__]
        args += ["--listen-fd", str(self._sock.fileno()), "--control-fd", str(control_read)]
        args += ["--grpc", self._grpc_path, "--http", self._http_path or ""]
        args += ["--pump", self._pump, "--log-level", self._log_level]
        if self._tls:
            args.append("--tls")
        try:
            self._process = subprocess.Popen(
                args, pass_fds=(self._sock.fileno(), control_read), stdin=subprocess.DEVNULL
            )
        except OSError as exc:
            os.close(control_write)
            raise StorageError(f"cannot start the Milvus port's relay: {exc}") from exc
        finally:
            os.close(control_read)
        self._control = control_write
        # The relay owns the port now; the port closes when it stops accepting.
        self._sock.close()
        self._watch = threading.Thread(target=self._watch_relay, name="elanus-relay-watch")
        self._watch.daemon = True
        self._watch.start()

    def _watch_relay(self) -> None:
        assert self._process is not None
        code = self._process.wait()
        if not self._stopping:
            log.error("the Milvus port's relay exited (status %s): the port is closed", code)
            self.failed = True
            if self._on_failure is not None:
                self._on_failure()

    def stop_accepting(self) -> None:
        """Close the port; connections already relayed carry on."""
        if self._in_process is not None:
            self._in_process.stop_accepting()
        elif self._control is not None:
            try:
                os.write(self._control, b"s")
            except OSError:
                pass

    def stop(self) -> None:
        """Close the port and cut every relayed connection."""
        self._stopping = True
        if self._in_process is not None:
            self._in_process.stop()
            return
        if self._control is not None:
            os.close(self._control)
            self._control = None
        if self._process is not None:
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
