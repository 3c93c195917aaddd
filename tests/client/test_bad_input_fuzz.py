"""Random bad input through the embedded client: a clear Milvus-style error, nothing changed.

Every call either succeeds or raises an ``ElanusError`` with a Milvus code and a
message naming what is wrong; after a rejected call the collection holds exactly
what it held before (checked against a plain-Python model and a full query), and
the data directory reopens to the same content.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elanus import DataType, MilvusClient
from elanus.errors import ElanusError

MAIN = "everything"
PLAIN = "plain"
# Fields whose stored value the model predicts exactly.
MODELLED = ["pk", "b", "i8", "i16", "i32", "i64", "s", "arr", "extra"]


def _open(path: str) -> MilvusClient:
    # No fsync per write: these tests reopen after a clean close, never after a crash.
    return MilvusClient(path, engine_options={"sync": False})


def _create(client: MilvusClient) -> None:
    schema = MilvusClient.create_schema(enable_dynamic_field=True)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("b", DataType.BOOL)
    schema.add_field("i8", DataType.INT8)
    schema.add_field("i16", DataType.INT16)
    schema.add_field("i32", DataType.INT32)
    schema.add_field("i64", DataType.INT64, nullable=True)
    schema.add_field("f", DataType.FLOAT)
    schema.add_field("d", DataType.DOUBLE, default_value=1.5)
    schema.add_field("s", DataType.VARCHAR, max_length=8)
    schema.add_field("j", DataType.JSON, nullable=True)
    schema.add_field("arr", DataType.ARRAY, element_type=DataType.INT32, max_capacity=3)
    schema.add_field(
        "sarr", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=2, max_length=4
    )
    schema.add_field("g", DataType.GEOMETRY, nullable=True)
    schema.add_field("ts", DataType.TIMESTAMPTZ, nullable=True)
    schema.add_field("fv", DataType.FLOAT_VECTOR, dim=4)
    schema.add_field("hv", DataType.FLOAT16_VECTOR, dim=4)
    schema.add_field("bfv", DataType.BFLOAT16_VECTOR, dim=4)
    schema.add_field("iv", DataType.INT8_VECTOR, dim=4)
    index = client.prepare_index_params()
    index.add_index("fv", index_type="FLAT", metric_type="L2")
    index.add_index("hv", index_type="FLAT", metric_type="L2")
    index.add_index("bfv", index_type="FLAT", metric_type="IP")
    index.add_index("iv", index_type="HNSW", metric_type="L2")
    client.create_collection(MAIN, schema=schema, index_params=index)
    # Milvus allows four vector fields per collection: the other two kinds live here.
    plain = MilvusClient.create_schema()
    plain.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=16)
    plain.add_field("bv", DataType.BINARY_VECTOR, dim=16)
    plain.add_field("sv", DataType.SPARSE_FLOAT_VECTOR)
    index = client.prepare_index_params()
    index.add_index("bv", index_type="BIN_FLAT", metric_type="HAMMING")
    index.add_index("sv", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    client.create_collection(PLAIN, schema=plain, index_params=index)
    client.insert(PLAIN, [_plain_row(1)])


def _plain_row(pk: int) -> dict[str, Any]:
    return {"pk": f"k{pk}", "bv": bytes([pk % 256, 1]), "sv": {pk % 50: 0.5, 60: 1.0}}


def _good_row(pk: int) -> dict[str, Any]:
    v = [float(pk % 7), 1.0, -0.5, 0.25]
    return {
        "pk": pk,
        "b": bool(pk % 2),
        "i8": pk % 100 - 50,
        "i16": (pk * 3) % 30000,
        "i32": pk * 7,
        "i64": pk * 11 if pk % 3 else None,
        "f": pk / 4,
        "s": f"s{pk % 1000}",
        "j": {"k": pk, "t": [1, "x"]},
        "arr": [pk % 5, 1],
        "sarr": ["ab", "c"],
        "g": f"POINT ({pk} 1)",
        "ts": "2024-01-01T00:00:00Z",
        "fv": v,
        "hv": v,
        "bfv": v,
        "iv": [1, -2, 3, pk % 100],
        "extra": pk,
    }


def _set(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(row: dict[str, Any]) -> None:
        row[field] = value

    return apply


def _drop(field: str) -> Callable[[dict[str, Any]], None]:
    def apply(row: dict[str, Any]) -> None:
        row.pop(field, None)

    return apply


# (what, the text the error must contain, how it spoils one row)
Fault = tuple[str, str, Callable[[dict[str, Any]], None]]
ROW_FAULTS: list[Fault] = [
    ("string into INT32", "i32", _set("i32", "abc")),
    ("string into BOOL", "b", _set("b", "yes")),
    ("int into VARCHAR", "s", _set("s", 123)),
    ("string into FLOAT", "f", _set("f", "1.0")),
    ("string into ARRAY", "arr", _set("arr", "notalist")),
    ("float elements into ARRAY<INT32>", "arr", _set("arr", [1.5, 2.0])),
    ("string elements into ARRAY<INT32>", "arr", _set("arr", ["a"])),
    ("over capacity ARRAY", "arr", _set("arr", [1, 2, 3, 4])),
    ("oversize ARRAY<VARCHAR> element", "sarr", _set("sarr", ["abcde"])),
    ("null ARRAY element", "arr", _set("arr", [1, None])),
    ("INT8 too big", "i8", _set("i8", 128)),
    ("INT8 too small", "i8", _set("i8", -129)),
    ("INT16 too big", "i16", _set("i16", 40000)),
    ("INT32 too big", "i32", _set("i32", 2**31)),
    ("INT64 too big", "i64", _set("i64", 2**63)),
    ("NaN FLOAT", "f", _set("f", math.nan)),
    ("inf DOUBLE", "d", _set("d", math.inf)),
    ("FLOAT overflow", "f", _set("f", 1e300)),
    ("oversize VARCHAR", "s", _set("s", "x" * 9)),
    ("oversize VARCHAR in UTF-8 bytes", "s", _set("s", "é" * 5)),
    ("bad JSON text", "j", _set("j", '{"a":')),
    ("unserializable JSON", "j", _set("j", {1, 2})),
    ("bad WKT", "g", _set("g", "POINT (1")),
    ("not WKT", "g", _set("g", "NOTWKT")),
    ("WKT of wrong type", "g", _set("g", 5)),
    ("bad timestamptz", "ts", _set("ts", "yesterday-ish")),
    ("null into non-nullable", "i32", _set("i32", None)),
    ("null vector", "fv", _set("fv", None)),
    ("missing field", "i8", _drop("i8")),
    ("missing primary key", "pk", _drop("pk")),
    ("short FLOAT_VECTOR", "fv|dim(4)", _set("fv", [1.0, 2.0, 3.0])),
    ("long FLOAT16_VECTOR", "hv|dim(4)", _set("hv", [1.0] * 5)),
    ("short BFLOAT16_VECTOR", "bfv|dim(4)", _set("bfv", [1.0])),
    ("long INT8_VECTOR", "iv|dim(4)", _set("iv", [1] * 8)),
    ("NaN FLOAT_VECTOR", "fv", _set("fv", [math.nan, 0.0, 0.0, 0.0])),
    ("inf FLOAT16_VECTOR", "hv", _set("hv", [math.inf, 0.0, 0.0, 0.0])),
    ("FLOAT16 overflow", "hv", _set("hv", [1e6, 0.0, 0.0, 0.0])),
    ("NaN BFLOAT16_VECTOR", "bfv", _set("bfv", [0.0, math.nan, 0.0, 0.0])),
    ("INT8_VECTOR out of range", "iv", _set("iv", [1, 2, 3, 300])),
    ("float INT8_VECTOR", "iv", _set("iv", [0.5, 0.0, 0.0, 0.0])),
    ("string FLOAT_VECTOR", "fv", _set("fv", ["a", "b", "c", "d"])),
    ("string vector", "fv", _set("fv", "abcd")),
    ("string primary key", "pk", _set("pk", "abc")),
    ("float primary key", "pk", _set("pk", 1.5)),
    ("null primary key", "pk", _set("pk", None)),
    ("huge primary key", "pk", _set("pk", 2**64)),
]

# The same for the collection with the binary and sparse vectors and a VARCHAR key.
PLAIN_FAULTS: list[Fault] = [
    ("missing vector", "bv", _drop("bv")),
    ("short BINARY_VECTOR", "bv|dim(16)", _set("bv", bytes([1]))),
    ("long BINARY_VECTOR", "bv|dim(16)", _set("bv", bytes([1, 2, 3]))),
    ("NaN sparse value", "sv", _set("sv", {1: math.nan})),
    ("negative sparse index", "sv", _set("sv", {-1: 0.5})),
    ("sparse index too big", "sv", _set("sv", {2**32: 0.5})),
    ("sparse of strings", "sv", _set("sv", {"a": "b"})),
    ("int VARCHAR primary key", "pk", _set("pk", 7)),
    ("oversize VARCHAR primary key", "pk", _set("pk", "k" * 17)),
    ("null VARCHAR primary key", "pk", _set("pk", None)),
]


@dataclass(frozen=True)
class BadCall:
    what: str
    expect: str
    call: Callable[[MilvusClient], Any]


def _search(**kwargs: Any) -> Callable[[MilvusClient], Any]:
    args: dict[str, Any] = {"data": [[0.0, 1.0, 0.0, 0.0]], "anns_field": "fv", "limit": 3}
    args.update(kwargs)
    return lambda c: c.search(MAIN, **args)


BAD_CALLS: list[BadCall] = [
    BadCall("delete with string ids", "pk", lambda c: c.delete(MAIN, ids=["a"])),
    BadCall("delete with float ids", "pk", lambda c: c.delete(MAIN, ids=[1.5])),
    BadCall("delete with huge ids", "pk", lambda c: c.delete(MAIN, ids=[2**70])),
    BadCall("delete with int ids on a VARCHAR key", "pk", lambda c: c.delete(PLAIN, ids=[1])),
    BadCall("delete with a broken filter", "i8 >", lambda c: c.delete(MAIN, filter="i8 >")),
    BadCall("query with a broken filter", "s in [1,", lambda c: c.query(MAIN, filter="s in [1,")),
    BadCall(
        "query comparing VARCHAR with int",
        "s",
        lambda c: c.query(MAIN, filter="s > 1", limit=3),
    ),
    BadCall(
        "query with negative limit", "limit", lambda c: c.query(MAIN, filter="pk > 0", limit=-5)
    ),
    BadCall("search with a short vector", "4", _search(data=[[1.0, 2.0, 3.0]])),
    BadCall("search with strings", "fv", _search(data=[["a", "b", "c", "d"]])),
    BadCall("search an unknown field", "nosuch", _search(anns_field="nosuch")),
    BadCall("search with a broken filter", "i8 <", _search(filter="i8 <")),
    BadCall("search with the wrong metric", "metric", _search(search_params={"metric_type": "IP"})),
    BadCall("search with zero limit", "topk", _search(limit=0)),
    BadCall(
        "search a binary field with a short vector",
        "bv",
        lambda c: c.search(PLAIN, data=[bytes([1])], anns_field="bv", limit=3),
    ),
    BadCall(
        "search a sparse field with a negative index",
        "sv",
        lambda c: c.search(PLAIN, data=[{-3: 1.0}], anns_field="sv", limit=3),
    ),
    BadCall(
        "insert an unknown field without dynamic field",
        "zzz",
        lambda c: c.insert(PLAIN, [{**_plain_row(3), "zzz": 1}]),
    ),
    BadCall(
        "insert a wrong-length column",
        "i8",
        lambda c: c.insert(
            MAIN, {**{k: [v] * 2 for k, v in _good_row(900).items()}, "pk": [900, 901], "i8": [1]}
        ),
    ),
    BadCall(
        "insert a 1-D column of vectors",
        "fv",
        lambda c: c.insert(
            MAIN, {**{k: [v] for k, v in _good_row(902).items()}, "fv": np.zeros(3, np.float32)}
        ),
    ),
]


class Model:
    """What the collection must hold: modelled fields of each live row."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = {}

    def write(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:  # later rows with the same key win
            self.rows[row["pk"]] = {k: row.get(k) for k in MODELLED}

    def delete(self, ids: list[int]) -> None:
        for pk in ids:
            self.rows.pop(pk, None)


def _modelled(client: MilvusClient) -> dict[int, dict[str, Any]]:
    got = client.query(MAIN, filter="pk >= 0", output_fields=MODELLED, limit=16384)
    return {r["pk"]: {k: r.get(k) for k in MODELLED} for r in got}


def _comparable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return (str(value.dtype), value.tolist())
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    return value


def _everything(client: MilvusClient) -> list[Any]:
    rows = client.query(MAIN, filter="pk >= 0", output_fields=["*"], limit=16384)
    plain = client.query(PLAIN, filter='pk >= ""', output_fields=["*"], limit=16384)
    both = sorted(rows, key=lambda r: r["pk"]) + sorted(plain, key=lambda r: r["pk"])
    return [_comparable(dict(r)) for r in both]


def _count(client: MilvusClient) -> int:
    return int(client.query(MAIN, filter="", output_fields=["count(*)"])[0]["count(*)"])


def _check_error(exc: BaseException, expect: str, what: str) -> None:
    assert isinstance(exc, ElanusError), f"{what}: bare {type(exc).__name__}: {exc}"
    assert exc.code not in (0, 65535), f"{what}: no Milvus code on {exc!r}"
    # "a|b": either will do (Milvus words a batch-wide dim mismatch without the field).
    assert any(e in str(exc) for e in expect.split("|")), f"{what}: no {expect!r} in: {exc}"


def _rejected(client: MilvusClient, what: str, expect: str, call: Callable[[], Any]) -> None:
    before = _everything(client)
    count = _count(client)
    with pytest.raises(Exception) as info:
        call()
    _check_error(info.value, expect, what)
    assert _count(client) == count, what
    assert _everything(client) == before, what


op_strategy = st.one_of(
    st.tuples(
        st.sampled_from(["insert", "upsert"]),
        st.lists(st.integers(0, 40), min_size=1, max_size=4),
        st.integers(0, len(ROW_FAULTS) + len(PLAIN_FAULTS) - 1),
        st.integers(0, 3),
    ),
    st.tuples(
        st.just("good"),
        st.sampled_from(["insert", "upsert"]),
        st.lists(st.integers(0, 40), min_size=1, max_size=4),
    ),
    st.tuples(st.just("delete"), st.lists(st.integers(0, 40), max_size=3)),
    st.tuples(st.just("call"), st.integers(0, len(BAD_CALLS) - 1)),
    st.tuples(st.just("flush")),
)


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(op_strategy, min_size=3, max_size=10))
def test_bad_input_is_rejected_whole_and_changes_nothing(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/db"
        client = _open(path)
        model = Model()
        try:
            _create(client)
            good = [_good_row(pk) for pk in (1, 2, 3)]
            client.insert(MAIN, good)
            model.write(good)
            for op in ops:
                _run(client, model, op)
                assert _modelled(client) == model.rows, op
            after = _everything(client)
        finally:
            client.close()
        client = _open(path)
        try:
            assert _everything(client) == after
            assert _modelled(client) == model.rows
        finally:
            client.close()


def _run(client: MilvusClient, model: Model, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind in ("insert", "upsert"):
        _, pks, fault, at = op
        target = MAIN if fault < len(ROW_FAULTS) else PLAIN
        make = _good_row if target == MAIN else _plain_row
        rows = [make(pk) for pk in pks]
        what, expect, spoil = (ROW_FAULTS + PLAIN_FAULTS)[fault]
        spoil(rows[at % len(rows)])
        write = client.insert if kind == "insert" else client.upsert
        _rejected(client, f"{kind}: {what}", expect, lambda: write(target, rows))
    elif kind == "good":
        _, method, pks = op
        rows = [_good_row(pk) for pk in pks]
        if method == "insert":
            client.insert(MAIN, rows)
            model.write(rows)
        else:
            try:
                client.upsert(MAIN, rows)
            except ElanusError as exc:  # duplicate keys in one upsert may be refused whole
                _check_error(exc, "pk", "upsert with duplicate keys")
                assert len(set(pks)) < len(pks), exc
            else:
                model.write(rows)
    elif kind == "delete":
        client.delete(MAIN, ids=op[1])
        model.delete(op[1])
    elif kind == "call":
        bad = BAD_CALLS[op[1]]
        _rejected(client, bad.what, bad.expect, lambda: bad.call(client))
    else:
        client.flush(MAIN)


ALL_FAULTS = [(MAIN, *f) for f in ROW_FAULTS] + [(PLAIN, *f) for f in PLAIN_FAULTS]


@pytest.mark.parametrize("fault", ALL_FAULTS, ids=[f[1] for f in ALL_FAULTS])
def test_each_row_fault_is_rejected(tmp_path: Any, fault: Any) -> None:
    target, what, expect, spoil = fault
    make = _good_row if target == MAIN else _plain_row
    client = _open(str(tmp_path / "db"))
    try:
        _create(client)
        client.insert(MAIN, [_good_row(1)])
        rows = [make(5), make(6)]
        spoil(rows[1])
        _rejected(client, what, expect, lambda: client.insert(target, rows))
        _rejected(client, what, expect, lambda: client.upsert(target, rows))
    finally:
        client.close()


@pytest.mark.parametrize("bad", BAD_CALLS, ids=[b.what for b in BAD_CALLS])
def test_each_bad_call_is_rejected(tmp_path: Any, bad: BadCall) -> None:
    client = _open(str(tmp_path / "db"))
    try:
        _create(client)
        client.insert(MAIN, [_good_row(1), _good_row(2)])
        _rejected(client, bad.what, bad.expect, lambda: bad.call(client))
    finally:
        client.close()
