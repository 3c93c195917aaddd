"""Caches and fast paths of the read path give exactly what the general path gives."""

from __future__ import annotations

import numpy as np
import pytest
from test_search_kit import make_snapshot, make_table

from elanus.engine.output import gather_columns, plan_output
from elanus.engine.search_kernels import Candidates
from elanus.engine.search_merge import best_first, rank_within, take_window
from elanus.engine.search_plan import plan_search
from elanus.errors import ParameterError


def _reference_order(cands: Candidates, larger_is_better: bool) -> np.ndarray:
    key = cands.dist.astype(np.float64)
    key = -key if larger_is_better else key
    key = np.where(np.isnan(key), np.inf, key)
    return np.lexsort((key, cands.qidx))


@pytest.mark.parametrize("larger_is_better", [False, True])
def test_best_first_matches_a_stable_sort_sorted_or_not(larger_is_better: bool) -> None:
    rng = np.random.default_rng(3)
    for trial in range(500):
        n = int(rng.integers(1, 25))
        qidx = rng.integers(0, 3, n).astype(np.int64)
        if trial % 2:
            qidx = np.sort(qidx)
        dist = rng.integers(0, 4, n).astype(np.float32)
        if trial % 5 == 0:
            dist[int(rng.integers(0, n))] = np.nan
        cands = Candidates(qidx, np.zeros(n, np.int64), np.arange(n, dtype=np.int64), dist)
        got = best_first(cands, larger_is_better)
        assert got.rows.tolist() == _reference_order(cands, larger_is_better).tolist()
        again = best_first(got, larger_is_better)
        assert again.rows.tolist() == got.rows.tolist()


def test_rank_within_runs() -> None:
    keys = np.array([0, 0, 0, 1, 2, 2, 5], dtype=np.int64)
    assert rank_within(keys).tolist() == [0, 1, 2, 0, 0, 1, 0]
    assert rank_within(np.zeros(0, dtype=np.int64)).tolist() == []


@pytest.mark.parametrize(("nq", "offset", "limit"), [(1, 0, 2), (1, 1, 2), (3, 0, 2), (3, 1, 5)])
def test_take_window_per_query(nq: int, offset: int, limit: int) -> None:
    qidx = np.repeat(np.arange(nq, dtype=np.int64), 4)
    n = qidx.size
    cands = Candidates(
        qidx, np.zeros(n, np.int64), np.arange(n, dtype=np.int64), np.arange(n, dtype=np.float32)
    )
    kept, topks = take_window(cands, nq, offset, limit)
    expect = [r for q in range(nq) for r in range(4 * q, 4 * q + 4)[offset : offset + limit]]
    assert kept.rows.tolist() == expect
    assert topks == [len(range(4)[offset : offset + limit])] * nq


def test_gather_in_one_segment_and_across_segments_agree() -> None:
    table = make_table(60)
    one = make_snapshot(table, [])
    three = make_snapshot(table, [20, 40])
    plan = plan_output(one.schema, ["age", "color", "vec", "tag"], include_primary=True)
    rows = np.array([45, 3, 3, 59, 0, 21], dtype=np.int64)
    a = gather_columns(one, plan, np.zeros(rows.size, np.int64), rows)
    b = gather_columns(three, plan, rows // 20, rows % 20)
    assert list(a) == list(b)
    for name in a:
        left, right = a[name], b[name]
        if isinstance(left, np.ndarray):
            assert np.array_equal(left, right)
        else:
            assert left.to_pylist() == right.to_pylist()
    assert np.asarray(a["id"]).tolist() == table.ids[rows].tolist()


def test_usable_mask_is_cached_and_read_only() -> None:
    table = make_table(30)
    deleted = np.zeros(30, dtype=bool)
    deleted[[2, 7]] = True
    view = make_snapshot(table, [], deleted=deleted).segments[0]
    assert view.usable is view.usable
    assert view.usable.tolist() == (~deleted).tolist()
    assert view.live_count == 28
    with pytest.raises(ValueError):
        view.usable[0] = False


def test_cached_search_plan_still_rejects_bad_requests() -> None:
    snap = make_snapshot(make_table(10), [])
    good = plan_search(
        snap, anns_field="vec", search_params={"metric_type": "L2"}, limit=5, offset=0
    )
    again = plan_search(
        snap, anns_field="vec", search_params={"metric_type": "L2"}, limit=5, offset=0
    )
    assert again is good
    with pytest.raises(ParameterError):
        plan_search(snap, anns_field="vec", search_params={"metric_type": "L2"}, limit=0, offset=0)
    with pytest.raises(ParameterError):
        plan_search(
            snap, anns_field="vec", search_params={"metric_type": "HAMMING"}, limit=5, offset=0
        )
    other = plan_search(
        snap, anns_field="vec", search_params={"metric_type": "IP"}, limit=5, offset=0
    )
    assert other.metric == "IP" and good.metric == "L2"
