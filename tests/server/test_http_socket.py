"""The HTTP port's listening socket says it is TCP, so asyncio turns Nagle off on
every accepted connection (a response in two writes otherwise waits for the
client's delayed ACK, ~40 ms: benchmarks/one_port.py showed it on REST search)."""

from __future__ import annotations

import socket

from elanus.server.http_app import HttpServer, HttpState


def test_the_http_listening_socket_is_tcp_for_asyncio_to_set_nodelay() -> None:
    server = HttpServer(HttpState(), "127.0.0.1", 0)
    sock = server._bind()
    try:
        assert sock.proto == socket.IPPROTO_TCP
        client = socket.create_connection(sock.getsockname(), timeout=10)
        accepted, _ = sock.accept()
        with client, accepted:
            # What asyncio's _set_nodelay checks before setting TCP_NODELAY.
            assert accepted.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
