"""Fuzzing gRPC request decoding: random and mutated requests (fields set to random
values, serialized bytes flipped) get a Milvus status, success or a Milvus error,
never an internal error; a real server answers every one and keeps serving.
``scripts/fuzz.py grpc`` runs the same check over many more inputs."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from conftest import ServerProcess
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymilvus import MilvusClient
from pymilvus.grpc_gen import common_pb2, schema_pb2
from request_fuzz_inputs import Fuzzer, Seed, mutate_bytes, record_seeds

from elanus.server.rpc import reply_type

_INTERNAL = 5


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[Seed]:
    return record_seeds(tmp_path_factory.mktemp("seeds"))


@pytest.fixture(scope="module")
def fuzzer(seeds: list[Seed], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzer]:
    fuzzer = Fuzzer(seeds, tmp_path_factory.mktemp("fuzz"))
    yield fuzzer
    fuzzer.close()


def test_the_seed_scenario_covers_the_data_and_schema_requests(seeds: list[Seed]) -> None:
    methods = {seed.method for seed in seeds}
    assert {"CreateCollection", "Insert", "Upsert", "Search", "Query", "Delete"} <= methods
    assert "HybridSearch" in methods


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.randoms(use_true_random=False))
def test_mutated_requests_get_a_milvus_status(fuzzer: Fuzzer, rng: random.Random) -> None:
    method, request = fuzzer.mutant(rng)
    if request is not None:  # bytes that do not decode never reach a handler
        assert fuzzer.check(method, request) in ("ok", "refused", "skipped")


# -- the leaks the fuzzer found, one request each ---------------------------------------


def _seed(fuzzer: Fuzzer, method: str) -> object:
    seed = next(s for s in fuzzer.seeds if s.method == method)
    return fuzzer.decode(method, seed.payload)


def _corrupt_schema(request: object) -> None:
    request.schema = b"\x0a\xff\xff"  # type: ignore[attr-defined]


def _wide_shards(request: object) -> None:
    request.collection_name = "many_shards"  # type: ignore[attr-defined]
    request.shards_num = 2**31 - 1  # type: ignore[attr-defined]


def _unknown_field_type(request: object) -> None:
    request.fields_data[0].type = 201  # type: ignore[attr-defined]


def _bad_json(request: object) -> None:
    fd = next(f for f in request.fields_data if f.field_name == "meta")  # type: ignore[attr-defined]
    fd.scalars.json_data.data[0] = b"\xff\xfe{"


def _bad_dynamic_json(request: object) -> None:
    fd = next(f for f in request.fields_data if f.is_dynamic)  # type: ignore[attr-defined]
    fd.scalars.json_data.data[0] = b'{"a" 1}'


def _timestamp_array(request: object) -> None:
    fd = next(f for f in request.fields_data if f.field_name == "tags")  # type: ignore[attr-defined]
    fd.scalars.array_data.element_type = schema_pb2.Timestamptz


def _unknown_array_type(request: object) -> None:
    fd = next(f for f in request.fields_data if f.field_name == "tags")  # type: ignore[attr-defined]
    fd.scalars.array_data.element_type = 201


def _binary_vector_dim_4(request: object) -> None:
    fd = next(f for f in request.fields_data if f.field_name == "vec")  # type: ignore[attr-defined]
    fd.type = schema_pb2.BinaryVector
    fd.vectors.binary_vector = b"\x01\x02"


def _odd_float16_bytes(request: object) -> None:
    fd = next(f for f in request.fields_data if f.field_name == "vec")  # type: ignore[attr-defined]
    fd.type = schema_pb2.Float16Vector
    fd.vectors.float16_vector = b"\x01\x02\x03"


def _corrupt_placeholders(request: object) -> None:
    request.placeholder_group = b"\x0a\x03\x12\xff\xff"  # type: ignore[attr-defined]


def _uneven_vectors(request: object) -> None:
    group = common_pb2.PlaceholderGroup(
        placeholders=[
            common_pb2.PlaceholderValue(
                tag="$0",
                type=common_pb2.FloatVector,
                values=[struct.pack("<4f", 1, 2, 3, 4), b"\x00\x00\x80"],
            )
        ]
    )
    request.placeholder_group = group.SerializeToString()  # type: ignore[attr-defined]


def _unknown_placeholder_type(request: object) -> None:
    group = common_pb2.PlaceholderGroup(
        placeholders=[common_pb2.PlaceholderValue(tag="$0", type=999, values=[b"\x00" * 16])]
    )
    request.placeholder_group = group.SerializeToString()  # type: ignore[attr-defined]


def _bad_template_json(request: object) -> None:
    value = request.expr_template_values["ids"]  # type: ignore[attr-defined]
    value.array_val.json_data.data.append(b"\xed\xa0\x80")


DEFECTS: dict[str, tuple[str, Callable[[object], None]]] = {
    "corrupt collection schema bytes": ("CreateCollection", _corrupt_schema),
    "shards beyond Milvus's maximum": ("CreateCollection", _wide_shards),
    "unknown field data type": ("Insert", _unknown_field_type),
    "JSON field bytes that are not UTF-8": ("Insert", _bad_json),
    "dynamic field JSON that does not parse": ("Insert", _bad_dynamic_json),
    "array field holding timestamps": ("Upsert", _timestamp_array),
    "array field of an unknown element type": ("Insert", _unknown_array_type),
    "corrupt placeholder group": ("Search", _corrupt_placeholders),
    "binary vectors of a dim that is not a multiple of 8": ("Upsert", _binary_vector_dim_4),
    "float16 vectors in an odd number of bytes": ("Insert", _odd_float16_bytes),
    "query vectors of uneven sizes": ("Search", _uneven_vectors),
    "unknown placeholder type": ("Search", _unknown_placeholder_type),
    "template JSON with a surrogate": ("Query", _bad_template_json),
}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_a_malformed_request_gets_a_parameter_error(fuzzer: Fuzzer, defect: str) -> None:
    method, spoil = DEFECTS[defect]
    request = _seed(fuzzer, method)
    if defect == "template JSON with a surrogate":
        request = next(
            fuzzer.decode(s.method, s.payload)
            for s in fuzzer.seeds
            if s.method == "Query" and b"ids" in s.payload
        )
    spoil(request)
    reply = fuzzer.call(method, request)  # type: ignore[arg-type]
    status = reply if isinstance(reply, common_pb2.Status) else reply.status
    assert status.code == 1100, status.reason
    assert "internal error" not in status.reason


def test_a_collection_describes_its_channels_within_the_shard_limit(fuzzer: Fuzzer) -> None:
    request = _seed(fuzzer, "CreateCollection")
    request.collection_name = "sixteen_shards"  # type: ignore[attr-defined]
    request.shards_num = 16  # type: ignore[attr-defined]
    reply = fuzzer.call("CreateCollection", request)  # type: ignore[arg-type]
    assert reply.code == 0, reply.reason  # type: ignore[attr-defined]


# -- through a real server: raw bytes on the wire ----------------------------------------


def _raw_call(channel: grpc.Channel, method: str, payload: bytes) -> bytes:
    call = channel.unary_unary(f"/milvus.proto.milvus.MilvusService/{method}")
    return call(payload, timeout=30)  # type: ignore[no-any-return]


def test_a_real_server_answers_mutated_bytes_and_keeps_serving(
    server: ServerProcess, seeds: list[Seed], tmp_path: Path
) -> None:
    rng = random.Random(20260101)
    answered = refused_by_grpc = 0
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        for seed in seeds:  # the scenario's state, so that mutants meet real data
            _raw_call(channel, seed.method, seed.payload)
        for _ in range(150):
            seed = rng.choice(seeds)
            payload = mutate_bytes(rng, seed.payload)
            try:
                raw = _raw_call(channel, seed.method, payload)
            except grpc.RpcError as err:
                # what grpc says about bytes that do not decode, as for Milvus
                assert err.code() not in (grpc.StatusCode.UNKNOWN,), err.details()
                refused_by_grpc += 1
                continue
            reply = reply_type(seed.method).FromString(raw)
            status = reply if isinstance(reply, common_pb2.Status) else reply.status
            assert not (status.code == _INTERNAL and "internal error" in status.reason), (
                seed.method,
                status.reason,
            )
            answered += 1
    assert answered > 0
    assert server.process.poll() is None
    client = MilvusClient(uri=server.uri)
    try:
        assert "fz" in client.list_collections()
        # the mutants may have deleted rows; the query must still be answered
        assert isinstance(client.query("fz", filter="id >= 0", output_fields=["id"]), list)
    finally:
        client.close()
