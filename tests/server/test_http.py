"""The HTTP port of ``elanus serve``: ``/healthz`` and ``/metrics``."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from conftest import ServerProcess
from pymilvus import MilvusClient

from elanus.errors import StorageError
from elanus.server.http_app import HttpServer, HttpState, render_metrics
from elanus.server.rpc import RpcStats


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.headers["content-type"], reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read().decode()


@pytest.fixture()
def http_server() -> Iterator[HttpServer]:
    server = HttpServer(HttpState(), "127.0.0.1", 0)
    server.start()
    yield server
    server.stop()


def test_health_follows_the_engine_state(http_server: HttpServer) -> None:
    url = f"http://127.0.0.1:{http_server.port}/healthz"
    assert _get(url)[0] == 503  # engine not open yet
    http_server.state.ready = True
    status, _, body = _get(url)
    assert (status, body) == (200, "OK")
    http_server.state.ready = False  # shutting down
    assert _get(url)[0] == 503


def test_metrics_render_rpc_counters() -> None:
    stats = RpcStats()
    stats.observe("Search", 0.25, True)
    stats.observe("Search", 0.5, False)
    stats.observe("Insert", 0.125, True)
    text = render_metrics(HttpState(ready=True, stats=stats))
    assert 'elanus_rpc_requests_total{method="Search",status="success"} 1' in text
    assert 'elanus_rpc_requests_total{method="Search",status="fail"} 1' in text
    assert 'elanus_rpc_requests_total{method="Insert",status="success"} 1' in text
    assert 'elanus_rpc_seconds_total{method="Search"} 0.750000' in text
    assert "elanus_up 1" in text
    assert "# TYPE elanus_rpc_requests_total counter" in text


def test_busy_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StorageError, match="HTTP"):
            HttpServer(HttpState(), "127.0.0.1", port).start()


def test_served_beside_grpc(server: ServerProcess, client: MilvusClient) -> None:
    status, _, body = _get(f"{server.http_url}/healthz")
    assert (status, body) == (200, "OK")
    client.has_collection("anything")
    client.list_collections()
    status, content_type, text = _get(f"{server.http_url}/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    # MilvusClient.has_collection asks DescribeCollection, which fails for a missing name.
    assert 'elanus_rpc_requests_total{method="DescribeCollection",status="fail"}' in text
    assert 'elanus_rpc_requests_total{method="ShowCollections",status="success"}' in text
    assert _get(f"{server.http_url}/nothing-here")[0] == 404
