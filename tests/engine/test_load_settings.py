"""Load settings: a field list checked as Milvus checks it and fields outside it not
held in memory (still answered), and replica counts above one refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import IndexSpec, QueryRequest
from elanus.errors import ElanusError, ParameterError
from elanus.schema import CollectionSchema, DataType, FieldSchema

DB = "default"


def _schema() -> CollectionSchema:
    return CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 2}),
            FieldSchema("kept", DataType.INT64),
            FieldSchema("left", DataType.VARCHAR, params={"max_length": 16}),
        ),
        enable_dynamic_field=True,
    )


def _open(path: Path) -> Engine:
    e = Engine.open(str(path), background=False)
    if not e.has_collection(DB, "c"):
        e.create_collection(DB, "c", _schema(), indexes=[IndexSpec("vec", "FLAT", "vec", "L2")])
        n = 20
        columns = {
            "id": list(range(n)),
            "vec": np.ones((n, 2), dtype=np.float32),
            "kept": list(range(n)),
            "left": [f"s{i}" for i in range(n)],
            "$meta": [json.dumps({"x": i}) for i in range(n)],
        }
        e.insert(DB, "c", columns, n)
        e.flush(DB, "c")
    return e


def _held(e: Engine) -> frozenset[str]:
    meta = e._meta(DB, "c")
    (segment,) = e.collections[meta.collection_id].sealed
    return segment.files.held_columns()


def _read_all(e: Engine) -> dict[str, list[object]]:
    res = e.query(
        DB, "c", QueryRequest(filter='left == "s3" or x == 4', output_fields=["*"], limit=5)
    )
    return {
        name: column.to_pylist() if hasattr(column, "to_pylist") else np.asarray(column).tolist()
        for name, column in res.columns.items()
    }


def test_fields_left_out_of_a_load_are_answered_but_not_held(tmp_path: Path) -> None:
    e = _open(tmp_path)
    e.release_collection(DB, "c")
    e.load_collection(DB, "c", load_fields=["id", "vec", "kept"], skip_load_dynamic_field=True)
    out = _read_all(e)
    assert out["id"] == [3, 4] and out["left"] == ["s3", "s4"]
    held = _held(e)
    assert "kept" in held
    assert "left" not in held and "$meta" not in held
    e.close()
    # the list survives a restart
    e = _open(tmp_path)
    assert _read_all(e)["left"] == ["s3", "s4"]
    assert "left" not in _held(e) and "$meta" not in _held(e)
    # a load without a list holds every field again
    e.load_collection(DB, "c")
    _read_all(e)
    assert {"left", "$meta"} <= _held(e)
    e.close()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (["vec", "kept"], r"load field list \[vec kept\] does not contain primary key field id"),
        (["id", "kept"], r"load field list \[id kept\] does not contain vector field"),
        (["id", "vec", "nope"], r"failed to get field schema by name: fieldName\(nope\) not found"),
    ],
)
def test_a_load_field_list_is_checked(tmp_path: Path, fields: list[str], message: str) -> None:
    with _open(tmp_path) as e:
        e.release_collection(DB, "c")
        with pytest.raises(ParameterError, match=message):
            e.load_collection(DB, "c", load_fields=fields)
        assert e.get_load_state(DB, "c") == "NotLoad"


def test_a_partition_key_must_be_loaded(tmp_path: Path) -> None:
    schema = CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 2}),
            FieldSchema("tenant", DataType.INT64, is_partition_key=True),
        )
    )
    with Engine.open(str(tmp_path)) as e:
        e.create_collection(DB, "p", schema, indexes=[IndexSpec("vec", "FLAT", "vec", "L2")])
        with pytest.raises(
            ParameterError,
            match=r"load field list \[id vec\] does not contain partition key field tenant",
        ):
            e.load_collection(DB, "p", load_fields=["id", "vec"])


def test_more_than_one_replica_is_refused(tmp_path: Path) -> None:
    with _open(tmp_path) as e:
        e.release_collection(DB, "c")
        with pytest.raises(
            ElanusError, match=r"when load 2 replica count: service resource insufficient"
        ) as info:
            e.load_collection(DB, "c", replica_number=2)
        assert info.value.code == 65535
        assert e.get_load_state(DB, "c") == "NotLoad"
        with pytest.raises(ElanusError, match="when load 3 replica count"):
            e.load_partitions(DB, "c", ["_default"], replica_number=3)
        for count in (None, -1, 0, 1):
            e.load_collection(DB, "c", replica_number=count)
            assert e.get_load_state(DB, "c") == "Loaded"
