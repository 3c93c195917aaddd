"""Random and mutated REST v2 bodies, and the rule every one obeys: the answer is
Milvus's JSON envelope, ``code`` 0 with data or a Milvus error code with a message,
never an internal error.

A collection ``fz`` is made and filled through the REST handlers themselves; then
each input takes a route's seed body (or ``{}``) and mutates it: values replaced by
random JSON (deep nesting, integers past int64, huge lists, odd strings), keys
dropped or added, or the bytes garbled. Routes that would remove ``fz`` are pointed
at another collection, so later inputs still meet data.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from elanus.engine.engine import Engine
from elanus.server.rest_app import handle
from elanus.server.rest_body import ENDPOINTS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "expr"))
from filter_fuzz_inputs import filter_text  # noqa: E402

__all__ = ["RestFuzzer", "ROUTES"]

COLLECTION = "fz"
ROUTES = sorted(ENDPOINTS)
_INTERNAL = 5
_DESTRUCTIVE = ("drop", "truncate", "rename", "release", "transfer_replica", "alter")

_SCHEMA = {
    "autoId": False,
    "enableDynamicField": True,
    "fields": [
        {"fieldName": "id", "dataType": "Int64", "isPrimary": True},
        {"fieldName": "vec", "dataType": "FloatVector", "elementTypeParams": {"dim": 4}},
        {"fieldName": "s", "dataType": "VarChar", "elementTypeParams": {"max_length": 16}},
        {"fieldName": "meta", "dataType": "JSON", "nullable": True},
        {
            "fieldName": "tags",
            "dataType": "Array",
            "elementDataType": "Int64",
            "elementTypeParams": {"max_capacity": 4},
        },
    ],
}
_ROWS = [
    {"id": i, "vec": [i, 1.0, 0.5, -1], "s": f"s{i}", "meta": {"k": i % 3}, "tags": [i, 1]}
    for i in range(10)
]
SEEDS: dict[str, dict[str, Any]] = {
    "collections/create": {
        "collectionName": COLLECTION,
        "schema": _SCHEMA,
        "indexParams": [{"fieldName": "vec", "indexName": "vec", "metricType": "L2"}],
    },
    "entities/insert": {"collectionName": COLLECTION, "data": _ROWS},
    "entities/upsert": {"collectionName": COLLECTION, "data": _ROWS[:2]},
    "collections/load": {"collectionName": COLLECTION},
    "entities/search": {
        "collectionName": COLLECTION,
        "data": [[0.5, 1, 0, 0]],
        "annsField": "vec",
        "filter": 'meta["k"] == {k}',
        "exprParams": {"k": 1},
        "limit": 3,
        "outputFields": ["s", "meta"],
        "searchParams": {"metricType": "L2", "params": {}},
    },
    "entities/hybrid_search": {
        "collectionName": COLLECTION,
        "search": [{"data": [[0.1, 0.2, 0.3, 0.4]], "annsField": "vec", "limit": 2}],
        "rerank": {"strategy": "rrf", "params": {"k": 10}},
        "limit": 2,
    },
    "entities/query": {
        "collectionName": COLLECTION,
        "filter": "id in [1, 2, 3]",
        "outputFields": ["*"],
        "limit": 5,
    },
    "entities/get": {"collectionName": COLLECTION, "id": [1, 2], "outputFields": ["s"]},
    "entities/delete": {"collectionName": COLLECTION, "filter": "id == 9"},
    "indexes/create": {
        "collectionName": COLLECTION,
        "indexParams": [{"fieldName": "s", "indexName": "s_idx", "indexType": "INVERTED"}],
    },
    "partitions/create": {"collectionName": COLLECTION, "partitionName": "p1"},
    "aliases/create": {"collectionName": COLLECTION, "aliasName": "fz_alias"},
    "users/create": {"userName": "u1", "password": "secret123"},
    "roles/create": {"roleName": "r1"},
    "databases/create": {"dbName": "db1"},
}
_SETUP = ["collections/create", "entities/insert", "collections/load"]

KEYS = ["collectionName", "dbName", "partitionName", "partitionNames", "data", "filter"]
KEYS += ["limit", "offset", "outputFields", "annsField", "searchParams", "id", "schema"]
KEYS += ["indexParams", "consistencyLevel", "groupingField", "exprParams", "aliasName"]
KEYS += ["newCollectionName", "properties", "params", "fieldName", "metricType", "dim"]
STRINGS = [COLLECTION, "vec", "id", "s", "meta", "tags", "", "nope", "x" * 300, "\u00e9"]
STRINGS += ["L2", "IP", "Int64", "FloatVector", "Array", "VarChar", "HNSW", "*", "count(*)"]
NUMBERS: list[Any] = [0, 1, -1, 3, 16384, 16385, 2**31, 2**63 - 1, 2**63, -(2**63) - 1]
NUMBERS += [2**64, 10**30, 0.5, -0.0, 1e300]


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(11 if depth < 3 else 7)
    if kind == 0:
        return rng.choice(NUMBERS)
    if kind == 1:
        return rng.choice(STRINGS)
    if kind == 2:
        return filter_text(rng).encode("utf-8", "replace").decode("utf-8")
    if kind == 3:
        return rng.choice([None, True, False])
    if kind == 4:
        return [rng.uniform(-1, 1) for _ in range(rng.choice([0, 3, 4, 5]))]
    if kind == 5:
        nested: Any = rng.choice([1, "x", {}])
        for _ in range(rng.choice([3, 60, 400])):
            nested = [nested] if rng.random() < 0.5 else {"k": nested}
        return nested
    if kind == 6:
        return [rng.choice(NUMBERS)] * rng.choice([1, 100, 20_000])
    if kind == 7:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 8:
        return {rng.choice(KEYS + STRINGS): random_json(rng, depth + 1) for _ in range(3)}
    if kind == 9:
        return [dict(row) for row in rng.sample(_ROWS, rng.randrange(1, 4))]
    return _SCHEMA


def _mutate_value(rng: random.Random, value: Any, depth: int) -> Any:
    if isinstance(value, dict) and value and depth < 4 and rng.random() < 0.7:
        key = rng.choice(list(value))
        action = rng.randrange(4)
        copy = dict(value)
        if action == 0:
            del copy[key]
        elif action == 1:
            copy[rng.choice(KEYS)] = random_json(rng)
        else:
            copy[key] = _mutate_value(rng, copy[key], depth + 1)
        return copy
    if isinstance(value, list) and value and depth < 4 and rng.random() < 0.7:
        copy = list(value)
        index = rng.randrange(len(copy))
        copy[index] = _mutate_value(rng, copy[index], depth + 1)
        return copy
    return random_json(rng, depth)


def mutate_body(rng: random.Random, body: dict[str, Any]) -> dict[str, Any]:
    for _ in range(rng.randrange(1, 4)):
        mutated = _mutate_value(rng, body, 0)
        body = mutated if isinstance(mutated, dict) else {"collectionName": COLLECTION}
    return body


def garble(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randrange(1, 5)):
        pos = rng.randrange(len(data) + 1)
        choice = rng.randrange(3)
        if choice == 0:
            del data[pos : pos + rng.randrange(1, 5)]
        elif choice == 1:
            data[pos:pos] = rng.choice([b"{", b"]", b'"', b"\\ud800", b"\xff", b"1e999", b"\x00"])
        else:
            data[pos:pos] = rng.randbytes(rng.randrange(1, 4))
    return bytes(data)


class RestFuzzer:
    """An engine with ``fz`` made through REST, answering mutated bodies in-process."""

    def __init__(self, workdir: Path | None = None) -> None:
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="elanus-rest-fuzz-")
            workdir = Path(self._tmp.name)
        self.engine = Engine.open(str(workdir / "data"), sync=False)
        for path in _SETUP:
            reply = self.answer(path, orjson.dumps(SEEDS[path]))
            assert reply["code"] == 0, (path, reply)

    def close(self) -> None:
        self.engine.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def answer(self, path: str, raw: bytes, headers: dict[str, str] | None = None) -> Any:
        reply = handle(self.engine, path, ENDPOINTS[path], raw, headers or {})
        # what the route sends: it must serialise
        orjson.dumps(reply, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
        return reply

    def mutant(self, rng: random.Random) -> tuple[str, bytes, dict[str, str]]:
        path = rng.choice(ROUTES)
        body = dict(SEEDS.get(path, {"collectionName": COLLECTION}))
        if rng.random() < 0.85:
            body = mutate_body(rng, body)
        if any(word in path for word in _DESTRUCTIVE) and body.get("collectionName") in (
            COLLECTION,
            None,
        ):
            body["collectionName"] = "fz_other"
        raw = json.dumps(body).encode()  # orjson stops at 64-bit integers; clients need not
        if rng.random() < 0.2:
            raw = garble(rng, raw)
        headers = {}
        if rng.random() < 0.2:
            headers["accept-type-allow-int64"] = rng.choice(["true", "1", "no"])
        if rng.random() < 0.1:
            headers["db-name"] = rng.choice(["default", "nope", "db1", ""])
        return path, raw, headers

    def check(self, path: str, raw: bytes, headers: dict[str, str]) -> str:
        """One body: "ok", "refused" (a Milvus error envelope), or raise."""
        reply = self.answer(path, raw, headers)
        assert isinstance(reply, dict) and isinstance(reply.get("code"), int), reply
        if reply["code"] == 0:
            return "ok"
        message = reply.get("message", "")
        assert isinstance(message, str) and message, reply
        if reply["code"] == _INTERNAL and "internal error" in message:
            raise AssertionError(f"{path}: {message}\nbody: {raw[:2000]!r}")
        return "refused"
