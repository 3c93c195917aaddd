"""TLS as Milvus configures it (tlsMode 1 and 2): real pymilvus and urllib against a
real ``elanus serve``, over certificates made for each test run."""

from __future__ import annotations

import json
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
from conftest import ServerProcess, start_server

from elanus.errors import ParameterError
from elanus.server.config import load_config
from elanus.server.tls import load_tls


@dataclass(frozen=True)
class Certs:
    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    folder = tmp_path_factory.mktemp("certs")
    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    client = ca.issue_cert("elanus-test-client")
    paths = Certs(*(str(folder / name) for name in ("ca.pem", "s.pem", "s.key", "c.pem", "c.key")))
    ca.cert_pem.write_to_path(paths.ca)
    server.cert_chain_pems[0].write_to_path(paths.server_cert)
    server.private_key_pem.write_to_path(paths.server_key)
    client.cert_chain_pems[0].write_to_path(paths.client_cert)
    client.private_key_pem.write_to_path(paths.client_key)
    return paths


def _tls_args(certs: Certs, mode: int) -> list[str]:
    args = ["--tls-mode", str(mode), "--tls-cert", certs.server_cert, "--tls-key", certs.server_key]
    return args + (["--tls-ca", certs.ca] if mode == 2 else [])


def _uri(proc: ServerProcess) -> str:
    return f"https://127.0.0.1:{proc.port}"


def _https(proc: ServerProcess, certs: Certs, path: str, client_cert: bool = False) -> Any:
    context = ssl.create_default_context(cafile=certs.ca)
    if client_cert:
        context.load_cert_chain(certs.client_cert, certs.client_key)
    body = None if path == "/healthz" else b"{}"
    request = urllib.request.Request(f"{_uri(proc)}{path}", data=body)
    with urllib.request.urlopen(request, timeout=30, context=context) as reply:
        text = reply.read().decode()
    return text if path == "/healthz" else json.loads(text)


@pytest.fixture(scope="module")
def one_way(tmp_path_factory: pytest.TempPathFactory, certs: Certs) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("tls1"), extra_args=_tls_args(certs, 1))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def mutual(tmp_path_factory: pytest.TempPathFactory, certs: Certs) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("tls2"), extra_args=_tls_args(certs, 2))
    yield proc
    proc.stop()


def _client(proc: ServerProcess, certs: Certs, client_cert: bool = False) -> Any:
    """pymilvus over TLS to ``proc``, with the client certificate for mutual TLS."""
    from pymilvus import MilvusClient

    if client_cert:
        return MilvusClient(
            uri=_uri(proc),
            secure=True,
            client_pem_path=certs.client_cert,
            client_key_path=certs.client_key,
            ca_pem_path=certs.ca,
            server_name="localhost",
        )
    return MilvusClient(
        uri=_uri(proc), secure=True, server_pem_path=certs.ca, server_name="localhost"
    )


def _round_trip(client: Any, name: str) -> None:
    client.create_collection(name, dimension=2)
    client.insert(name, [{"id": i, "vector": [float(i), 1.0]} for i in range(4)])
    assert client.search(name, data=[[2.0, 1.0]], limit=1)[0][0]["id"] == 2


def test_pymilvus_with_the_server_certificate_talks_one_way_tls(
    one_way: ServerProcess, certs: Certs
) -> None:
    client = _client(one_way, certs)
    try:
        _round_trip(client, "over_tls")
    finally:
        client.close()
    listed = _https(one_way, certs, "/v2/vectordb/collections/list")
    assert listed["code"] == 0 and "over_tls" in listed["data"]
    assert _https(one_way, certs, "/healthz") == "OK"


def test_the_http_port_stays_plaintext_for_probes_and_carries_no_data(
    one_way: ServerProcess,
) -> None:
    with urllib.request.urlopen(f"{one_way.http_url}/healthz", timeout=30) as reply:
        assert reply.read() == b"OK"
    request = urllib.request.Request(f"{one_way.http_url}/v2/vectordb/collections/list", b"{}")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 404


def test_a_plaintext_client_is_told_to_use_tls_and_the_server_keeps_serving(
    one_way: ServerProcess, certs: Certs
) -> None:
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    # "localhost", not the address the TLS clients use: pymilvus shares one
    # channel between clients of the same address, whatever their TLS settings.
    with pytest.raises(MilvusException):
        MilvusClient(uri=f"http://localhost:{one_way.port}", timeout=3).list_collections()
    with socket.create_connection(("127.0.0.1", one_way.port), timeout=30) as raw:
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = b""
        while chunk := raw.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400") and b"requires TLS" in reply
    assert any("requires TLS" in line for line in one_way.stderr)
    assert _https(one_way, certs, "/healthz") == "OK"
    client = _client(one_way, certs)
    assert "over_tls" in client.list_collections()
    client.close()


def test_mutual_tls_admits_a_client_certificate_signed_by_the_ca(
    mutual: ServerProcess, certs: Certs
) -> None:
    client = _client(mutual, certs, client_cert=True)
    try:
        _round_trip(client, "over_mtls")
    finally:
        client.close()
    listed = _https(mutual, certs, "/v2/vectordb/collections/list", client_cert=True)
    assert listed["code"] == 0 and "over_mtls" in listed["data"]


def test_mutual_tls_refuses_a_client_without_a_certificate(
    mutual: ServerProcess, certs: Certs
) -> None:
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    # "localhost": a channel of its own (pymilvus shares one per address).
    with pytest.raises(MilvusException):
        MilvusClient(
            uri=f"https://localhost:{mutual.port}",
            secure=True,
            server_pem_path=certs.ca,
            server_name="localhost",
            timeout=3,
        ).list_collections()
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        _https(mutual, certs, "/healthz")
    assert _https(mutual, certs, "/healthz", client_cert=True) == "OK"


def test_tls_without_port_sharing_is_grpcio_alone(tmp_path: Path, certs: Certs) -> None:
    proc = start_server(tmp_path / "d", extra_args=[*_tls_args(certs, 2), "--no-rest-on-grpc-port"])
    try:
        client = _client(proc, certs, client_cert=True)
        assert client.list_collections() == []
        client.close()
    finally:
        proc.stop()


def test_tls_settings_come_from_milvus_yaml_keys(tmp_path: Path, certs: Certs) -> None:
    path = tmp_path / "milvus.yaml"
    path.write_text(
        "common:\n  security:\n    tlsMode: 2\n    internaltlsEnabled: false\n"
        f"tls:\n  serverPemPath: {certs.server_cert}\n  serverKeyPath: {certs.server_key}\n"
        f"  caPemPath: {certs.ca}\n"
        "internaltls:\n  serverPemPath: /nowhere.pem\n"
    )
    config = load_config(path, env={})
    assert (config.tls_mode, config.tls_cert, config.tls_key, config.tls_ca) == (
        2,
        certs.server_cert,
        certs.server_key,
        certs.ca,
    )
    env = {"ELANUS_TLS_MODE": "1", "ELANUS_TLS_CERT": "/a.pem", "ELANUS_TLS_KEY": "/a.key"}
    assert load_config(env=env).tls_mode == 1
    path.write_text("common:\n  security:\n    internaltlsEnabled: true\n")
    with pytest.raises(ParameterError, match="internaltlsEnabled is not supported"):
        load_config(path, env={})


def test_bad_tls_settings_are_refused_before_serving(tmp_path: Path, certs: Certs) -> None:
    with pytest.raises(ParameterError, match="invalid tlsMode 3"):
        load_tls(3, certs.server_cert, certs.server_key, "")
    with pytest.raises(ParameterError, match=r"tls\.serverPemPath"):
        load_tls(1, "", certs.server_key, "")
    with pytest.raises(ParameterError, match=r"tls\.caPemPath"):
        load_tls(2, certs.server_cert, certs.server_key, "")
    with pytest.raises(ParameterError, match="do not load"):
        load_tls(1, certs.client_cert, certs.server_key, "")
    with pytest.raises(ParameterError, match="cannot read"):
        load_tls(1, str(tmp_path / "missing.pem"), certs.server_key, "")
    with pytest.raises(RuntimeError, match=r"tls\.serverKeyPath"):
        start_server(tmp_path / "d", extra_args=["--tls-mode", "1", "--tls-cert", certs.ca])
