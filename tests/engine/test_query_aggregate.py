"""Aggregation queries through the engine: GROUP BY and count/sum/min/max/avg,
checked against pandas on the same rows (sealed and growing segments, deletes,
partitions, filters), and Milvus's refusals."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import QueryRequest, QueryResult
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType, FieldSchema

DB = "default"
N = 1200


def _schema() -> CollectionSchema:
    return CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 4}),
            FieldSchema("cat", DataType.VARCHAR, params={"max_length": 16}),
            FieldSchema("region", DataType.VARCHAR, nullable=True, params={"max_length": 16}),
            FieldSchema("n8", DataType.INT8),
            FieldSchema("n16", DataType.INT16, nullable=True),
            FieldSchema("i32", DataType.INT32),
            FieldSchema("d", DataType.DOUBLE, nullable=True),
            FieldSchema("f", DataType.FLOAT, nullable=True),
            FieldSchema("flag", DataType.BOOL),
            FieldSchema("doc", DataType.JSON, nullable=True),
            FieldSchema(
                "tags",
                DataType.ARRAY,
                element_type=DataType.INT64,
                params={"max_capacity": 4},
            ),
            FieldSchema("opt_vec", DataType.FLOAT_VECTOR, nullable=True, params={"dim": 2}),
        )
    )


def _frame(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)

    def maybe_null(values: np.ndarray, share: float) -> list[Any]:
        drop = rng.random(values.size) < share
        return [None if gone else v for v, gone in zip(values.tolist(), drop)]

    return pd.DataFrame(
        {
            "id": np.arange(N, dtype=np.int64),
            "cat": rng.choice(list("ABCDEFG"), N),
            "region": pd.array(
                maybe_null(rng.choice(["north", "south", "east"], N), 0.2), dtype="string"
            ),
            "n8": rng.integers(1, 6, N).astype(np.int8),
            "n16": pd.array(maybe_null(rng.integers(0, 100, N), 0.15), dtype="Int16"),
            "i32": rng.integers(0, 1000, N).astype(np.int32),
            "d": pd.array(maybe_null(rng.uniform(0, 100, N), 0.15), dtype="Float64"),
            "f": pd.array(maybe_null(rng.choice([1.0, 2.5, 4.0], N), 0.1), dtype="Float32"),
            "flag": rng.random(N) < 0.5,
        }
    )


def _columns(frame: pd.DataFrame, rows: slice) -> tuple[dict[str, Any], int]:
    part = frame.iloc[rows]
    n = len(part)
    opt = [i % 3 != 0 for i in part["id"]]
    columns: dict[str, Any] = {
        "id": part["id"].to_numpy(),
        "vec": np.ones((n, 4), dtype=np.float32),
        "cat": pa.array(part["cat"].tolist()),
        "region": pa.array(part["region"], pa.string()),
        "n8": pa.array(part["n8"].to_numpy()),
        "n16": pa.array(part["n16"], pa.int16()),
        "i32": pa.array(part["i32"].to_numpy()),
        "d": pa.array(part["d"], pa.float64()),
        "f": pa.array(part["f"], pa.float32()),
        "flag": pa.array(part["flag"].to_numpy()),
        "doc": pa.array(['{"k": 1}' if i % 2 else None for i in part["id"]], pa.string()),
        "tags": pa.array([[1, 2]] * n, pa.list_(pa.int64())),
        "opt_vec": [[1.0, 2.0] if keep else None for keep in opt],
    }
    return columns, n


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> Iterator[Engine]:
    path = Path(tmp_path_factory.mktemp("agg")) / "data"
    with Engine.open(str(path), sync=False, background=False) as eng:
        eng.create_collection(DB, "c", _schema(), consistency_level="Strong")
        eng.create_partition(DB, "c", "p1")
        # Sealed rows, growing rows, and rows of a second partition.
        eng.insert(DB, "c", *_columns(frame, slice(0, 500)))
        eng.flush(DB, "c")
        eng.insert(DB, "c", *_columns(frame, slice(500, 900)))
        eng.insert(DB, "c", *_columns(frame, slice(900, N)), partition="p1")
        eng.delete(DB, "c", ids=[3, 4, 600, 1000])
        yield eng


@pytest.fixture(scope="module")
def live(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[~frame["id"].isin([3, 4, 600, 1000])]


def _query(engine: Engine, **kwargs: Any) -> QueryResult:
    return engine.query(DB, "c", QueryRequest(**kwargs))


def _rows(result: QueryResult) -> list[dict[str, Any]]:
    lists = {k: v.to_pylist() for k, v in result.columns.items()}
    return [{k: lists[k][i] for k in result.output_fields} for i in range(result.num_rows)]


def _close(a: Any, b: Any) -> bool:
    if a is None or (isinstance(b, float) and math.isnan(b)):
        return a is None and (b is None or math.isnan(b))
    return bool(abs(float(a) - float(b)) < 1e-6)


def test_group_by_one_field_matches_pandas(engine: Engine, live: pd.DataFrame) -> None:
    res = _query(
        engine,
        output_fields=["cat", "count(*)", "count(n16)", "sum(i32)", "min(d)", "max(n16)", "avg(f)"],
        group_by_fields=["cat"],
    )
    truth = live.groupby("cat").agg(
        rows=("id", "size"),
        n16=("n16", "count"),
        i32=("i32", "sum"),
        dmin=("d", "min"),
        n16max=("n16", "max"),
        favg=("f", "mean"),
    )
    got = _rows(res)
    assert [r["cat"] for r in got] == sorted(truth.index)
    for row in got:
        want = truth.loc[row["cat"]]
        assert row["count(*)"] == want["rows"]
        assert row["count(n16)"] == want["n16"]
        assert row["sum(i32)"] == want["i32"]
        assert _close(row["min(d)"], want["dmin"])
        assert row["max(n16)"] == want["n16max"]
        assert _close(row["avg(f)"], want["favg"])


def test_result_types_follow_milvus(engine: Engine) -> None:
    res = _query(
        engine,
        output_fields=["sum(n8)", "sum(f)", "avg(i32)", "min(n8)", "max(cat)", "count(d)"],
        group_by_fields=["cat"],
    )
    types = {name: col.type for name, col in res.columns.items()}
    assert types == {
        "sum(n8)": pa.int64(),
        "sum(f)": pa.float64(),
        "avg(i32)": pa.float64(),
        "min(n8)": pa.int8(),
        "max(cat)": pa.string(),
        "count(d)": pa.int64(),
    }


def test_nullable_group_field_has_a_null_group(engine: Engine, live: pd.DataFrame) -> None:
    res = _query(engine, output_fields=["region", "count(*)"], group_by_fields=["region"])
    got = {r["region"]: r["count(*)"] for r in _rows(res)}
    want = live.groupby("region", dropna=False).size()
    assert got == {(None if pd.isna(k) else k): int(v) for k, v in want.items()}
    # Nulls come last in the default (ascending) order.
    assert list(got)[-1] is None


def test_multi_field_group_by(engine: Engine, live: pd.DataFrame) -> None:
    res = _query(
        engine,
        output_fields=["n8", "region", "sum(i32)"],
        group_by_fields=["n8", "region"],
    )
    want = live.groupby(["n8", "region"], dropna=False)["i32"].sum()
    got = {(r["n8"], r["region"]): r["sum(i32)"] for r in _rows(res)}
    assert got == {(int(a), None if pd.isna(b) else b): int(v) for (a, b), v in want.items()}


def test_global_aggregation_and_filter(engine: Engine, live: pd.DataFrame) -> None:
    res = _query(
        engine,
        filter="n16 >= 50",
        output_fields=["count(*)", "count(n16)", "sum(n16)", "avg(i32)"],
    )
    part = live[live["n16"] >= 50]
    (row,) = _rows(res)
    assert row["count(*)"] == len(part)
    assert row["count(n16)"] == part["n16"].count()
    assert row["sum(n16)"] == part["n16"].sum()
    assert _close(row["avg(i32)"], part["i32"].mean())


def test_global_aggregation_of_no_rows(engine: Engine) -> None:
    res = _query(engine, filter="i32 > 5000", output_fields=["count(*)", "sum(i32)", "max(cat)"])
    assert _rows(res) == [{"count(*)": 0, "sum(i32)": None, "max(cat)": None}]


def test_group_by_of_no_rows_is_empty(engine: Engine) -> None:
    res = _query(
        engine, filter="i32 > 5000", output_fields=["cat", "count(i32)"], group_by_fields=["cat"]
    )
    assert res.num_rows == 0
    assert list(res.columns) == ["cat", "count(i32)"]


def test_partitions_and_ids_narrow_the_rows(engine: Engine, live: pd.DataFrame) -> None:
    res = _query(
        engine, partition_names=["p1"], output_fields=["count(*)", "sum(i32)"], group_by_fields=[]
    )
    part = live[live["id"] >= 900]
    assert _rows(res) == [{"count(*)": len(part), "sum(i32)": int(part["i32"].sum())}]
    res = _query(engine, ids=[0, 1, 2, 3], output_fields=["count(*)"], group_by_fields=["cat"])
    assert sum(r["count(*)"] for r in _rows(res)) == 3


def test_limit_offset_and_order_by_cut_the_groups(engine: Engine, live: pd.DataFrame) -> None:
    cats = sorted(live["cat"].unique())
    res = _query(engine, output_fields=["cat", "count(*)"], group_by_fields=["cat"], limit=3)
    assert [r["cat"] for r in _rows(res)] == cats[:3]
    res = _query(
        engine,
        output_fields=["cat", "count(*)"],
        group_by_fields=["cat"],
        limit=2,
        offset=1,
        order_by="cat:desc",
    )
    assert [r["cat"] for r in _rows(res)] == cats[::-1][1:3]
    res = _query(
        engine,
        output_fields=["region"],
        group_by_fields=["region"],
        limit=10,
        order_by="region:asc:nulls_first",
    )
    assert [r["region"] for r in _rows(res)] == [None, "east", "north", "south"]


def test_group_by_without_aggregates_gives_distinct_keys(engine: Engine) -> None:
    res = _query(engine, filter="n8 > 0", output_fields=["n8"], group_by_fields=["n8"])
    assert [r["n8"] for r in _rows(res)] == [1, 2, 3, 4, 5]
    with pytest.raises(ParameterError, match="empty expression should be used with limit"):
        _query(engine, output_fields=["n8"], group_by_fields=["n8"])


def test_group_field_need_not_be_output(engine: Engine, live: pd.DataFrame) -> None:
    res = _query(engine, output_fields=["count(i32)"], group_by_fields=["cat"])
    assert res.output_fields == ["count(i32)"]
    assert sorted(r["count(i32)"] for r in _rows(res)) == sorted(live.groupby("cat").size())


def test_function_names_are_case_insensitive_and_keep_their_spelling(engine: Engine) -> None:
    res = _query(engine, output_fields=["cat", "COUNT(i32)", "Sum( i32 )"], group_by_fields=["cat"])
    lower = _query(engine, output_fields=["cat", "count(i32)", "sum(i32)"], group_by_fields=["cat"])
    assert res.output_fields == ["cat", "COUNT(i32)", "Sum( i32 )"]
    assert res.columns["COUNT(i32)"].equals(lower.columns["count(i32)"])
    assert res.columns["Sum( i32 )"].equals(lower.columns["sum(i32)"])


def test_count_of_json_array_and_nullable_vector_fields(engine: Engine, live: pd.DataFrame) -> None:
    res = _query(
        engine, output_fields=["count(doc)", "count(tags)", "count(opt_vec)", "count(vec)"]
    )
    (row,) = _rows(res)
    ids = live["id"]
    assert row == {
        "count(doc)": int((ids % 2 == 1).sum()),
        "count(tags)": len(live),
        "count(opt_vec)": int((ids % 3 != 0).sum()),
        "count(vec)": len(live),
    }


def test_lone_count_star_keeps_its_rules(engine: Engine, live: pd.DataFrame) -> None:
    (row,) = _rows(_query(engine, output_fields=["count(*)"], offset=5))
    assert row == {"count(*)": len(live)}
    with pytest.raises(ParameterError, match="count entities with pagination is not allowed"):
        _query(engine, output_fields=["count(*)"], limit=5)
    with pytest.raises(ParameterError, match="count entities with pagination is not allowed"):
        _query(engine, output_fields=["count(*)", "sum(i32)"], limit=5)
    res = _query(engine, output_fields=["cat", "count(*)"], group_by_fields=["cat"], limit=5)
    assert res.num_rows == 5


@pytest.mark.parametrize(
    ("kwargs", "message", "code"),
    [
        ({"group_by_fields": ["doc"]}, "group by field doc has unsupported data type JSON", 1100),
        (
            {"group_by_fields": ["tags"]},
            "group by field tags has unsupported data type Array",
            1100,
        ),
        (
            {"group_by_fields": ["vec"]},
            "group by field vec has unsupported data type FloatVector",
            1100,
        ),
        ({"group_by_fields": ["d"]}, "group by field d has unsupported data type Double", 1100),
        ({"group_by_fields": ["f"]}, "group by field f has unsupported data type Float", 1100),
        ({"group_by_fields": ["flag"]}, "group by field flag has unsupported data type Bool", 1100),
        ({"group_by_fields": ["nope"]}, "field nope not exist", 1100),
        (
            {"output_fields": ["cat", "sum(cat)"]},
            "aggregation operator sum does not support data type VarChar",
            65535,
        ),
        (
            {"output_fields": ["cat", "avg(flag)"]},
            "aggregation operator avg does not support data type Bool",
            65535,
        ),
        (
            {"output_fields": ["cat", "min(doc)"]},
            "aggregation operator min does not support data type JSON",
            65535,
        ),
        ({"output_fields": ["cat", "i32", "count(*)"]}, "output field 'i32' is not allowed", 1100),
        ({"output_fields": ["cat", "median(i32)"]}, "field median(i32) not exist", 1100),
        ({"output_fields": ["cat", "count(i32"]}, "field count(i32 not exist", 1100),
        (
            {"output_fields": ["cat", "count()"]},
            "target field  for aggregation:count does not exist",
            1100,
        ),
        (
            {"output_fields": ["cat", "sum(*)"]},
            "sum(*) is not supported, only count(*) is allowed",
            1100,
        ),
        (
            {"output_fields": ["cat", "count(i32)"], "order_by": "i32:asc", "limit": 5},
            "ORDER BY can only reference GROUP BY columns",
            1100,
        ),
        (
            {"output_fields": ["cat", "count(i32)"], "order_by": "count(i32):asc", "limit": 5},
            "ORDER BY on aggregate expression 'count(i32)' is not yet supported",
            1100,
        ),
        (
            {"output_fields": ["count(*)"], "group_by_fields": [], "order_by": "id", "limit": 5},
            "ORDER BY can only reference GROUP BY columns",
            1100,
        ),
    ],
)
def test_refusals_use_milvus_wording(
    engine: Engine, kwargs: dict[str, Any], message: str, code: int
) -> None:
    request = {"output_fields": ["count(i32)"], "group_by_fields": ["cat"]} | kwargs
    with pytest.raises(ParameterError) as info:
        _query(engine, **request)
    assert message in str(info.value)
    assert info.value.code == code


def test_high_cardinality_groups(tmp_path: Path) -> None:
    schema = CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 2}),
            FieldSchema("key", DataType.INT64),
            FieldSchema("value", DataType.INT64),
        )
    )
    rng = np.random.default_rng(1)
    n = 6000
    keys = rng.integers(0, 4000, n)
    values = rng.integers(1, 100, n)
    with Engine.open(str(tmp_path / "data"), sync=False, background=False) as eng:
        eng.create_collection(DB, "h", schema, consistency_level="Strong")
        columns = {
            "id": np.arange(n, dtype=np.int64),
            "vec": np.zeros((n, 2), dtype=np.float32),
            "key": keys,
            "value": values,
        }
        eng.insert(DB, "h", columns, n)
        request = QueryRequest(
            output_fields=["key", "count(value)", "sum(value)"], group_by_fields=["key"]
        )
        res = eng.query(DB, "h", request)
    want = (
        pd.DataFrame({"key": keys, "value": values}).groupby("key")["value"].agg(["count", "sum"])
    )
    assert res.columns["key"].to_pylist() == want.index.tolist()
    assert res.columns["count(value)"].to_pylist() == want["count"].tolist()
    assert res.columns["sum(value)"].to_pylist() == want["sum"].tolist()
