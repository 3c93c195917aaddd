"""Random rows for filter tests, as Python rows (for the reference) and Arrow columns."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pyarrow as pa

from elanus.schema import CollectionSchema, DataType, FieldSchema

F = FieldSchema

SCHEMA = CollectionSchema(
    fields=(
        F("id", DataType.INT64, is_primary=True),
        F("i8", DataType.INT8, nullable=True),
        F("i32", DataType.INT32),
        F("i64", DataType.INT64, nullable=True),
        F("f", DataType.FLOAT),
        F("d", DataType.DOUBLE, nullable=True),
        F("b", DataType.BOOL, nullable=True),
        F("s", DataType.VARCHAR, nullable=True, params={"max_length": 64}),
        F("meta", DataType.JSON, nullable=True),
        F("tags", DataType.ARRAY, element_type=DataType.INT64, params={"max_capacity": 8}),
        F(
            "words",
            DataType.ARRAY,
            element_type=DataType.VARCHAR,
            nullable=True,
            params={"max_capacity": 8, "max_length": 16},
        ),
        F("ts", DataType.TIMESTAMPTZ, nullable=True),
        F("geo", DataType.GEOMETRY, nullable=True),
        F("vec", DataType.FLOAT_VECTOR, params={"dim": 4}),
    ),
    enable_dynamic_field=True,
)

ARROW_TYPES = {
    "id": pa.int64(),
    "i8": pa.int8(),
    "i32": pa.int32(),
    "i64": pa.int64(),
    "f": pa.float32(),
    "d": pa.float64(),
    "b": pa.bool_(),
    "s": pa.string(),
    "meta": pa.string(),
    "tags": pa.list_(pa.int64()),
    "words": pa.list_(pa.string()),
    "ts": pa.timestamp("us", tz="UTC"),
    "geo": pa.string(),
    "$meta": pa.string(),
}

WORDS = ["apple", "apricot", "banana", "berry", "cherry", "a%b", "a_b", "Ápfel", "", "z"]
DAY = 86_400_000_000


def _maybe(rng: random.Random, value: Any, p: float = 0.15) -> Any:
    return None if rng.random() < p else value


def _json_scalar(rng: random.Random) -> Any:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randint(-5, 5)
    if kind == 1:
        return rng.choice([0.5, 1.5, -2.25, 3.0])
    if kind == 2:
        return rng.choice(WORDS[:5])
    if kind == 3:
        return rng.random() < 0.5
    if kind == 4:
        return None
    return [rng.randint(0, 4) for _ in range(rng.randrange(4))]


def _doc(rng: random.Random) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if rng.random() < 0.8:
        doc["k"] = _json_scalar(rng)
    if rng.random() < 0.8:
        doc["n"] = rng.randint(-10, 10)
    if rng.random() < 0.6:
        doc["arr"] = [rng.choice([1, 2, 3, "x", True, 2.5]) for _ in range(rng.randrange(5))]
    if rng.random() < 0.6:
        doc["nested"] = {"a": rng.randint(0, 3), "b": rng.choice(WORDS[:4])}
    return doc


def _geometry(rng: random.Random) -> str:
    x, y = rng.randint(0, 4), rng.randint(0, 4)
    if rng.random() < 0.6:
        return f"POINT ({x} {y})"
    return f"POLYGON (({x} {y}, {x + 1} {y}, {x + 1} {y + 1}, {x} {y + 1}, {x} {y}))"


def make_rows(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        dynamic = {}
        if rng.random() < 0.7:
            dynamic["color"] = rng.choice(["red", "green", "blue", 1, True])
        if rng.random() < 0.7:
            dynamic["x"] = rng.randint(-3, 3)
        rows.append(
            {
                "id": i * 3,
                "i8": _maybe(rng, rng.randint(-128, 127)),
                "i32": rng.randint(-50, 50),
                "i64": _maybe(
                    rng,
                    rng.randint(-(10**12), 10**12) if rng.random() < 0.2 else rng.randint(-20, 20),
                ),
                "f": rng.randint(-40, 40) / 4,
                "d": _maybe(rng, rng.randint(-40, 40) / 8),
                "b": _maybe(rng, rng.random() < 0.5),
                "s": _maybe(rng, rng.choice(WORDS)),
                "meta": _maybe(rng, _doc(rng), 0.1),
                "tags": [rng.randint(0, 6) for _ in range(rng.randrange(5))],
                "words": _maybe(rng, [rng.choice(WORDS[:5]) for _ in range(rng.randrange(4))]),
                "ts": _maybe(rng, rng.randint(0, 10) * DAY + rng.randint(0, 3) * 3_600_000_000),
                "geo": _maybe(rng, _geometry(rng), 0.1),
                "$meta": dynamic,
            }
        )
    return rows


def to_columns(rows: list[dict[str, Any]]) -> dict[str, pa.Array]:
    columns: dict[str, pa.Array] = {}
    for name, typ in ARROW_TYPES.items():
        values = [r[name] for r in rows]
        if name in ("meta", "$meta"):
            values = [None if v is None else orjson.dumps(v).decode() for v in values]
        columns[name] = pa.array(values, type=typ)
    return columns


def schema() -> CollectionSchema:
    return SCHEMA
