"""Fuzzing REST v2 bodies: random and mutated JSON, and garbage bytes, on every route
get Milvus's JSON envelope (code 0, or a Milvus error code with a message), never an
internal error or an HTTP 500. ``scripts/fuzz.py rest`` runs many more inputs."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_fuzz_inputs import ROUTES, RestFuzzer
from starlette.testclient import TestClient

from elanus.server.http_app import HttpState, create_http_app
from elanus.server.rest_app import REST_PREFIX

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestFuzzer]:
    fuzzer = RestFuzzer(tmp_path_factory.mktemp("rest"))
    yield fuzzer
    fuzzer.close()


@pytest.fixture(scope="module")
def http(fuzzer: RestFuzzer) -> Iterator[TestClient]:
    state = HttpState(ready=True, engine=fuzzer.engine)
    with TestClient(create_http_app(state), raise_server_exceptions=False) as client:
        yield client


@FUZZ
@given(st.randoms(use_true_random=False))
def test_mutated_bodies_get_a_milvus_envelope(fuzzer: RestFuzzer, rng: random.Random) -> None:
    path, raw, headers = fuzzer.mutant(rng)
    assert fuzzer.check(path, raw, headers) in ("ok", "refused")


@FUZZ
@given(st.sampled_from(ROUTES), st.binary(max_size=64))
def test_arbitrary_bytes_get_a_milvus_envelope(fuzzer: RestFuzzer, path: str, raw: bytes) -> None:
    assert fuzzer.check(path, raw, {}) in ("ok", "refused")


@pytest.mark.parametrize(
    "raw",
    [b"", b"[]", b"null", b"1", b'"x"', b"{", b"\xff\xfe", b'{"collectionName": 1e999}'],
)
def test_every_route_answers_odd_bodies_over_http(http: TestClient, raw: bytes) -> None:
    for path in ROUTES:
        response = http.post(REST_PREFIX + path, content=raw)
        assert response.status_code == 200, (path, response.text[:300])
        reply = orjson.loads(response.content)
        assert isinstance(reply["code"], int), (path, reply)
        assert "internal error" not in str(reply.get("message", "")), (path, reply)


@pytest.mark.parametrize(
    ("path", "key"),
    [("entities/query", "consistencyLevel"), ("entities/search", "consistencyLevel")],
)
def test_values_nested_beyond_the_stack_get_a_parameter_error(
    fuzzer: RestFuzzer, path: str, key: str
) -> None:
    nested: object = 1
    for level in range(900):
        nested = [nested] if level % 2 else {"k": nested}
    body = {"collectionName": "fz", "filter": "id > 0", "data": [[0.5, 1, 0, 0]], key: nested}
    reply = fuzzer.answer(path, json.dumps(body).encode())
    assert reply["code"] == 1100 and "nested too deeply" in reply["message"], reply


def test_deep_json_over_http_is_refused_cleanly(http: TestClient, tmp_path: Path) -> None:
    body = b'{"collectionName": "fz", "filter": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = http.post(REST_PREFIX + "entities/query", content=body)
    assert response.status_code == 200
    reply = orjson.loads(response.content)
    assert reply["code"] != 0 and "internal error" not in reply["message"]
