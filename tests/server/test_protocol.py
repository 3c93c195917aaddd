"""The protocol layer: an in-process server over a real engine, driven by pymilvus.
Checks connection, health, "not supported" answers, error codes, the wire ⇄
column conversions, and that stopping lets in-flight requests finish."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from pymilvus import DataType as PyDataType
from pymilvus import MilvusClient, MilvusException
from pymilvus.grpc_gen import milvus_pb2, milvus_pb2_grpc

from elanus.engine.api import DEFAULT_DATABASE, CollectionInfo
from elanus.engine.engine import Engine
from elanus.engine.requests import WriteResult
from elanus.schema import CollectionSchema, DataType, FieldSchema
from elanus.server.config import ServerConfig
from elanus.server.grpc_server import GrpcServer
from elanus.server.service import supported_rpcs

SCHEMA = CollectionSchema(
    fields=(
        FieldSchema("id", DataType.INT64, is_primary=True, field_id=100),
        FieldSchema("title", DataType.VARCHAR, params={"max_length": 64}, field_id=101),
        FieldSchema("score", DataType.FLOAT, nullable=True, field_id=102),
        FieldSchema(
            "tags",
            DataType.ARRAY,
            element_type=DataType.INT64,
            params={"max_capacity": 8},
            field_id=103,
        ),
        FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 4}, field_id=104),
    ),
    enable_dynamic_field=True,
)


class RecordingEngine(Engine):
    """The real engine, also keeping the columns each insert receives."""

    inserted: list[tuple[dict[str, Any], int]]

    def insert(
        self,
        db: str,
        collection: str,
        columns: dict[str, Any],
        num_rows: int,
        partition: str | None = None,
    ) -> WriteResult:
        self.inserted.append((dict(columns), num_rows))
        return super().insert(db, collection, columns, num_rows, partition)


def open_recording(path: Path) -> RecordingEngine:
    engine = RecordingEngine.open(str(path), sync=False)
    assert isinstance(engine, RecordingEngine)
    engine.inserted = []
    engine.create_collection(DEFAULT_DATABASE, "books", SCHEMA)
    return engine


@pytest.fixture(scope="module")
def stub(
    unused_port: Callable[[], int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RecordingEngine, str]]:
    engine = open_recording(tmp_path_factory.mktemp("protocol"))
    server = GrpcServer(engine, ServerConfig(port=unused_port(), max_workers=4))
    server.start()
    yield engine, f"http://127.0.0.1:{server.port}"
    server.stop(grace=1)
    engine.close()


def test_connect_and_version(stub: tuple[RecordingEngine, str]) -> None:
    client = MilvusClient(uri=stub[1])
    assert "elanus" in client.get_server_version()
    client.close()


def test_check_health_answers(stub: tuple[RecordingEngine, str]) -> None:
    import grpc

    address = stub[1].removeprefix("http://")
    with grpc.insecure_channel(address) as channel:
        reply = milvus_pb2_grpc.MilvusServiceStub(channel).CheckHealth(
            milvus_pb2.CheckHealthRequest()
        )
    assert reply.isHealthy and reply.status.code == 0


def test_unsupported_rpc_says_so(stub: tuple[RecordingEngine, str]) -> None:
    client = MilvusClient(uri=stub[1])
    with pytest.raises(MilvusException) as info:
        client.create_resource_group("alice")
    assert "not supported by Elanus: CreateResourceGroup" in info.value.message
    client.close()


def test_every_rpc_is_either_handled_or_refused() -> None:
    from elanus.server.service import ElanusMilvusService

    names = [m for m in dir(milvus_pb2_grpc.MilvusServiceServicer) if m[0].isupper()]
    for name in names:
        assert getattr(ElanusMilvusService, name) is not getattr(
            milvus_pb2_grpc.MilvusServiceServicer, name
        ), name
    assert {"Search", "Insert", "Query", "CreateCollection"} <= set(supported_rpcs())


def test_not_found_maps_to_milvus_code(stub: tuple[RecordingEngine, str]) -> None:
    client = MilvusClient(uri=stub[1])
    assert client.has_collection("nope") is False
    with pytest.raises(MilvusException) as info:
        client.describe_collection("nope")
    assert info.value.code == 100
    client.create_database("dup")
    with pytest.raises(MilvusException) as info:
        client.create_database("dup")
    assert info.value.code == 65535
    assert info.value.message == "database already exist: dup"
    with pytest.raises(MilvusException) as info:
        client.query("books", filter="id >")
    assert info.value.code == 1100
    client.close()


def test_describe_collection_shape(stub: tuple[RecordingEngine, str]) -> None:
    client = MilvusClient(uri=stub[1])
    desc = client.describe_collection("books")
    client.close()
    assert desc["collection_name"] == "books"
    assert desc["enable_dynamic_field"] is True
    names = [f["name"] for f in desc["fields"]]
    assert names == ["id", "title", "score", "tags", "vec"]
    vec = desc["fields"][4]
    assert vec["params"] == {"dim": 4} and vec["type"] == PyDataType.FLOAT_VECTOR
    assert desc["fields"][0]["is_primary"] is True


def test_insert_rows_arrive_as_columns(stub: tuple[RecordingEngine, str]) -> None:
    engine, uri = stub
    client = MilvusClient(uri=uri)
    rows = [
        {
            "id": 1,
            "title": "a",
            "score": 0.5,
            "tags": [1, 2],
            "vec": [0.1, 0.2, 0.3, 0.4],
            "color": "red",
        },
        {"id": 2, "title": "b", "score": None, "tags": [], "vec": [1.0, 2.0, 3.0, 4.0]},
    ]
    result = client.insert("books", rows)
    client.close()
    assert result["insert_count"] == 2 and list(result["ids"]) == [1, 2]
    columns, num_rows = engine.inserted[-1]
    assert num_rows == 2
    assert columns["id"].type == pa.int64() and columns["id"].to_pylist() == [1, 2]
    assert columns["title"].to_pylist() == ["a", "b"]
    assert columns["score"].to_pylist() == [0.5, None]
    assert columns["tags"].to_pylist() == [[1, 2], []]
    np.testing.assert_allclose(
        columns["vec"], np.array([[0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4]], np.float32)
    )
    assert columns["vec"].dtype == np.float32
    import json

    assert [json.loads(t) for t in columns["$meta"].to_pylist()] == [{"color": "red"}, {}]


def test_server_stop_waits_for_in_flight_requests(
    unused_port: Callable[[], int], tmp_path: Path
) -> None:
    started = threading.Event()

    class Slow(RecordingEngine):
        """Holds each describe long enough for the stop to begin meanwhile."""

        def describe_collection(self, db: str, name: str) -> CollectionInfo:
            started.set()
            time.sleep(0.5)
            return super().describe_collection(db, name)

    engine = Slow.open(str(tmp_path), sync=False)
    engine.create_collection(DEFAULT_DATABASE, "books", SCHEMA)
    server = GrpcServer(engine, ServerConfig(port=unused_port(), max_workers=2))
    server.start()
    client = MilvusClient(uri=f"http://127.0.0.1:{server.port}")
    out: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: out.setdefault("d", client.describe_collection("books"))
    )
    worker.start()
    started.wait(5)
    server.stop(grace=5)
    worker.join(5)
    client.close()
    engine.close()
    assert out["d"]["collection_name"] == "books"
