"""The short cuts of a plain search (one source, no merge, kept unit rows, no pool
hand-off for the first segment) answer exactly what the general path answers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from test_search_kit import DIM, brute_force, make_snapshot, make_table, schema

from elanus.engine.requests import SearchRequest, SearchResults
from elanus.engine.search import execute_search
from elanus.engine.search_kernels import Candidates
from elanus.engine.search_merge import best_first
from elanus.engine.segment import GrowingSegment
from elanus.engine.snapshot import SegmentView, Snapshot
from elanus.index import unit_rows

N = 900
METRICS = ["L2", "IP", "COSINE"]


def _search(
    snap: Snapshot,
    queries: np.ndarray,
    metric: str,
    *,
    limit: int = 10,
    offset: int = 0,
    filter: str = "",
) -> SearchResults:
    request = SearchRequest(
        queries,
        "vec",
        limit=limit,
        offset=offset,
        filter=filter,
        search_params={"metric_type": metric},
    )
    return execute_search(snap, request)


def _same(a: SearchResults, b: SearchResults) -> None:
    assert a.topks == b.topks
    np.testing.assert_array_equal(np.asarray(a.ids), np.asarray(b.ids))
    np.testing.assert_array_equal(a.distances, b.distances)


def _queries(nq: int) -> np.ndarray:
    return np.random.default_rng(11).standard_normal((nq, DIM)).astype(np.float32)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("nq", [1, 3])
def test_one_segment_answers_as_several_segments_do(metric: str, nq: int) -> None:
    table = make_table(N, seed=2)
    q = _queries(nq)
    one = _search(make_snapshot(table, []), q, metric)
    several = _search(make_snapshot(table, [150, 420, 700]), q, metric)
    _same(one, several)
    ids = np.asarray(one.ids).reshape(nq, 10).tolist()
    assert ids == brute_force(table, np.ones(N, bool), q, metric, 10)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("cuts", [[], [300, 600]])
def test_a_filter_that_keeps_every_row_changes_nothing(metric: str, cuts: list[int]) -> None:
    table = make_table(N, seed=3)
    deleted = np.zeros(N, dtype=bool)
    deleted[::7] = True
    snap = make_snapshot(table, cuts, deleted=deleted)
    q = _queries(2)
    plain = _search(snap, q, metric, offset=2)
    filtered = _search(snap, q, metric, offset=2, filter="age >= 0")
    _same(plain, filtered)


@pytest.mark.parametrize("metric", METRICS)
def test_deletes_are_honoured_with_one_and_several_segments(metric: str) -> None:
    table = make_table(N, seed=4)
    deleted = np.zeros(N, dtype=bool)
    deleted[np.random.default_rng(1).choice(N, 300, replace=False)] = True
    q = _queries(1)
    one = _search(make_snapshot(table, [], deleted=deleted), q, metric, limit=25)
    several = _search(make_snapshot(table, [100, 500], deleted=deleted), q, metric, limit=25)
    _same(one, several)
    assert np.asarray(one.ids).tolist() == brute_force(table, ~deleted, q, metric, 25)[0]
    assert not set(np.asarray(one.ids).tolist()) & set(table.ids[deleted].tolist())


def _growing(table_vec: np.ndarray, ids: np.ndarray) -> GrowingSegment:
    segment = GrowingSegment(1, "_default", schema(dynamic=False))
    n = len(ids)
    columns = {
        "vec": table_vec,
        "age": pa.array(np.zeros(n, dtype=np.int64)),
        "color": pa.array(["red"] * n, type=pa.string()),
        "score": pa.array(np.zeros(n)),
        "id": pa.array(ids),
    }
    segment.append(columns, ids, np.full(n, 1 << 18, dtype=np.uint64))
    return segment


def _snapshot(segment: GrowingSegment, rows: int) -> Snapshot:
    view = SegmentView(segment, rows, np.zeros(rows, dtype=bool), sealed=False)
    return Snapshot(1 << 18, segment.schema, (view,), {})


def test_an_older_snapshot_of_a_growing_segment_keeps_its_answer_after_appends() -> None:
    unit_rows.clear()
    table = make_table(3000, seed=5)
    q = _queries(2)
    segment = _growing(table.vec[:1000], table.ids[:1000])
    early = _snapshot(segment, 1000)
    before = _search(early, q, "COSINE")
    # Enough appends to move the rows into a larger buffer.
    for lo in range(1000, 3000, 500):
        segment.append(
            {
                "vec": table.vec[lo : lo + 500],
                "age": pa.array(np.zeros(500, dtype=np.int64)),
                "color": pa.array(["red"] * 500, type=pa.string()),
                "score": pa.array(np.zeros(500)),
                "id": pa.array(table.ids[lo : lo + 500]),
            },
            table.ids[lo : lo + 500],
            np.full(500, 1 << 18, dtype=np.uint64),
        )
    _same(_search(early, q, "COSINE"), before)
    late = _search(_snapshot(segment, 3000), q, "COSINE")
    # The same rows written at once: normalised in one go, never extended.
    at_once = _search(_snapshot(_growing(table.vec, table.ids), 3000), q, "COSINE")
    _same(late, at_once)
    assert np.asarray(late.ids).reshape(2, 10).tolist() == brute_force(
        table, np.ones(3000, bool), q, "COSINE", 10
    )


@pytest.mark.parametrize("larger_is_better", [False, True])
def test_best_first_on_many_candidates_matches_a_stable_sort(larger_is_better: bool) -> None:
    rng = np.random.default_rng(8)
    for trial in range(60):
        n = int(rng.integers(65, 400))
        qidx = np.sort(rng.integers(0, 4, n)).astype(np.int64)
        dist = rng.integers(0, 30, n).astype(np.float32)
        if trial % 3 == 0:  # already in order
            key = -dist if larger_is_better else dist
            order = np.lexsort((key, qidx))
            qidx, dist = qidx[order], dist[order]
        if trial % 5 == 0:
            dist[int(rng.integers(0, n))] = np.nan
        cands = Candidates(qidx, np.zeros(n, np.int64), np.arange(n, dtype=np.int64), dist)
        key = np.where(np.isnan(dist), np.inf, -dist if larger_is_better else dist)
        want = np.lexsort((key.astype(np.float64), qidx))
        assert best_first(cands, larger_is_better).rows.tolist() == want.tolist()
