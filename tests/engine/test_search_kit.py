"""Snapshots for the read-path tests, over real in-memory (growing) segments.

``make_snapshot`` cuts a table of rows into segments with delete masks.
``brute_force`` is the numpy reference every search is checked against.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from elanus.engine.segment import GrowingSegment
from elanus.engine.snapshot import SegmentView, Snapshot
from elanus.schema import CollectionSchema, DataType, FieldSchema

DIM = 8
COLORS = ["red", "green", "blue", "black"]


def schema(*, dynamic: bool = True, varchar_pk: bool = False) -> CollectionSchema:
    pk = (
        FieldSchema("id", DataType.VARCHAR, is_primary=True, params={"max_length": 64})
        if varchar_pk
        else FieldSchema("id", DataType.INT64, is_primary=True)
    )
    return CollectionSchema(
        fields=(
            pk.with_id(100),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": DIM}, field_id=101),
            FieldSchema("age", DataType.INT64, field_id=102),
            FieldSchema("color", DataType.VARCHAR, params={"max_length": 16}, field_id=103),
            FieldSchema("score", DataType.DOUBLE, field_id=104),
        ),
        enable_dynamic_field=dynamic,
    )


@dataclass
class Table:
    """All rows of a test collection, as plain numpy arrays."""

    ids: np.ndarray
    vec: np.ndarray
    age: np.ndarray
    color: np.ndarray
    score: np.ndarray
    meta: list[str]


def make_table(n: int, seed: int = 0, *, varchar_pk: bool = False) -> Table:
    rng = np.random.default_rng(seed)
    ids: np.ndarray = np.arange(n, dtype=np.int64) * 3 + 7
    if varchar_pk:
        ids = np.array([f"k{int(i):06d}" for i in ids])
    return Table(
        ids=ids,
        vec=rng.standard_normal((n, DIM)).astype(np.float32),
        age=rng.integers(0, 100, n).astype(np.int64),
        color=np.array(COLORS)[rng.integers(0, len(COLORS), n)],
        score=rng.random(n),
        meta=[json.dumps({"tag": f"t{i % 5}", "rank": int(i)}) for i in range(n)],
    )


def make_snapshot(
    table: Table,
    cuts: list[int],
    *,
    deleted: np.ndarray | None = None,
    partitions: list[str] | None = None,
    growing_extra: int = 0,
    index_specs: dict[str, Any] | None = None,
    schema_: CollectionSchema | None = None,
) -> Snapshot:
    """Segments over ``table`` split at ``cuts``; ``deleted`` a mask over all rows.

    ``growing_extra`` appends junk rows past ``num_rows`` to every segment's columns
    (what a growing segment's buffers look like) that readers must never see.
    """
    collection_schema = schema_ or schema(varchar_pk=table.ids.dtype.kind == "U")
    n = len(table.ids)
    bounds = [0, *cuts, n]
    deleted = np.zeros(n, dtype=bool) if deleted is None else deleted
    views = []
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        extra = growing_extra
        pad_vec = np.full((extra, DIM), 0.0, dtype=np.float32)
        ids = table.ids[lo:hi]
        if ids.dtype.kind == "U":
            pks: Any = pa.array(list(ids) + ["junk"] * extra, type=pa.string())
        else:
            pks = np.concatenate([ids, np.full(extra, -1, dtype=np.int64)])
        cols = {
            "vec": np.concatenate([table.vec[lo:hi], pad_vec]),
            "age": pa.array(np.concatenate([table.age[lo:hi], np.full(extra, -1)])),
            "color": pa.array(list(table.color[lo:hi]) + ["junk"] * extra, type=pa.string()),
            "score": pa.array(np.concatenate([table.score[lo:hi], np.zeros(extra)])),
            "$meta": pa.array(table.meta[lo:hi] + ["{}"] * extra, type=pa.string()),
            "id": pks if isinstance(pks, pa.Array) else pa.array(pks),
        }
        part = partitions[i] if partitions else "_default"
        # A real growing segment holding the rows; a view of fewer rows than it
        # holds is what a snapshot taken before the later appends sees.
        data = GrowingSegment(i + 1, part, collection_schema)
        data.append(cols, pks, np.full(len(pks), 1 << 18, dtype=np.uint64))
        views.append(SegmentView(data, hi - lo, deleted[lo:hi].copy(), sealed=extra == 0))
    return Snapshot(
        timestamp=1 << 18,
        schema=collection_schema,
        segments=tuple(views),
        index_specs=index_specs or {},
    )


def distances(metric: str, base: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """(nq, n) distances in Milvus's convention."""
    if metric == "L2":
        return ((queries[:, None, :] - base[None, :, :]) ** 2).sum(-1)
    if metric == "IP":
        return queries @ base.T
    qn = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    bn = base / np.linalg.norm(base, axis=1, keepdims=True)
    return qn @ bn.T


def brute_force(
    table: Table,
    usable: np.ndarray,
    queries: np.ndarray,
    metric: str,
    limit: int,
    offset: int = 0,
) -> list[list[Any]]:
    """Primary keys of each query's hits, best first, over rows where ``usable``."""
    d = distances(metric, table.vec.astype(np.float64), queries.astype(np.float64))
    rows = np.flatnonzero(usable)
    out = []
    for qi in range(len(queries)):
        dq = d[qi, rows]
        order = np.argsort(-dq if metric in ("IP", "COSINE") else dq, kind="stable")
        out.append([table.ids[r] for r in rows[order][offset : offset + limit]])
    return out


def test_kit_brute_force_orders_best_first() -> None:
    table = make_table(20)
    q = table.vec[:1]
    hits = brute_force(table, np.ones(20, dtype=bool), q, "L2", 3)
    assert hits[0][0] == table.ids[0]
