"""Random and mutated gRPC requests, and the rule every one obeys: the service answers
with a Milvus status (success or a Milvus error code), never an internal error, and
the reply can be sent.

Seeds are real requests: pymilvus drives a scenario (create, insert, index, load,
search, query, hybrid search, delete, upsert) against an in-process gRPC server
that records each request's bytes. Fuzzing replays the scenario into a fresh
service, then sends mutants of the seeds to the service's handlers in-process:
fields set to random values of their type (strings from a vocabulary of names,
filters and garbage; integers at the int64 edges), or bytes of the serialized
request flipped, inserted or cut.
"""

from __future__ import annotations

import random
import struct
import sys
import tempfile
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from pymilvus import AnnSearchRequest, DataType, MilvusClient, RRFRanker
from pymilvus.grpc_gen import common_pb2, milvus_pb2_grpc, schema_pb2

from elanus.engine.engine import Engine
from elanus.server.service import ElanusMilvusService

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "expr"))
from filter_fuzz_inputs import filter_text  # noqa: E402

__all__ = ["Fuzzer", "Seed", "record_seeds"]

COLLECTION = "fz"
_INTERNAL = 5  # InternalError's code: what a handler bug is answered with


@dataclass(frozen=True)
class Seed:
    method: str
    payload: bytes


class _Recorder:
    """Stands in for the servicer: records every request, then lets the service answer."""

    def __init__(self, service: ElanusMilvusService) -> None:
        self.service = service
        self.seeds: list[Seed] = []

    def __getattr__(self, name: str) -> Any:
        handler = getattr(self.service, name)

        def record(request: Message, context: grpc.ServicerContext) -> Any:
            self.seeds.append(Seed(name, request.SerializeToString()))
            return handler(request, context)

        return record


def _scenario(client: MilvusClient) -> None:
    schema = client.create_schema(enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=4)
    schema.add_field("s", DataType.VARCHAR, max_length=16, nullable=True)
    schema.add_field("meta", DataType.JSON, nullable=True)
    schema.add_field("tags", DataType.ARRAY, element_type=DataType.INT64, max_capacity=4)
    schema.add_field("f", DataType.FLOAT)
    schema.add_field("b", DataType.BOOL)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection(COLLECTION, schema=schema, index_params=index)
    rows = [
        {
            "id": i,
            "vec": [float(i), 1.0, 0.5, -1.0],
            "s": None if i % 5 == 0 else f"s{i}",
            "meta": {"k": i % 3, "arr": [i, "x"]},
            "tags": [i % 4, 1],
            "f": i / 4,
            "b": i % 2 == 0,
            "color": ["red", "blue"][i % 2],
        }
        for i in range(12)
    ]
    client.insert(COLLECTION, rows)
    client.upsert(COLLECTION, rows[:2])
    client.flush(COLLECTION)
    client.load_collection(COLLECTION)
    client.search(
        COLLECTION,
        [[0.5, 1.0, 0.0, 0.0]],
        limit=3,
        filter='meta["k"] == {k} and s like "s%"',
        filter_params={"k": 1},
        output_fields=["s", "meta", "color"],
        search_params={"metric_type": "L2", "params": {}},
    )
    client.search(COLLECTION, [[0.0] * 4, [1.0] * 4], limit=2, group_by_field="b")
    client.query(COLLECTION, filter="id in {ids}", filter_params={"ids": [1, 2]})
    client.query(COLLECTION, filter="tags[0] > 1", output_fields=["*"], limit=5, offset=1)
    client.query(COLLECTION, ids=[3, 4], output_fields=["id"])
    requests = [
        AnnSearchRequest([[0.1, 0.2, 0.3, 0.4]], "vec", {"metric_type": "L2"}, 2, expr="f > 1")
    ]
    client.hybrid_search(COLLECTION, requests, RRFRanker(), limit=2)
    client.delete(COLLECTION, filter="id == 11")
    client.delete(COLLECTION, ids=[10])
    client.describe_collection(COLLECTION)
    client.get_collection_stats(COLLECTION)
    client.list_indexes(COLLECTION)
    client.create_partition(COLLECTION, "p1")


def record_seeds(workdir: Path) -> list[Seed]:
    """The requests pymilvus sends for ``_scenario``, in order."""
    engine = Engine.open(str(workdir / "seeds"), sync=False)
    recorder = _Recorder(ElanusMilvusService(engine))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    milvus_pb2_grpc.add_MilvusServiceServicer_to_server(recorder, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        client = MilvusClient(uri=f"http://127.0.0.1:{port}")
        try:
            _scenario(client)
        finally:
            client.close()
    finally:
        server.stop(None).wait()
        engine.close()
    return recorder.seeds


# -- random values ------------------------------------------------------------------

NAMES = [COLLECTION, "id", "vec", "s", "meta", "tags", "f", "b", "color", "p1", "_default"]
NAMES += ["", "nope", "x" * 300, "1bad", "a-b", "\u00e9", "$meta", "default", "count(*)", "*"]
KV_KEYS = ["anns_field", "topk", "params", "metric_type", "round_decimal", "offset", "limit"]
KV_KEYS += ["ignore_growing", "group_by_field", "group_size", "iterator", "radius", "nq", "dim"]
KV_KEYS += ["max_length", "element_type", "max_capacity", "index_type", "nlist", "M"]
KV_VALUES = ["vec", "10", "0", "-1", "16385", "L2", "IP", "COSINE", "true", "maybe", "{}", "["]
KV_VALUES += ['{"nprobe": 10}', '{"ef": -5}', '{"radius": "x"}', "1e400", "9223372036854775808"]
KV_VALUES += ["FLAT", "HNSW", "IVF_FLAT", "INVERTED", "4", "65536", "\u00e9", ""]
INTS = [0, 1, -1, 2, 4, 7, 100, 16384, 16385, 2**31 - 1, 2**31, 2**32, 2**53 + 1]
INT64_EDGES = [2**63 - 1, -(2**63)]
FLOATS = [0.0, -0.0, 1.5, 1e300, -1e38, float("inf"), float("-inf"), float("nan")]


def random_string(rng: random.Random, field: str) -> str:
    if field in ("expr", "dsl") or rng.random() < 0.05:
        # protobuf strings are UTF-8: a lone surrogate cannot travel on the wire
        return filter_text(rng).encode("utf-8", "replace").decode("utf-8")
    if field in ("key", "name") and rng.random() < 0.5:
        return rng.choice(KV_KEYS)
    if field == "value" and rng.random() < 0.6:
        return rng.choice(KV_VALUES)
    if rng.random() < 0.7:
        return rng.choice(NAMES + KV_VALUES)
    return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(12)))


def random_bytes(rng: random.Random, field: str) -> bytes:
    if field == "placeholder_group" and rng.random() < 0.8:
        return _placeholder_group(rng)
    if field == "schema" and rng.random() < 0.8:
        message = schema_pb2.CollectionSchema()
        fill_random(rng, message, 0)
        return message.SerializeToString()
    if rng.random() < 0.5:
        count = rng.choice([1, 3, 4, 8, 16])
        return struct.pack(f"<{count}f", *(rng.uniform(-1, 1) for _ in range(count)))
    return rng.randbytes(rng.randrange(24))


def _placeholder_group(rng: random.Random) -> bytes:
    kind = rng.choice([101, 100, 104, 21, 5, 0, 999])
    dim = rng.choice([4, 4, 4, 3, 0, 8])
    values = []
    for _ in range(rng.randrange(3)):
        if kind == 21:
            values.append(rng.choice(["hello", "", "\u00e9"]).encode())
        elif kind == 104:
            values.append(rng.randbytes(rng.choice([0, 5, 8, 12])))
        else:
            values.append(struct.pack(f"<{dim}f", *(rng.uniform(-2, 2) for _ in range(dim))))
    placeholder = common_pb2.PlaceholderValue(tag="$0", type=kind, values=values)
    return common_pb2.PlaceholderGroup(placeholders=[placeholder]).SerializeToString()


def _scalar(rng: random.Random, field: FieldDescriptor) -> Any:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return random_string(rng, field.name)
    if kind == FieldDescriptor.TYPE_BYTES:
        return random_bytes(rng, field.name)
    if kind == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        value = rng.choice(FLOATS)
        return max(min(value, 3e38), -3e38) if kind == FieldDescriptor.TYPE_FLOAT else value
    if kind == FieldDescriptor.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        return rng.choice(numbers + [max(numbers) + 1000])
    unsigned = kind in (
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
    )
    wide = kind in (
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
    )
    value = rng.choice(INTS + (INT64_EDGES if wide else []))
    if unsigned:
        value = abs(value) if wide else abs(value) % 2**32
    elif not wide:
        value = max(min(value, 2**31 - 1), -(2**31))
    return value


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def set_random(rng: random.Random, message: Message, field: FieldDescriptor, depth: int) -> None:
    """Give ``field`` of ``message`` a random value (a few, when repeated)."""
    if _is_map(field):
        target = getattr(message, field.name)
        value_field = field.message_type.fields_by_name["value"]
        for _ in range(rng.randrange(3)):
            key = rng.choice(["k", "ids", "p", ""])
            if value_field.message_type is not None:
                fill_random(rng, target[key], depth + 1)
            else:
                target[key] = _scalar(rng, value_field)
        return
    repeated = field.is_repeated
    if field.message_type is not None:
        if repeated:
            container = getattr(message, field.name)
            for _ in range(rng.randrange(4)):
                fill_random(rng, container.add(), depth + 1)
        else:
            fill_random(rng, getattr(message, field.name), depth + 1)
        return
    if repeated:
        container = getattr(message, field.name)
        container.extend(_scalar(rng, field) for _ in range(rng.randrange(6)))
    else:
        setattr(message, field.name, _scalar(rng, field))


def fill_random(rng: random.Random, message: Message, depth: int) -> None:
    """Set some fields of ``message`` at random (fewer the deeper it is)."""
    fields = list(message.DESCRIPTOR.fields)
    if depth > 5 or not fields:
        message.SetInParent()
        return
    for field in rng.sample(fields, min(len(fields), rng.randrange(1, 5))):
        set_random(rng, message, field, depth)


def _submessages(message: Message) -> list[Message]:
    found = [message]
    for field, value in message.ListFields():
        if field.message_type is None or _is_map(field):
            continue
        if field.is_repeated:
            for item in value:
                found.extend(_submessages(item))
        else:
            found.extend(_submessages(value))
    return found


def mutate_fields(rng: random.Random, message: Message) -> None:
    """Set, clear or replace a few fields anywhere in the message tree."""
    for _ in range(rng.randrange(1, 4)):
        target = rng.choice(_submessages(message))
        fields = list(target.DESCRIPTOR.fields)
        if not fields:
            continue
        field = rng.choice(fields)
        if rng.random() < 0.2:
            target.ClearField(field.name)
        elif field.is_repeated and not _is_map(field):
            container = getattr(target, field.name)
            if len(container) and rng.random() < 0.5:
                del container[rng.randrange(len(container))]
            else:
                set_random(rng, target, field, 3)
        else:
            if field.message_type is not None and not _is_map(field):
                target.ClearField(field.name)
            set_random(rng, target, field, 3)


def mutate_bytes(rng: random.Random, payload: bytes) -> bytes:
    data = bytearray(payload)
    for _ in range(rng.randrange(1, 6)):
        pos = rng.randrange(len(data) + 1)
        action = rng.randrange(4)
        if action == 0 and data:
            data[min(pos, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif action == 1:
            data[pos:pos] = rng.randbytes(rng.randrange(1, 4))
        elif action == 2:
            del data[pos : pos + rng.randrange(1, 8)]
        elif data:
            data[min(pos, len(data) - 1)] = rng.choice([0x00, 0x7F, 0x80, 0xFF])
    return bytes(data)


# -- the service under test -----------------------------------------------------------


class Fuzzer:
    """A fresh engine and service with the scenario's data, answering mutants."""

    def __init__(self, seeds: list[Seed], workdir: Path | None = None) -> None:
        self.seeds = seeds
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="elanus-fuzz-")
            workdir = Path(self._tmp.name)
        self.workdir = workdir
        self.engine = Engine.open(str(workdir / "data"), sync=False)
        self.service = ElanusMilvusService(self.engine)
        for seed in seeds:
            self.call(seed.method, self.decode(seed.method, seed.payload))

    def close(self) -> None:
        self.engine.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    @staticmethod
    def decode(method: str, payload: bytes) -> Message | None:
        request_type = _request_types()[method]
        try:
            return request_type.FromString(payload)
        except DecodeError:
            return None  # grpc refuses it before any handler runs

    def call(self, method: str, request: Message) -> Message:
        reply: Message = getattr(self.service, method)(request, None)
        reply.SerializeToString()  # what grpc does next: it must not fail
        return reply

    def mutant(self, rng: random.Random) -> tuple[str, Message | None]:
        seed = rng.choice(self.seeds)
        if rng.random() < 0.35:
            return seed.method, self.decode(seed.method, mutate_bytes(rng, seed.payload))
        request = self.decode(seed.method, seed.payload)
        assert request is not None
        if rng.random() < 0.1:
            request.Clear()
            fill_random(rng, request, 0)
        else:
            mutate_fields(rng, request)
        return seed.method, request

    def check(self, method: str, request: Message) -> str:
        """Send one request: "ok", "refused" (a Milvus error status), or raise."""
        if method == "DropCollection" or method == "DropPartition":
            return "skipped"  # would empty the state the next inputs need
        reply = self.call(method, request)
        status = reply if isinstance(reply, common_pb2.Status) else reply.status
        if status.code == _INTERNAL and "internal error" in status.reason:
            raise AssertionError(f"{method}: {status.reason}\nrequest: {request}"[:4000])
        return "ok" if status.code == 0 and status.error_code == 0 else "refused"


def _request_types() -> dict[str, type[Message]]:
    if not _REQUEST_TYPES:
        from google.protobuf import message_factory
        from pymilvus.grpc_gen import milvus_pb2

        service = milvus_pb2.DESCRIPTOR.services_by_name["MilvusService"]
        for method in service.methods:
            _REQUEST_TYPES[method.name] = message_factory.GetMessageClass(method.input_type)
    return _REQUEST_TYPES


_REQUEST_TYPES: dict[str, type[Message]] = {}
