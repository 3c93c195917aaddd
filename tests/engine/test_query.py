"""Queries over snapshots: filters, ids, count(*), output fields, limit/offset."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_search_kit import make_snapshot, make_table

from elanus.engine.query import execute_query, matching_primary_keys
from elanus.engine.requests import QueryRequest
from elanus.errors import ParameterError

N = 300


@pytest.fixture
def table():  # type: ignore[no-untyped-def]
    return make_table(N, seed=3)


def _deleted() -> np.ndarray:
    mask = np.zeros(N, dtype=bool)
    mask[::7] = True
    return mask


def test_filter_honours_deletes_and_segments(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [80, 200], deleted=_deleted(), growing_extra=5)
    res = execute_query(snap, QueryRequest(filter="age >= 50", output_fields=["age"]))
    want = (table.age >= 50) & ~_deleted()
    assert sorted(res.columns["id"].tolist()) == sorted(table.ids[want].tolist())
    assert res.output_fields == ["id", "age"]
    assert res.num_rows == int(want.sum())


def test_count_star(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [100], deleted=_deleted())
    res = execute_query(snap, QueryRequest(output_fields=["count(*)"]))
    assert res.columns["count(*)"].to_pylist() == [int((~_deleted()).sum())]
    res = execute_query(snap, QueryRequest(filter='color == "red"', output_fields=["count(*)"]))
    assert res.columns["count(*)"].to_pylist() == [
        int(((table.color == "red") & ~_deleted()).sum())
    ]
    with pytest.raises(ParameterError, match="pagination"):
        execute_query(snap, QueryRequest(output_fields=["count(*)"], limit=3))


def test_empty_filter_needs_a_limit(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [])
    with pytest.raises(ParameterError, match="empty expression should be used with limit"):
        execute_query(snap, QueryRequest())
    res = execute_query(snap, QueryRequest(limit=5))
    assert res.columns["id"].tolist() == sorted(table.ids.tolist())[:5]


def test_limit_offset_ordered_by_primary_key(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [150, 50 + 150], deleted=_deleted())
    live = np.sort(table.ids[~_deleted() & (table.age > 20)])
    res = execute_query(snap, QueryRequest(filter="age > 20", limit=10, offset=15))
    assert res.columns["id"].tolist() == live[15:25].tolist()
    with pytest.raises(ParameterError, match="16384"):
        execute_query(snap, QueryRequest(filter="age > 20", limit=16384, offset=1))


def test_ids_lookup_with_and_without_filter(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [100], deleted=_deleted())
    wanted = [int(table.ids[i]) for i in (0, 1, 2, 150, 299)] + [999999]
    res = execute_query(snap, QueryRequest(ids=wanted, output_fields=["color"]))
    live = {int(table.ids[i]) for i in (1, 2, 150, 299) if not _deleted()[i]}
    assert set(res.columns["id"].tolist()) == live
    res = execute_query(snap, QueryRequest(filter=f"id in {wanted}"))
    assert set(res.columns["id"].tolist()) == live
    young = {int(table.ids[i]) for i in (1, 2, 150, 299) if table.age[i] < 50}
    res = execute_query(snap, QueryRequest(ids=wanted, filter="age < 50"))
    assert set(res.columns["id"].tolist()) == young & live


def test_output_fields_star_and_dynamic(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [120])
    res = execute_query(snap, QueryRequest(filter="age < 10", output_fields=["*"]))
    assert set(res.columns) == {"id", "vec", "age", "color", "score", "$meta"}
    rows = [int(np.flatnonzero(table.ids == i)[0]) for i in res.columns["id"].tolist()]
    np.testing.assert_array_equal(res.columns["vec"], table.vec[rows])
    res = execute_query(snap, QueryRequest(filter="age < 10", output_fields=["tag", "score"]))
    assert res.output_fields == ["id", "score", "tag"]
    metas = [json.loads(t) for t in res.columns["$meta"].to_pylist()]
    assert metas == [{"tag": f"t{r % 5}"} for r in rows]
    res = execute_query(snap, QueryRequest(filter='tag == "t1"', output_fields=["$meta"]))
    assert all(json.loads(t)["tag"] == "t1" for t in res.columns["$meta"].to_pylist())
    assert res.num_rows == N // 5


def test_partitions_restrict_rows(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [100], partitions=["a", "b"])
    res = execute_query(snap, QueryRequest(filter="age >= 0", partition_names=["a"]))
    assert sorted(res.columns["id"].tolist()) == sorted(table.ids[:100].tolist())


def test_varchar_keys_order_and_lookup() -> None:
    table = make_table(60, varchar_pk=True)
    snap = make_snapshot(table, [25])
    res = execute_query(snap, QueryRequest(filter='id > "k000050"', limit=4, order_by_pk=True))
    assert (
        res.columns["id"].to_pylist() == sorted(k for k in table.ids.tolist() if k > "k000050")[:4]
    )
    res = execute_query(snap, QueryRequest(ids=["k000007", "k000100"]))
    assert res.columns["id"].to_pylist() == ["k000007", "k000100"]


def test_iterator_pages_cover_every_row_once(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [90, 210], deleted=_deleted())
    seen: list[int] = []
    last = None
    while True:
        text = "age >= 0" if last is None else f"id > {last} and (age >= 0)"
        page = execute_query(snap, QueryRequest(filter=text, limit=37, order_by_pk=True))
        if page.num_rows == 0:
            break
        seen.extend(page.columns["id"].tolist())
        last = seen[-1]
    assert seen == sorted(table.ids[~_deleted()].tolist())


def test_matching_primary_keys(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [100], deleted=_deleted())
    keys = matching_primary_keys(snap, "score > 0.5")
    assert sorted(np.asarray(keys).tolist()) == sorted(
        table.ids[(table.score > 0.5) & ~_deleted()].tolist()
    )
    with pytest.raises(ParameterError):
        matching_primary_keys(snap, "")
