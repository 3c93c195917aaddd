"""Grouping and hybrid search on a tiny collection whose answers are worked out by hand.

Row ``r`` holds the vector ``(r + 1, 0, ...)``, so with L2 from the origin the rows
rank 0, 1, 2, ... and every distance is ``(r + 1) ** 2``.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from test_search_kit import DIM, make_snapshot, make_table

from elanus.engine.hybrid import execute_hybrid_search
from elanus.engine.requests import HybridSearchRequest, RankerSpec, SearchRequest, SearchResults
from elanus.engine.search import execute_search
from elanus.engine.snapshot import Snapshot
from elanus.errors import ParameterError

COLORS = ["a", "a", "b", "a", "c", "b", "c", "d"]
L2 = {"metric_type": "L2"}


@pytest.fixture
def snap() -> Snapshot:
    table = make_table(8)
    table.vec = np.zeros((8, DIM), dtype=np.float32)
    table.vec[:, 0] = np.arange(1, 9)
    table.color = np.array(COLORS)
    table.age = np.array([30, 10, 50, 20, 70, 0, 40, 60], dtype=np.int64)
    snap = make_snapshot(table, [3, 6])
    return snap


def rows_of(res: SearchResults) -> list[int]:
    ids = res.ids.to_pylist() if isinstance(res.ids, pa.Array) else list(res.ids)
    return [(int(i) - 7) // 3 for i in ids]


def at(x: float) -> np.ndarray:
    q = np.zeros((1, DIM), dtype=np.float32)
    q[0, 0] = x
    return q


def test_group_by_keeps_group_size_per_group_in_best_group_order(snap: Snapshot) -> None:
    res = execute_search(
        snap,
        SearchRequest(
            at(0), "vec", limit=2, group_by_field="color", group_size=2, search_params=L2
        ),
    )
    assert rows_of(res) == [0, 1, 2, 5]
    assert res.group_by_values.to_pylist() == ["a", "a", "b", "b"]
    res = execute_search(
        snap,
        SearchRequest(
            at(0), "vec", limit=2, offset=1, group_by_field="color", group_size=2, search_params=L2
        ),
    )
    assert rows_of(res) == [2, 5, 4, 6]
    res = execute_search(
        snap, SearchRequest(at(0), "vec", limit=3, group_by_field="color", search_params=L2)
    )
    assert rows_of(res) == [0, 2, 4]
    assert res.topks == [3]


def test_group_by_with_filter_and_two_queries(snap: Snapshot) -> None:
    queries = np.concatenate([at(0), at(8)])
    res = execute_search(
        snap,
        SearchRequest(
            queries,
            "vec",
            limit=2,
            filter="age > 15",
            group_by_field="color",
            group_size=1,
            strict_group_size=True,
            search_params=L2,
        ),
    )
    # age > 15 leaves rows 0, 2, 3, 4, 6, 7 (colors a, b, a, c, c, d).
    assert res.topks == [2, 2]
    assert rows_of(res) == [0, 2, 7, 6]


def test_group_by_rejects_float_fields(snap: Snapshot) -> None:
    with pytest.raises(ParameterError, match="group by"):
        execute_search(snap, SearchRequest(at(0), "vec", group_by_field="score", search_params=L2))


def _legs() -> list[SearchRequest]:
    return [
        SearchRequest(at(0), "vec", limit=3, search_params=L2),  # rows 0, 1, 2
        SearchRequest(at(4.4), "vec", limit=3, search_params=L2),  # rows 3, 4, 2
    ]


def test_hybrid_rrf(snap: Snapshot) -> None:
    res = execute_hybrid_search(
        snap,
        HybridSearchRequest(_legs(), RankerSpec("rrf", {"k": 60}), limit=4, output_fields=["age"]),
    )
    # row 2 is in both legs (rank 3 twice); rows 0 and 3 tie at 1/61, rows 1 and 4 at 1/62:
    # ties go to the smaller primary key.
    assert rows_of(res) == [2, 0, 3, 1]
    np.testing.assert_allclose(res.distances, [2 / 63, 1 / 61, 1 / 61, 1 / 62], rtol=1e-6)
    assert res.fields["age"].to_pylist() == [50, 30, 20, 10]
    res = execute_hybrid_search(
        snap, HybridSearchRequest(_legs(), RankerSpec("rrf", {"k": 60}), limit=2, offset=2)
    )
    assert rows_of(res) == [3, 1]


def test_hybrid_weighted_normalised(snap: Snapshot) -> None:
    res = execute_hybrid_search(
        snap,
        HybridSearchRequest(
            _legs(), RankerSpec("weighted", {"weights": [1.0, 0.5], "norm_score": True}), limit=5
        ),
    )

    def f(d: float) -> float:
        return 1 - 2 * math.atan(d) / math.pi

    leg1 = {0: 1.0, 1: 4.0, 2: 9.0}
    leg2 = {3: 0.16, 4: 0.36, 2: 1.96}
    score = {r: 1.0 * f(d) for r, d in leg1.items()}
    for r, d in leg2.items():
        score[r] = score.get(r, 0.0) + 0.5 * f(d)
    want = sorted(score, key=lambda r: (-score[r], r))
    assert rows_of(res) == want
    np.testing.assert_allclose(res.distances, [score[r] for r in want], rtol=1e-4)


def test_hybrid_decay_on_a_numeric_field(snap: Snapshot) -> None:
    ranker = RankerSpec(
        "decay",
        {
            "function": "gauss",
            "origin": 0,
            "scale": 20,
            "offset": 0,
            "decay": 0.5,
            "input_field_names": ["age"],
        },
    )
    legs = [SearchRequest(at(0), "vec", limit=4, search_params=L2)]
    res = execute_hybrid_search(snap, HybridSearchRequest(legs, ranker, limit=4))
    ages = [30, 10, 50, 20]
    score = {
        r: (1 - 2 * math.atan((r + 1) ** 2) / math.pi)
        * math.exp(ages[r] ** 2 * math.log(0.5) / 20**2)
        for r in range(4)
    }
    want = sorted(score, key=lambda r: -score[r])
    assert rows_of(res) == want
    np.testing.assert_allclose(res.distances, [score[r] for r in want], rtol=1e-4)


def test_hybrid_grouping_and_nq_mismatch(snap: Snapshot) -> None:
    res = execute_hybrid_search(
        snap,
        HybridSearchRequest(
            _legs(), RankerSpec("rrf", {}), limit=2, group_by_field="color", group_size=1
        ),
    )
    # merged ranking 2(b), 0(a), 3(a), 1(a), 4(c): first hit of the first two groups.
    assert rows_of(res) == [2, 0]
    bad = [_legs()[0], SearchRequest(np.concatenate([at(0), at(1)]), "vec", search_params=L2)]
    with pytest.raises(ParameterError, match="nq"):
        execute_hybrid_search(snap, HybridSearchRequest(bad, RankerSpec("rrf", {})))
