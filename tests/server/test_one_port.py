"""gRPC and the HTTP app on one port: a real ``elanus serve``, pymilvus and urllib."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import ServerProcess, start_server

from elanus.server.relay import HTTP2_PREFACE, Route, classify, offered_alpn


def _post(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        result: dict[str, Any] = json.loads(reply.read())
    return result


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("one-port"))
    yield proc
    proc.stop()


def test_pymilvus_and_rest_share_the_milvus_port(shared: ServerProcess) -> None:
    from pymilvus import MilvusClient

    client = MilvusClient(uri=shared.uri)
    try:
        client.create_collection("shared_port", dimension=4)
        client.insert("shared_port", [{"id": i, "vector": [float(i), 0, 0, 1]} for i in range(5)])
        base = f"http://127.0.0.1:{shared.port}"
        listed = _post(base, "/v2/vectordb/collections/list", {})
        assert listed["code"] == 0 and "shared_port" in listed["data"]
        found = _post(
            base,
            "/v2/vectordb/entities/search",
            {"collectionName": "shared_port", "data": [[3.0, 0, 0, 1]], "limit": 2},
        )
        # 64-bit keys may come back as JSON text (Accept-Type-Allow-Int64).
        assert found["code"] == 0 and str(found["data"][0]["id"]) == "3"
        hits = client.search("shared_port", data=[[3.0, 0, 0, 1]], limit=2)
        assert hits[0][0]["id"] == 3
    finally:
        client.close()


def test_large_messages_and_concurrent_clients_cross_the_relay_intact(
    shared: ServerProcess,
) -> None:
    import numpy as np
    from pymilvus import MilvusClient

    rng = np.random.default_rng(7)
    vectors = rng.random((4000, 128), dtype=np.float32)
    client = MilvusClient(uri=shared.uri)
    try:
        client.create_collection("relay_bulk", dimension=128)
        # ~2 MB in one request, many splice rounds each way.
        client.insert("relay_bulk", [{"id": i, "vector": v} for i, v in enumerate(vectors)])
        rows = client.query("relay_bulk", filter="id < 4000", output_fields=["vector"])
        assert len(rows) == 4000
        by_id = {row["id"]: row["vector"] for row in rows}
        assert np.allclose(np.array([by_id[i] for i in range(4000)]), vectors)
        base = f"http://127.0.0.1:{shared.port}"

        def rest_count(_: int) -> int:
            reply = _post(
                base,
                "/v2/vectordb/entities/query",
                {"collectionName": "relay_bulk", "filter": "id < 100", "outputFields": ["id"]},
            )
            return len(reply["data"])

        def grpc_hit(i: int) -> int:
            hits = client.search("relay_bulk", data=[vectors[i].tolist()], limit=1)
            return int(hits[0][0]["id"])

        with ThreadPoolExecutor(8) as pool:
            counts = list(pool.map(rest_count, range(16)))
            ids = list(pool.map(grpc_hit, range(16)))
        assert counts == [100] * 16 and ids == list(range(16))
    finally:
        client.close()


def test_health_and_metrics_answer_on_both_ports(shared: ServerProcess) -> None:
    for port in (shared.port, shared.http_port):
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, "OK")
        status, text = _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and "elanus_up 1" in text
    listed = _post(shared.http_url, "/v2/vectordb/collections/list", {})
    assert listed["code"] == 0


def test_a_tls_client_on_a_plaintext_port_is_dropped_and_the_port_keeps_serving(
    shared: ServerProcess,
) -> None:
    context = ssl.create_default_context()
    with (
        socket.create_connection(("127.0.0.1", shared.port), timeout=30) as raw,
        pytest.raises((ssl.SSLError, ConnectionError, OSError)),
    ):
        context.wrap_socket(raw, server_hostname="localhost")
    assert _get(f"http://127.0.0.1:{shared.port}/healthz") == (200, "OK")


def test_sharing_off_leaves_the_port_to_grpc(tmp_path: Path) -> None:
    from pymilvus import MilvusClient

    proc = start_server(tmp_path / "d", extra_args=["--no-rest-on-grpc-port"])
    try:
        assert "rest_on_grpc_port=false" in "".join(proc.stderr)
        client = MilvusClient(uri=proc.uri)
        assert client.list_collections() == []
        client.close()
        # grpcio answers HTTP/1.1 with HTTP/2 frames or a closed connection.
        with pytest.raises((http.client.HTTPException, OSError)):
            urllib.request.urlopen(f"http://127.0.0.1:{proc.port}/healthz", timeout=10)
        assert _get(f"{proc.http_url}/healthz") == (200, "OK")
    finally:
        proc.stop()


def _relay_pids(server_pid: int) -> list[int]:
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return [
        int(pid)
        for pid in children
        if "relay.py" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    ]


def _gone(pid: int, wait: float = 30.0) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":  # exited; its parent (gone too) never reaped it
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_the_relay_process_ends_with_the_server(tmp_path: Path, how: int) -> None:
    proc = start_server(tmp_path / "d")
    relays = _relay_pids(proc.process.pid)
    assert len(relays) == 1
    proc.stop(how)
    assert _gone(relays[0])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", proc.port), timeout=5).close()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_a_server_whose_relay_dies_stops_with_an_error(tmp_path: Path) -> None:
    proc = start_server(tmp_path / "d")
    relays = _relay_pids(proc.process.pid)
    os.kill(relays[0], signal.SIGKILL)
    assert proc.process.wait(timeout=60) == 1
    # The reader thread may still be draining the dead process's stderr.
    deadline = time.monotonic() + 30
    while not any("relay exited" in line for line in proc.stderr):
        assert time.monotonic() < deadline, "".join(proc.stderr)
        time.sleep(0.05)


def _classify_bytes(data: bytes, tls: bool) -> Route:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(data)
        return classify(right, tls, timeout=5.0)


def _client_hello(alpn: list[str] | None) -> bytes:
    """The first bytes a real TLS client sends, from the ssl module."""
    context = ssl.create_default_context()
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def test_the_http2_preface_goes_to_grpc_and_http1_to_the_app() -> None:
    assert _classify_bytes(HTTP2_PREFACE + b"\x00\x00", tls=False) is Route.GRPC
    assert _classify_bytes(b"GET /healthz HTTP/1.1\r\n\r\n", tls=False) is Route.HTTP
    assert _classify_bytes(b"PUT / HTTP/1.0\r\n\r\n", tls=False) is Route.HTTP
    assert _classify_bytes(HTTP2_PREFACE, tls=True) is Route.REFUSE_GRPC
    assert _classify_bytes(b"POST /v2 HTTP/1.1\r\n\r\n", tls=True) is Route.REFUSE_HTTP
    assert _classify_bytes(_client_hello(["h2"]), tls=False) is Route.DROP


def test_tls_clients_are_routed_by_the_protocols_they_offer() -> None:
    assert offered_alpn(_client_hello(["grpc-exp", "h2"])) == ["grpc-exp", "h2"]
    assert offered_alpn(_client_hello(None)) == []
    assert offered_alpn(b"\x16\x03\x01\x00") is None
    assert _classify_bytes(_client_hello(["grpc-exp", "h2"]), tls=True) is Route.GRPC
    assert _classify_bytes(_client_hello(["h2"]), tls=True) is Route.GRPC
    assert _classify_bytes(_client_hello(["h2", "http/1.1"]), tls=True) is Route.HTTP
    assert _classify_bytes(_client_hello(None), tls=True) is Route.HTTP
