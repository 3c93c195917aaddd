"""The relay behind the one-port listener (``one_port``): routes each connection on
the Milvus port to gRPC or to the HTTP app by its first bytes, then moves bytes.

For each connection it peeks at the first bytes without consuming them
(``MSG_PEEK``) and relays the connection, byte for byte, to the Unix socket of
one server:

- plaintext: the HTTP/2 client preface (``PRI * HTTP/2.0``) goes to gRPC, anything
  else to the HTTP app;
- TLS: the bytes stay encrypted (gRPC and uvicorn each hold the certificate); the
  ClientHello's ALPN list decides: a client that offers only ``h2`` (every gRPC
  client) goes to gRPC, one that offers ``http/1.1`` or nothing (curl, browsers,
  httpx, urllib) to the HTTP app. A plaintext client on a TLS port is told so.

Each connection gets two threads, one per direction, moving bytes with
``os.splice`` through a pipe: the bytes never enter Python and the GIL is released
while a thread waits. pymilvus keeps one long-lived channel, so a thread pair per
connection is cheap.

This module imports only the standard library: ``one_port`` runs it as a script
in a process of its own (``python -I -S relay.py``), so the relay never waits for
the server's GIL; ``benchmarks/one_port.py`` measures why that matters.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from enum import Enum

__all__ = [
    "DEFAULT_PUMP",
    "HTTP2_PREFACE",
    "PUMPS",
    "Relay",
    "Route",
    "classify",
    "client_hello_length",
    "offered_alpn",
]

log = logging.getLogger("elanus.server")

HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_CHUNK = 1 << 16
# A TLS record is at most 16 KiB of payload plus its header.
_MAX_HELLO = 5 + (1 << 14) + 256
_PEEK_PAUSE = 0.001
_REFUSAL_LOG_INTERVAL = 10.0

_PLAINTEXT_ON_TLS = b"this port requires TLS (tlsMode is 1 or 2): connect with TLS\n"
_HTTP_REFUSAL = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    b"Content-Length: " + str(len(_PLAINTEXT_ON_TLS)).encode() + b"\r\n\r\n" + _PLAINTEXT_ON_TLS
)
# An empty SETTINGS frame, then GOAWAY(last stream 0, INADEQUATE_SECURITY, reason).
_GOAWAY_PAYLOAD = (0).to_bytes(4, "big") + (0xC).to_bytes(4, "big") + _PLAINTEXT_ON_TLS
_H2_REFUSAL = (
    b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    + len(_GOAWAY_PAYLOAD).to_bytes(3, "big")
    + b"\x07\x00\x00\x00\x00\x00"
    + _GOAWAY_PAYLOAD
)


# TLS record type of a handshake, the first byte a TLS client sends.
HANDSHAKE_RECORD = 0x16
_CLIENT_HELLO = 0x01
_ALPN_EXTENSION = 0x0010


def client_hello_length(head: bytes) -> int | None:
    """Bytes the first TLS record takes (header included), once its header is in."""
    if len(head) < 5:
        return None
    return 5 + int.from_bytes(head[3:5], "big")


def offered_alpn(record: bytes) -> list[str] | None:
    """Protocols a ClientHello offers by ALPN; ``[]`` when it offers none, ``None``
    when ``record`` is not a whole ClientHello record (the caller then guesses HTTP)."""
    total = client_hello_length(record)
    if total is None or len(record) < total or record[0] != HANDSHAKE_RECORD:
        return None
    body = record[5:total]
    if len(body) < 4 or body[0] != _CLIENT_HELLO:
        return None
    try:
        pos = 4 + 2 + 32  # handshake header, client version, random
        pos += 1 + body[pos]  # session id
        pos += 2 + int.from_bytes(body[pos : pos + 2], "big")  # cipher suites
        pos += 1 + body[pos]  # compression methods
        if pos >= len(body):
            return []
        end = pos + 2 + int.from_bytes(body[pos : pos + 2], "big")
        pos += 2
        while pos + 4 <= end:
            kind = int.from_bytes(body[pos : pos + 2], "big")
            size = int.from_bytes(body[pos + 2 : pos + 4], "big")
            pos += 4
            if kind == _ALPN_EXTENSION:
                names: list[str] = []
                stop = pos + 2 + int.from_bytes(body[pos : pos + 2], "big")
                at = pos + 2
                while at < stop:
                    length = body[at]
                    names.append(body[at + 1 : at + 1 + length].decode("ascii", "replace"))
                    at += 1 + length
                return names
            pos += size
    except IndexError:
        return None
    return []


class Route(Enum):
    GRPC = "grpc"
    HTTP = "http"
    # Plaintext on a TLS port: answered with a refusal, never relayed.
    REFUSE_HTTP = "refuse-http"
    REFUSE_GRPC = "refuse-grpc"
    # TLS on a plaintext port, or nothing sent before the peek timeout.
    DROP = "drop"


def _decide_plaintext(head: bytes, tls: bool) -> Route | None:
    """``None`` while ``head`` could still turn out to be the HTTP/2 preface."""
    if HTTP2_PREFACE.startswith(head) and len(head) < len(HTTP2_PREFACE):
        return None
    grpc = head.startswith(HTTP2_PREFACE)
    if tls:
        return Route.REFUSE_GRPC if grpc else Route.REFUSE_HTTP
    return Route.GRPC if grpc else Route.HTTP


def _decide_tls(record: bytes) -> Route:
    offers = offered_alpn(record)
    if offers and "h2" in offers and "http/1.1" not in offers:
        return Route.GRPC
    return Route.HTTP


def classify(conn: socket.socket, tls: bool, timeout: float) -> Route:
    """Where ``conn`` goes, judged from bytes peeked (left in the socket)."""
    deadline = time.monotonic() + timeout
    conn.settimeout(timeout)
    seen = 0
    while True:
        try:
            head = conn.recv(_MAX_HELLO, socket.MSG_PEEK)
        except OSError:
            return Route.DROP
        if not head:
            return Route.DROP
        if head[0] == HANDSHAKE_RECORD:
            if not tls:
                return Route.DROP
            need = client_hello_length(head)
            if need is not None and len(head) >= min(need, _MAX_HELLO):
                return _decide_tls(head)
        else:
            route = _decide_plaintext(head, tls)
            if route is not None:
                return route
        if time.monotonic() > deadline:
            return Route.HTTP if head[0] == HANDSHAKE_RECORD else Route.DROP
        if len(head) == seen:
            time.sleep(_PEEK_PAUSE)
        seen = len(head)


def _shutdown(sock: socket.socket, how: int) -> None:
    try:
        sock.shutdown(how)
    except OSError:
        pass


def _pump_splice(src: socket.socket, dst: socket.socket) -> None:
    read_end, write_end = os.pipe()
    try:
        source, target = src.fileno(), dst.fileno()
        while True:
            moved = os.splice(source, write_end, _CHUNK)
            if moved == 0:
                break
            while moved > 0:
                moved -= os.splice(read_end, target, moved)
    except OSError:
        _shutdown(src, socket.SHUT_RD)
    finally:
        os.close(read_end)
        os.close(write_end)
        _shutdown(dst, socket.SHUT_WR)


def _pump_copy(src: socket.socket, dst: socket.socket) -> None:
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    try:
        while True:
            size = src.recv_into(buffer)
            if size == 0:
                break
            dst.sendall(view[:size])
    except OSError:
        _shutdown(src, socket.SHUT_RD)
    finally:
        _shutdown(dst, socket.SHUT_WR)


PUMPS: dict[str, Callable[[socket.socket, socket.socket], None]] = {
    "splice": _pump_splice,
    "copy": _pump_copy,
}
# os.splice is Linux's; elsewhere bytes are copied.
DEFAULT_PUMP = "splice" if hasattr(os, "splice") else "copy"


class Relay:
    """Accepts on ``sock`` (already listening) and relays to ``grpc_path`` or
    ``http_path`` (Unix sockets; ``None``: such connections are closed).

    ``pump`` is how bytes move: ``splice`` (kernel to kernel) or ``copy``
    (``recv_into``/``sendall``), kept for the benchmark that compares them.
    """

    def __init__(
        self,
        sock: socket.socket,
        grpc_path: str,
        http_path: str | None,
        *,
        tls: bool = False,
        pump: str = DEFAULT_PUMP,
        peek_timeout: float = 30.0,
    ) -> None:
        self._sock = sock
        self._targets = {Route.GRPC: grpc_path, Route.HTTP: http_path}
        self._tls = tls
        self._pump = PUMPS[pump]
        self._peek_timeout = peek_timeout
        self._live: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._refused = 0
        self._next_refusal_log = 0.0
        self._thread = threading.Thread(target=self._accept_loop, name="elanus-port", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop_accepting(self) -> None:
        """Close the port; connections already relayed carry on."""
        if self._closed:
            return
        self._closed = True
        # shutdown wakes a thread blocked in accept(); close alone does not.
        _shutdown(self._sock, socket.SHUT_RDWR)
        self._sock.close()
        if self._thread.is_alive():
            self._thread.join(5)

    def stop(self) -> None:
        """Close the port and cut every relayed connection."""
        self.stop_accepting()
        with self._lock:
            live = list(self._live)
        for conn in live:
            _shutdown(conn, socket.SHUT_RDWR)

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                if self._closed:
                    return
                time.sleep(0.01)
                continue
            threading.Thread(
                target=self._serve, args=(conn,), name="elanus-relay", daemon=True
            ).start()

    def _track(self, *socks: socket.socket, add: bool) -> None:
        with self._lock:
            for sock in socks:
                if add:
                    self._live.add(sock)
                else:
                    self._live.discard(sock)

    def _serve(self, conn: socket.socket) -> None:
        self._track(conn, add=True)
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            route = classify(conn, self._tls, self._peek_timeout)
            if route in (Route.REFUSE_HTTP, Route.REFUSE_GRPC):
                self._refuse(conn, route)
                return
            target = self._targets.get(route)
            if target is None:
                # TLS on a plaintext port, nothing sent in time, or no HTTP app.
                log.debug("closed a connection routed %s", route.value)
                return
            conn.settimeout(None)
            backend = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                backend.connect(target)
            except OSError as exc:
                log.warning("cannot reach the %s server: %s", route.value, exc)
                backend.close()
                return
            self._track(backend, add=True)
            try:
                back = threading.Thread(
                    target=self._pump, args=(backend, conn), name="elanus-relay", daemon=True
                )
                back.start()
                self._pump(conn, backend)
                back.join()
            finally:
                self._track(backend, add=False)
                backend.close()
        except OSError as exc:
            log.debug("relayed connection ended: %s", exc)
        finally:
            self._track(conn, add=False)
            conn.close()

    def _refuse(self, conn: socket.socket, route: Route) -> None:
        try:
            peer = conn.getpeername()
        except OSError:
            peer = "?"
        now = time.monotonic()
        # A refused gRPC client reconnects at once, again and again: one line per
        # interval, with the count, keeps the log readable.
        self._refused += 1
        if now >= self._next_refusal_log:
            log.warning(
                "refused %d plaintext connection(s), the last from %s: this port requires TLS",
                self._refused,
                peer,
            )
            self._refused = 0
            self._next_refusal_log = now + _REFUSAL_LOG_INTERVAL
        conn.settimeout(2.0)
        try:
            conn.sendall(_H2_REFUSAL if route is Route.REFUSE_GRPC else _HTTP_REFUSAL)
            conn.shutdown(socket.SHUT_WR)
            # Read what the client still sends, so closing does not reset the
            # connection before the client has read the refusal.
            while conn.recv(_CHUNK):
                pass
        except OSError:
            pass


def main(argv: Sequence[str] | None = None) -> int:
    """The relay process: serve the inherited listening socket until the control
    pipe says stop accepting (a byte) or closes (the server is gone: exit)."""
    ap = argparse.ArgumentParser(prog="relay")
    ap.add_argument("--listen-fd", type=int, required=True)
    ap.add_argument("--control-fd", type=int, required=True)
    ap.add_argument("--grpc", required=True)
    ap.add_argument("--http", default="")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--pump", default=DEFAULT_PUMP, choices=sorted(PUMPS))
    ap.add_argument("--log-level", default="INFO")
    args = ap.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, args.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    relay = Relay(
        socket.socket(fileno=args.listen_fd),
        args.grpc,
        args.http or None,
        tls=args.tls,
        pump=args.pump,
    )
    relay.start()
    while True:
        try:
            message = os.read(args.control_fd, 1)
        except InterruptedError:
            continue
        if not message:
            # Connections die with the process; the server has stopped serving them.
            os._exit(0)
        relay.stop_accepting()


if __name__ == "__main__":
    sys.exit(main())
