"""One engine per data directory per process, shared by every client on it.

Two ``MilvusClient("./demo.db")`` in one process must see the same data, and
the data directory's file lock admits one engine per process; so engines are
opened once, counted, and closed when the last client closes.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any

from elanus.engine.api import EngineAPI
from elanus.errors import NotSupportedError

__all__ = ["acquire", "data_dir_of", "release"]

_lock = threading.Lock()
_open: dict[str, tuple[EngineAPI, int]] = {}

_REMOTE_SCHEMES = ("http://", "https://", "tcp://", "grpc://", "unix:")


def data_dir_of(uri: str) -> str:
    """The absolute data directory a local ``uri`` names."""
    if not isinstance(uri, str) or not uri:
        raise NotSupportedError(f"uri must be a local path, got {uri!r}")
    lowered = uri.lower()
    if lowered.startswith(_REMOTE_SCHEMES):
        raise NotSupportedError(
            f"the embedded MilvusClient opens local paths only; for {uri} use pymilvus.MilvusClient"
        )
    if lowered.startswith("file://"):
        uri = uri[len("file://") :]
    return str(Path(uri).expanduser().resolve())


def _open_engine(path: str, options: dict[str, Any]) -> EngineAPI:
    module = importlib.import_module("elanus.engine.engine")
    engine: EngineAPI = module.Engine.open(path, **options)
    return engine


def acquire(path: str, options: dict[str, Any] | None = None) -> EngineAPI:
    with _lock:
        held = _open.get(path)
        if held is not None:
            _open[path] = (held[0], held[1] + 1)
            return held[0]
        engine = _open_engine(path, options or {})
        _open[path] = (engine, 1)
        return engine


def release(path: str) -> None:
    with _lock:
        held = _open.get(path)
        if held is None:
            return
        engine, count = held
        if count > 1:
            _open[path] = (engine, count - 1)
            return
        del _open[path]
    engine.close()
