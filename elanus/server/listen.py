"""Listening sockets bound in the caller's thread, so a busy port is an error the
caller sees (``StorageError``) rather than a failure inside a server's thread."""

from __future__ import annotations

import socket

from elanus.errors import StorageError

__all__ = ["listen_socket"]


def listen_socket(address: str | tuple[str, int], label: str) -> socket.socket:
    """Listen on ``address``: a Unix socket path, or ``(host, port)`` for TCP.

    ``label`` names the address in the error raised when it cannot be bound.
    """
    if isinstance(address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose
        # proto says TCP, and without it a response written in two pieces waits
        # ~40 ms for the client's delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if not isinstance(address, str):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise StorageError(
            f"cannot listen on {label}: address in use or invalid ({exc.strerror})"
        ) from exc
    return sock
