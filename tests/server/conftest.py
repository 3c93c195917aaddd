"""A real ``elanus serve`` process on a free loopback port, driven by pymilvus."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

READY = "elanus ready"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One ``elanus serve`` subprocess; ``stderr`` collects its log lines."""

    data_dir: Path
    port: int
    http_port: int
    process: subprocess.Popen[str]
    stderr: list[str] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def start_server(
    data_dir: Path,
    port: int | None = None,
    timeout: float = 60.0,
    extra_args: Sequence[str] = (),
) -> ServerProcess:
    """``extra_args`` are more ``elanus serve`` flags (TLS, port sharing)."""
    port = port or free_port()
    http_port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "elanus.cli",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--http-port",
            str(http_port),
            "--host",
            "127.0.0.1",
            "--max-workers",
            "8",
            *extra_args,
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    server = ServerProcess(data_dir, port, http_port, process)
    ready = threading.Event()

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            server.stderr.append(line)
            if READY in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.05):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("elanus serve did not start:\n" + "".join(server.stderr))
    return server


def _engine_available() -> bool:
    try:
        from elanus.engine.engine import Engine  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def unused_port() -> Callable[[], int]:
    """A function giving a free loopback port."""
    return free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if not _engine_available():
        pytest.skip("engine not built yet")
    proc = start_server(tmp_path_factory.mktemp("elanus-data"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[object]:
    from pymilvus import MilvusClient

    milvus = MilvusClient(uri=server.uri)
    yield milvus
    milvus.close()
