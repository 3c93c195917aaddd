"""TLS for ``elanus serve``, configured as Milvus configures it.

``common.security.tlsMode``: 0 plaintext, 1 one-way (the server proves who it is),
2 mutual (clients must present a certificate signed by ``tls.caPemPath``). The
certificate files are ``tls.serverPemPath`` and ``tls.serverKeyPath``. Files are
read and checked once, at startup, so a bad path stops the server with a clear
error instead of failing each handshake.

The one-port listener routes TLS connections without decrypting them: it reads
the ALPN list in the client's ClientHello (``relay.offered_alpn``) and hands the
still encrypted bytes to gRPC or to the HTTP app, each of which holds the
certificate.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from elanus.errors import ParameterError

__all__ = [
    "TLS_MODES",
    "TlsSettings",
    "grpc_server_credentials",
    "load_tls",
    "uvicorn_ssl_options",
]

TLS_MODES = (0, 1, 2)


@dataclass(frozen=True)
class TlsSettings:
    """Checked TLS material: PEM bytes, not paths, so nothing is read twice."""

    mode: int
    cert_path: str
    key_path: str
    ca_path: str
    cert_pem: bytes
    key_pem: bytes
    ca_pem: bytes | None

    @property
    def mutual(self) -> bool:
        return self.mode == 2


def _read_pem(path: str, what: str, key: str) -> bytes:
    if not path:
        raise ParameterError(f"TLS is on but {what} is not set ({key})")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ParameterError(f"cannot read {what} {path!r} ({key}): {exc.strerror}") from None
    if b"-----BEGIN" not in data:
        raise ParameterError(f"{what} {path!r} ({key}) is not a PEM file")
    return data


def load_tls(mode: int, cert_path: str, key_path: str, ca_path: str) -> TlsSettings | None:
    """``None`` for mode 0; otherwise the files read and checked as a pair."""
    if mode not in TLS_MODES:
        raise ParameterError(
            f"invalid tlsMode {mode}: 0 (no TLS), 1 (one-way) or 2 (mutual) "
            "(common.security.tlsMode)"
        )
    if mode == 0:
        return None
    cert = _read_pem(cert_path, "the server certificate", "tls.serverPemPath")
    key = _read_pem(key_path, "the server key", "tls.serverKeyPath")
    ca = _read_pem(ca_path, "the CA certificate", "tls.caPemPath") if mode == 2 else None
    # The same check a handshake would make, done once with a readable error.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert_path, key_path)
        if ca is not None:
            context.load_verify_locations(cafile=ca_path)
    except (ssl.SSLError, ValueError) as exc:
        raise ParameterError(
            f"TLS files do not load: {exc} (tls.serverPemPath={cert_path!r}, "
            f"tls.serverKeyPath={key_path!r}"
            + (f", tls.caPemPath={ca_path!r})" if ca is not None else ")")
        ) from None
    return TlsSettings(mode, cert_path, key_path, ca_path, cert, key, ca)


def grpc_server_credentials(tls: TlsSettings) -> grpc.ServerCredentials:
    return grpc.ssl_server_credentials(
        [(tls.key_pem, tls.cert_pem)],
        root_certificates=tls.ca_pem,
        require_client_auth=tls.mutual,
    )


def uvicorn_ssl_options(tls: TlsSettings) -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.Config`` for the same certificate and mode."""
    options: dict[str, Any] = {"ssl_certfile": tls.cert_path, "ssl_keyfile": tls.key_path}
    if tls.mutual:
        options["ssl_ca_certs"] = tls.ca_path
        options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
    return options
