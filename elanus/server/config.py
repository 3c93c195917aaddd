"""Server settings: defaults < YAML file < environment < command line.

The YAML file uses the keys of Milvus's ``milvus.yaml`` where they mean the same
thing (``proxy.port``, ``proxy.http.port``, ``localStorage.path``, ``log.level``),
so an existing file needs no renaming; Elanus's own keys live under ``elanus:``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from elanus.errors import ParameterError

__all__ = ["ServerConfig", "load_config"]


@dataclass(frozen=True)
class ServerConfig:
    data_dir: str = "./elanus-data"
    host: str = "127.0.0.1"
    port: int = 19530
    http_port: int = 9091
    # Request threads; searches release the GIL in FAISS/NumPy, so more threads
    # than cores keeps a slow search from stalling writes.
    max_workers: int = 32
    log_level: str = "INFO"
    # Seconds in-flight requests get to finish on shutdown.
    shutdown_grace: float = 30.0
    # fsync the write-ahead log before acknowledging each write. Off, an
    # acknowledged write survives a crash of the process but not of the machine.
    fsync: bool = True
    # Seconds between background checks of every sealed file against its checksum
    # (docs/storage.md, "Checksums"); 0 checks only when a file is loaded.
    scrub_interval: float = 0.0
    # Milvus's common.security.authorizationEnabled: users, passwords and RBAC
    # (docs/security.md). Once on for a data directory it stays on.
    authorization_enabled: bool = False
    # root's password when root is first created (Milvus's default: "Milvus").
    default_root_password: str = "Milvus"
    # Serve the HTTP app (REST v2, /healthz, /metrics) on the gRPC port too, as
    # Milvus does; off, gRPC owns the port alone (docs/server.md has the cost).
    rest_on_grpc_port: bool = True
    # Milvus's common.security.tlsMode: 0 off, 1 one-way, 2 mutual (docs/security.md).
    tls_mode: int = 0
    tls_cert: str = ""
    tls_key: str = ""
    tls_ca: str = ""
    # Milvus's common.security.internaltlsEnabled: read only to refuse it.
    internal_tls: bool = False

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


# (dotted YAML key, config attribute); Milvus's names first.
_YAML_KEYS: tuple[tuple[str, str], ...] = (
    ("proxy.port", "port"),
    ("proxy.http.port", "http_port"),
    ("localStorage.path", "data_dir"),
    ("log.level", "log_level"),
    ("proxy.ip", "host"),
    ("elanus.dataDir", "data_dir"),
    ("elanus.host", "host"),
    ("elanus.port", "port"),
    ("elanus.httpPort", "http_port"),
    ("elanus.maxWorkers", "max_workers"),
    ("elanus.shutdownGrace", "shutdown_grace"),
    ("elanus.fsync", "fsync"),
    ("elanus.scrubInterval", "scrub_interval"),
    ("common.security.authorizationEnabled", "authorization_enabled"),
    ("common.security.defaultRootPassword", "default_root_password"),
    ("elanus.restOnGrpcPort", "rest_on_grpc_port"),
    ("common.security.tlsMode", "tls_mode"),
    ("tls.serverPemPath", "tls_cert"),
    ("tls.serverKeyPath", "tls_key"),
    ("tls.caPemPath", "tls_ca"),
    ("common.security.internaltlsEnabled", "internal_tls"),
)

_ENV_KEYS: tuple[tuple[str, str], ...] = (
    ("ELANUS_DATA_DIR", "data_dir"),
    ("ELANUS_HOST", "host"),
    ("ELANUS_PORT", "port"),
    ("ELANUS_HTTP_PORT", "http_port"),
    ("ELANUS_MAX_WORKERS", "max_workers"),
    ("ELANUS_LOG_LEVEL", "log_level"),
    ("ELANUS_SHUTDOWN_GRACE", "shutdown_grace"),
    ("ELANUS_FSYNC", "fsync"),
    ("ELANUS_SCRUB_INTERVAL", "scrub_interval"),
    ("ELANUS_AUTH", "authorization_enabled"),
    ("ELANUS_REST_ON_GRPC_PORT", "rest_on_grpc_port"),
    ("ELANUS_TLS_MODE", "tls_mode"),
    ("ELANUS_TLS_CERT", "tls_cert"),
    ("ELANUS_TLS_KEY", "tls_key"),
    ("ELANUS_TLS_CA", "tls_ca"),
)

_TYPES = {f.name: f.type for f in fields(ServerConfig)}
_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True}
_BOOLEANS.update({"false": False, "0": False, "no": False, "off": False})


def _coerce(attr: str, value: Any, source: str) -> Any:
    kind = _TYPES[attr]
    if kind == "bool":
        if isinstance(value, bool):
            return value
        flag = _BOOLEANS.get(str(value).strip().lower())
        if flag is None:
            raise ParameterError(
                f"invalid value {value!r} for {attr} in {source}: expected true or false"
            )
        return flag
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ParameterError(f"invalid value {value!r} for {attr} in {source}") from None


def _lookup(tree: Mapping[str, Any], dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return None if isinstance(node, Mapping) else node


def load_config(
    config_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ServerConfig:
    """Merge defaults, the YAML file, ``ELANUS_*`` variables and explicit overrides
    (command-line flags; ``None`` values mean "not given")."""
    config = ServerConfig()
    changes: dict[str, Any] = {}
    if config_file is not None:
        path = Path(config_file)
        try:
            tree = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ParameterError(f"cannot read config file {path}: {exc}") from None
        if not isinstance(tree, Mapping):
            raise ParameterError(f"config file {path} must hold a mapping")
        for dotted, attr in _YAML_KEYS:
            value = _lookup(tree, dotted)
            if value is not None:
                changes[attr] = _coerce(attr, value, str(path))
    environ = os.environ if env is None else env
    for name, attr in _ENV_KEYS:
        if environ.get(name):
            changes[attr] = _coerce(attr, environ[name], name)
    for attr, value in (overrides or {}).items():
        if value is not None:
            changes[attr] = _coerce(attr, value, "command line")
    config = replace(config, **changes)
    if config.internal_tls:
        raise ParameterError(
            "common.security.internaltlsEnabled is not supported by Elanus: one process "
            "has no internal connections to encrypt (tlsMode covers clients)"
        )
    return config
