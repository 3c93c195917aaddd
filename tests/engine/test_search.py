"""Vector search over snapshots, checked against brute-force numpy over the live rows."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from test_search_kit import (
    DIM,
    brute_force,
    distances,
    make_snapshot,
    make_table,
    schema,
)

from elanus.engine.requests import SearchRequest, SearchResults
from elanus.engine.search import execute_search
from elanus.engine.segment import GrowingSegment
from elanus.errors import ParameterError
from elanus.index import build_vector_index

N = 600


def per_query(res: SearchResults) -> list[list[object]]:
    ids = res.ids.to_pylist() if isinstance(res.ids, pa.Array) else list(res.ids)
    off = res.offsets
    return [ids[int(off[i]) : int(off[i + 1])] for i in range(res.nq)]


@pytest.fixture
def table():  # type: ignore[no-untyped-def]
    return make_table(N, seed=1)


@pytest.mark.parametrize("metric", ["L2", "IP", "COSINE"])
def test_matches_brute_force_across_segments(table, metric: str) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [100, 350])
    queries = np.random.default_rng(5).standard_normal((4, DIM)).astype(np.float32)
    res = execute_search(
        snap,
        SearchRequest(queries, "vec", limit=7, search_params={"metric_type": metric}),
    )
    assert res.nq == 4 and res.topks == [7] * 4
    assert per_query(res) == brute_force(table, np.ones(N, bool), queries, metric, 7)
    want = np.sort(distances(metric, table.vec, queries), axis=1)
    if metric != "L2":
        want = -np.sort(-distances(metric, table.vec, queries), axis=1)
    np.testing.assert_allclose(res.distances.reshape(4, 7), want[:, :7], rtol=1e-4, atol=1e-4)
    assert res.metric_type == metric


def test_deletes_are_never_returned(table) -> None:  # type: ignore[no-untyped-def]
    deleted = np.zeros(N, dtype=bool)
    deleted[::2] = True
    snap = make_snapshot(table, [250], deleted=deleted)
    q = table.vec[:3]  # the deleted rows themselves would be the best hits
    res = execute_search(
        snap, SearchRequest(q, "vec", limit=5, search_params={"metric_type": "L2"})
    )
    assert per_query(res) == brute_force(table, ~deleted, q, "L2", 5)


def test_rows_past_num_rows_are_invisible(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [300], growing_extra=50)
    q = np.zeros((1, DIM), dtype=np.float32)  # the junk rows are zero vectors: distance 0
    res = execute_search(
        snap, SearchRequest(q, "vec", limit=5, search_params={"metric_type": "L2"})
    )
    assert per_query(res) == brute_force(table, np.ones(N, bool), q, "L2", 5)


def test_offset_and_limit(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [200, 400])
    q = table.vec[10:12]
    res = execute_search(
        snap, SearchRequest(q, "vec", limit=4, offset=6, search_params={"metric_type": "IP"})
    )
    assert per_query(res) == brute_force(table, np.ones(N, bool), q, "IP", 4, offset=6)


@pytest.mark.parametrize("threshold", [100, 50, 10, 1])
def test_filtered_at_several_selectivities(table, threshold: int) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [150, 420])
    q = table.vec[:3]
    res = execute_search(
        snap,
        SearchRequest(
            q, "vec", limit=10, filter=f"age < {threshold}", search_params={"metric_type": "L2"}
        ),
    )
    assert per_query(res) == brute_force(table, table.age < threshold, q, "L2", 10)


def test_output_fields_including_dynamic(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [300])
    q = table.vec[5:6]
    res = execute_search(
        snap,
        SearchRequest(
            q,
            "vec",
            limit=3,
            output_fields=["age", "color", "tag"],
            search_params={"metric_type": "L2"},
        ),
    )
    rows = [int(np.flatnonzero(table.ids == i)[0]) for i in per_query(res)[0]]
    assert res.fields["age"].to_pylist() == [int(table.age[r]) for r in rows]
    assert res.fields["color"].to_pylist() == [str(table.color[r]) for r in rows]
    metas = [json.loads(t) for t in res.fields["$meta"].to_pylist()]
    assert metas == [{"tag": f"t{r % 5}"} for r in rows]
    assert res.output_fields == ["age", "color", "tag"]


def test_star_returns_every_field_and_vectors(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [300])
    res = execute_search(
        snap,
        SearchRequest(
            table.vec[:2], "vec", limit=2, output_fields=["*"], search_params={"metric_type": "L2"}
        ),
    )
    assert set(res.fields) == {"id", "vec", "age", "color", "score", "$meta"}
    np.testing.assert_array_equal(res.fields["vec"][0], table.vec[0])


def test_range_search_l2_and_ip(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [333])
    q = table.vec[:2]
    d = distances("L2", table.vec, q)
    res = execute_search(
        snap,
        SearchRequest(
            q,
            "vec",
            limit=50,
            search_params={"metric_type": "L2", "params": {"radius": 10.0, "range_filter": 4.0}},
        ),
    )
    for qi, hits in enumerate(per_query(res)):
        inside = np.flatnonzero((d[qi] >= 4.0) & (d[qi] < 10.0))
        want = table.ids[inside[np.argsort(d[qi, inside], kind="stable")]][:50]
        assert hits == list(want)
    dip = distances("IP", table.vec, q)
    res = execute_search(
        snap,
        SearchRequest(
            q,
            "vec",
            limit=20,
            search_params={"metric_type": "IP", "params": {"radius": 1.0, "range_filter": 3.0}},
        ),
    )
    for qi, hits in enumerate(per_query(res)):
        inside = np.flatnonzero((dip[qi] > 1.0) & (dip[qi] <= 3.0))
        want = table.ids[inside[np.argsort(-dip[qi, inside], kind="stable")]][:20]
        assert hits == list(want)


def test_range_filter_on_the_wrong_side_is_an_error(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [])
    with pytest.raises(ParameterError, match="range_filter must be less than radius"):
        execute_search(
            snap,
            SearchRequest(
                table.vec[:1],
                "vec",
                search_params={"metric_type": "L2", "params": {"radius": 1.0, "range_filter": 2.0}},
            ),
        )


def test_metric_must_match_the_index(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [], index_specs={"vec": {"metric_type": "COSINE"}})
    with pytest.raises(ParameterError, match=r"metric type not match.*expected=COSINE.*actual=L2"):
        execute_search(
            snap, SearchRequest(table.vec[:1], "vec", search_params={"metric_type": "L2"})
        )
    res = execute_search(snap, SearchRequest(table.vec[:1], "vec", limit=3))
    assert res.metric_type == "COSINE"


def test_round_decimal(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [])
    res = execute_search(
        snap,
        SearchRequest(
            table.vec[:1], "vec", limit=5, round_decimal=2, search_params={"metric_type": "IP"}
        ),
    )
    np.testing.assert_array_equal(res.distances, np.round(res.distances, 2))


def test_bad_requests(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [])
    with pytest.raises(ParameterError, match="dim"):
        execute_search(snap, SearchRequest(np.zeros((1, DIM + 1), np.float32), "vec"))
    with pytest.raises(ParameterError, match="16384"):
        execute_search(snap, SearchRequest(table.vec[:1], "vec", limit=16000, offset=1000))
    with pytest.raises(ParameterError, match="round_decimal"):
        execute_search(snap, SearchRequest(table.vec[:1], "vec", round_decimal=9))
    no_dynamic = make_snapshot(table, [], schema_=schema(dynamic=False))
    with pytest.raises(ParameterError, match="field nope not exist"):
        execute_search(no_dynamic, SearchRequest(table.vec[:1], "vec", output_fields=["nope"]))


def test_partition_restriction(table) -> None:  # type: ignore[no-untyped-def]
    snap = make_snapshot(table, [300], partitions=["p1", "p2"])
    q = table.vec[:2]
    res = execute_search(
        snap,
        SearchRequest(
            q, "vec", limit=4, partition_names=["p2"], search_params={"metric_type": "L2"}
        ),
    )
    usable = np.zeros(N, bool)
    usable[300:] = True
    assert per_query(res) == brute_force(table, usable, q, "L2", 4)


def test_varchar_primary_keys() -> None:
    table = make_table(200, varchar_pk=True)
    snap = make_snapshot(table, [90])
    q = table.vec[:2]
    res = execute_search(
        snap, SearchRequest(q, "vec", limit=3, search_params={"metric_type": "L2"})
    )
    assert per_query(res) == brute_force(table, np.ones(200, bool), q, "L2", 3)


def test_empty_snapshot_gives_empty_hits(table) -> None:  # type: ignore[no-untyped-def]
    deleted = np.ones(N, dtype=bool)
    snap = make_snapshot(table, [100], deleted=deleted)
    res = execute_search(
        snap, SearchRequest(table.vec[:2], "vec", limit=3, search_params={"metric_type": "L2"})
    )
    assert res.topks == [0, 0] and len(res.distances) == 0


class _IndexedSegment(GrowingSegment):
    """A growing segment that also serves a real FAISS index over its vectors,
    recording the allowed-row masks each index search receives."""

    def __init__(self, segment: GrowingSegment, index: Any) -> None:
        self.__dict__.update(segment.__dict__)
        self.index = index
        self.calls: list[np.ndarray | None] = []
        search = index.search

        def recording(queries, k, params=None, allowed=None):  # type: ignore[no-untyped-def]
            self.calls.append(allowed)
            return search(queries, k, params, allowed)

        index.search = recording

    def vector_index(self, field_name: str) -> Any | None:
        return self.index if field_name == "vec" else None


def test_index_used_when_many_rows_pass_and_scan_when_few() -> None:
    table = make_table(3000, seed=2)
    snap = make_snapshot(table, [], index_specs={"vec": {"metric_type": "L2"}})
    view = snap.segments[0]
    field = snap.schema.field("vec")
    built = build_vector_index(field, "FLAT", "L2", {}, table.vec)
    index = _IndexedSegment(view.data, built)  # type: ignore[arg-type]
    snap = replace(snap, segments=(replace(view, data=index),))
    q = table.vec[:2]
    res = execute_search(snap, SearchRequest(q, "vec", limit=5, filter="age >= 20"))
    assert len(index.calls) == 1 and index.calls[0] is not None
    assert per_query(res) == brute_force(table, table.age >= 20, q, "L2", 5)
    res = execute_search(snap, SearchRequest(q, "vec", limit=5, filter="age < 3"))
    assert len(index.calls) == 1  # 3 % of rows pass: exact scan of the survivors
    assert per_query(res) == brute_force(table, table.age < 3, q, "L2", 5)
