"""Upsert into an auto_id collection: the given keys go, the rows come back under new keys.

Milvus treats the primary key of an upserted row in an auto_id collection as the
row to replace: that row is deleted, and the new row gets a newly generated key,
whether or not the given key existed. The count of rows is unchanged by replacing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from elanus.engine.engine import Engine
from elanus.engine.requests import QueryRequest
from elanus.schema import CollectionSchema, DataType, FieldSchema

DIM = 4


def _schema() -> CollectionSchema:
    return CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True, auto_id=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": DIM}),
            FieldSchema("tag", DataType.INT64),
        )
    )


def _rows(n: int, tag: int, ids: list[int] | None = None) -> dict[str, object]:
    cols: dict[str, object] = {"vec": np.full((n, DIM), tag, np.float32), "tag": [tag] * n}
    if ids is not None:
        cols["id"] = ids
    return cols


def _count(e: Engine, expr: str = "") -> int:
    res = e.query("default", "c", QueryRequest(filter=expr, output_fields=["count(*)"]))
    return int(res.columns["count(*)"][0])


def test_upsert_replaces_given_keys_with_generated_ones(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", _schema())
        inserted = e.insert("default", "c", _rows(20, 1), 20).ids
        e.flush("default", "c")

        fresh = e.upsert("default", "c", _rows(3, 2, [10**9, 10**9 + 1, 10**9 + 2]), 3).ids
        assert min(fresh) > max(inserted)
        assert _count(e) == 23
        assert _count(e, f"id in {[10**9, 10**9 + 1, 10**9 + 2]}") == 0

        old = inserted[:5]
        again = e.upsert("default", "c", _rows(5, 3, old), 5).ids
        assert min(again) > max(fresh)
        assert _count(e, f"id in {old}") == 0
        assert _count(e, f"id in {again}") == 5
        assert _count(e) == 23

    with Engine.open(str(tmp_path), background=False) as e:
        # The replacement survives a restart (replayed from the log).
        assert _count(e, f"id in {old}") == 0
        assert _count(e, f"id in {again} and tag == 3") == 5
        assert _count(e) == 23
