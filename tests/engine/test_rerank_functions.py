"""Rerank functions on plain search, model rerank and strict grouping, worked out by hand.

Row ``r`` holds the vector ``(r + 1, 0, ...)``, so with L2 from the origin the rows
rank 0, 1, 2, ... and every distance is ``(r + 1) ** 2``. Segments hold rows 0-2,
3-5 and 6-7.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from test_search_kit import DIM, make_snapshot, make_table

from elanus.engine.hybrid import execute_hybrid_search
from elanus.engine.requests import (
    FunctionScoreSpec,
    HybridSearchRequest,
    RankerSpec,
    SearchRequest,
    SearchResults,
)
from elanus.engine.search import execute_search
from elanus.engine.snapshot import Snapshot
from elanus.errors import NotSupportedError, ParameterError
from elanus.text import register_rerank_provider
from elanus.text.rerank import random_scores

COLORS = ["a", "a", "b", "a", "c", "b", "c", "d"]
AGES = [30, 10, 50, 20, 70, 0, 40, 60]
L2 = {"metric_type": "L2"}


@pytest.fixture
def snap() -> Snapshot:
    table = make_table(8)
    table.vec = np.zeros((8, DIM), dtype=np.float32)
    table.vec[:, 0] = np.arange(1, 9)
    table.color = np.array(COLORS)
    table.age = np.array(AGES, dtype=np.int64)
    return make_snapshot(table, [3, 6])


def rows_of(res: SearchResults) -> list[int]:
    ids = res.ids.to_pylist() if isinstance(res.ids, pa.Array) else list(res.ids)
    return [(int(i) - 7) // 3 for i in ids]


def at(x: float) -> np.ndarray:
    q = np.zeros((1, DIM), dtype=np.float32)
    q[0, 0] = x
    return q


def search(snap: Snapshot, score: FunctionScoreSpec, **kw: Any) -> SearchResults:
    return execute_search(snap, SearchRequest(at(0), "vec", search_params=L2, ranker=score, **kw))


def boost(**params: Any) -> RankerSpec:
    return RankerSpec("boost", params)


# --- boost ------------------------------------------------------------------------------


def test_boost_pulls_a_matching_row_from_beyond_the_plain_top_k(snap: Snapshot) -> None:
    # Each segment offers its best 3: rows 0-2, 3-5, 6-7. Rows 4 and 6 (color c) have
    # their distances 25 and 49 multiplied by 0.1.
    res = search(snap, FunctionScoreSpec((boost(filter='color == "c"', weight=0.1),)), limit=3)
    assert rows_of(res) == [0, 4, 1]
    np.testing.assert_allclose(res.distances, [1.0, 2.5, 4.0], rtol=1e-6)


def test_boost_functions_combine_by_function_mode_and_ties_keep_plain_order(
    snap: Snapshot,
) -> None:
    # color a: rows 0, 1, 3 (x0.5); age < 25: rows 1, 3, 5 (x0.25).
    # row0 1*0.5=0.5, row1 4*0.125=0.5, row3 16*0.125=2, row2 9, row5 36*0.25=9.
    score = FunctionScoreSpec(
        (boost(filter='color == "a"', weight=0.5), boost(filter="age < 25", weight=0.25)),
        {"boost_mode": "multiply", "function_mode": "multiply"},
    )
    res = search(snap, score, limit=4)
    assert rows_of(res) == [0, 1, 3, 2]
    np.testing.assert_allclose(res.distances, [0.5, 0.5, 2.0, 9.0], rtol=1e-6)
    # Summed and added: row0 1+2=3, row1 4+5=9, row2 9, row3 16+5=21.
    score = FunctionScoreSpec(
        (boost(filter='color == "a"', weight=2), boost(filter="age < 25", weight=3)),
        {"boost_mode": "sum", "function_mode": "sum"},
    )
    res = search(snap, score, limit=3, offset=1)
    assert rows_of(res) == [1, 2, 3]
    np.testing.assert_allclose(res.distances, [9.0, 9.0, 21.0], rtol=1e-6)


def test_boost_random_score_is_stable_per_key(snap: Snapshot) -> None:
    score = FunctionScoreSpec(
        (boost(weight=10.0, random_score={"seed": 7, "field": "id"}),), {"boost_mode": "sum"}
    )
    ids = np.arange(8, dtype=np.int64) * 3 + 7
    dist = (np.arange(8) + 1.0) ** 2 + 10.0 * random_scores(ids, 7)
    want = [int(r) for r in np.argsort(dist, kind="stable")[:3]]
    res = search(snap, score, limit=3)
    assert rows_of(res) == want
    np.testing.assert_allclose(res.distances, dist[want], rtol=1e-5)
    assert rows_of(search(snap, score, limit=3)) == want


def test_boost_rejects_bad_params(snap: Snapshot) -> None:
    with pytest.raises(ParameterError, match="weight"):
        search(snap, FunctionScoreSpec((boost(filter="age > 1"),)))
    with pytest.raises(ParameterError, match="boost_mode"):
        search(snap, FunctionScoreSpec((boost(weight=1),), {"boost_mode": "max"}))
    with pytest.raises(ParameterError, match="grouping"):
        search(snap, FunctionScoreSpec((boost(weight=1),)), group_by_field="color")


# --- decay ------------------------------------------------------------------------------


def _decay(**extra: Any) -> RankerSpec:
    params = {"function": "gauss", "origin": 0, "scale": 20, "decay": 0.5}
    params.update(extra)
    return RankerSpec("decay", {**params, "input_field_names": ["age"]})


def _decayed(r: int, *, offset: float = 0.0) -> float:
    x = max(0.0, abs(AGES[r]) - offset)
    return (1 - 2 * math.atan((r + 1) ** 2) / math.pi) * math.exp(x * x * math.log(0.5) / 400)


def test_decay_reranks_the_top_window_of_a_plain_search(snap: Snapshot) -> None:
    res = search(snap, FunctionScoreSpec((_decay(),)), limit=4)
    score = {r: _decayed(r) for r in range(4)}
    want = sorted(score, key=lambda r: -score[r])
    assert want == [1, 0, 3, 2]
    assert rows_of(res) == want
    np.testing.assert_allclose(res.distances, [score[r] for r in want], rtol=1e-4)
    # offset: the best limit+offset hits are reranked, then the first is skipped.
    res = search(snap, FunctionScoreSpec((_decay(offset=15),)), limit=2, offset=1)
    score = {r: _decayed(r, offset=15) for r in range(3)}
    want = sorted(score, key=lambda r: -score[r])[1:]
    assert rows_of(res) == want


def test_decay_after_boost_and_errors(snap: Snapshot) -> None:
    # boost moves rows 4 and 6 (25 and 49 -> 0.25 and 0.49) ahead of row 0 (1.0):
    # the window is rows 4, 6, 0, then decay reorders it by age.
    score = FunctionScoreSpec((boost(filter='color == "c"', weight=0.01), _decay()))
    res = search(snap, score, limit=3)
    boosted = {4: 0.25, 6: 0.49, 0: 1.0}
    want = sorted(
        boosted,
        key=lambda r: (
            -(1 - 2 * math.atan(boosted[r]) / math.pi)
            * math.exp(AGES[r] ** 2 * math.log(0.5) / 400)
        ),
    )
    assert want == [0, 6, 4]
    assert rows_of(res) == want
    with pytest.raises(ParameterError, match="at most one"):
        search(snap, FunctionScoreSpec((_decay(), _decay())))
    bad = RankerSpec(
        "decay", {"function": "gauss", "origin": 0, "scale": 1, "input_field_names": ["color"]}
    )
    with pytest.raises(ParameterError, match="numeric"):
        search(snap, FunctionScoreSpec((bad,)))


# --- model rerank -------------------------------------------------------------------------


class EqualsProvider:
    """1 when the document equals the query, else 0."""

    def rerank(self, query: str, documents: Sequence[str]) -> np.ndarray:
        return np.array([1.0 if d == query else 0.0 for d in documents], dtype=np.float32)


def _equals(params: Mapping[str, Any]) -> EqualsProvider:
    return EqualsProvider()


register_rerank_provider("equals-test", _equals)


def _model(queries: list[str], provider: str = "equals-test") -> RankerSpec:
    return RankerSpec(
        "model", {"provider": provider, "queries": queries, "input_field_names": ["color"]}
    )


def test_model_rerank_on_plain_search(snap: Snapshot) -> None:
    res = search(snap, FunctionScoreSpec((_model(["c"]),)), limit=8)
    # rows 4 and 6 are "c"; the rest keep their plain order.
    assert rows_of(res) == [4, 6, 0, 1, 2, 3, 5, 7]
    np.testing.assert_allclose(res.distances, [1, 1, 0, 0, 0, 0, 0, 0])
    # Only the best limit+offset hits are reranked.
    res = search(snap, FunctionScoreSpec((_model(["b"]),)), limit=3)
    assert rows_of(res) == [2, 0, 1]


def test_model_rerank_two_queries_and_errors(snap: Snapshot) -> None:
    queries = np.concatenate([at(0), at(8)])
    res = execute_search(
        snap,
        SearchRequest(
            queries,
            "vec",
            limit=3,
            search_params=L2,
            ranker=FunctionScoreSpec((_model(["b", "a"]),)),
        ),
    )
    # query 1: rows 0, 1, 2 -> 2 first; query 2 (at 8): rows 7, 6, 5 -> none is "a".
    assert res.topks == [3, 3]
    assert rows_of(res) == [2, 0, 1, 7, 6, 5]
    with pytest.raises(ParameterError, match="queries"):
        search(snap, FunctionScoreSpec((_model(["a", "b"]),)))
    for name in ("tei", "vllm", "cohere", "voyageai", "siliconflow"):
        with pytest.raises(NotSupportedError, match="requires network access"):
            search(snap, FunctionScoreSpec((_model(["a"], name),)))
    with pytest.raises(ParameterError, match="provider"):
        search(snap, FunctionScoreSpec((_model(["a"], "nope"),)))


def test_model_rerank_in_hybrid_search(snap: Snapshot) -> None:
    legs = [
        SearchRequest(at(0), "vec", limit=3, search_params=L2),  # rows 0, 1, 2
        SearchRequest(at(4.4), "vec", limit=3, search_params=L2),  # rows 3, 4, 2
    ]
    res = execute_hybrid_search(snap, HybridSearchRequest(legs, _model(["c"]), limit=5))
    # The union in RRF order is 2, 0, 3, 1, 4; only row 4 is "c".
    assert rows_of(res) == [4, 2, 0, 3, 1]
    np.testing.assert_allclose(res.distances, [1, 0, 0, 0, 0])


# --- grouping ---------------------------------------------------------------------------


def _grouping_snapshot(colors: list[str]) -> Snapshot:
    n = len(colors)
    table = make_table(n)
    table.vec = np.zeros((n, DIM), dtype=np.float32)
    table.vec[:, 0] = np.arange(1, n + 1)
    table.color = np.array(colors)
    return make_snapshot(table, [])


def test_strict_group_size_fills_groups_that_non_strict_may_leave_short() -> None:
    # Row 0 and row 19 are "a", rows 1-18 "b". One group of two is wanted: the first
    # pool (limit x group_size x 4 = 8 rows) finds group a with one hit.
    snap = _grouping_snapshot(["a"] + ["b"] * 18 + ["a"])
    req = SearchRequest(
        at(0), "vec", limit=1, group_by_field="color", group_size=2, search_params=L2
    )
    assert rows_of(execute_search(snap, req)) == [0]
    strict = execute_search(snap, SearchRequest(**{**req.__dict__, "strict_group_size": True}))
    assert rows_of(strict) == [0, 19]
    assert strict.group_by_values.to_pylist() == ["a", "a"]
    np.testing.assert_allclose(strict.distances, [1.0, 400.0])


def test_strict_group_size_returns_short_groups_when_the_data_has_no_more() -> None:
    snap = _grouping_snapshot(["a", "b", "b", "c", "b"])
    req = SearchRequest(
        at(0),
        "vec",
        limit=3,
        group_by_field="color",
        group_size=2,
        strict_group_size=True,
        search_params=L2,
    )
    res = execute_search(snap, req)
    assert rows_of(res) == [0, 1, 2, 3]
    assert res.group_by_values.to_pylist() == ["a", "b", "b", "c"]


def test_hybrid_grouping_with_group_size_two(snap: Snapshot) -> None:
    legs = [
        SearchRequest(at(0), "vec", limit=3, search_params=L2),
        SearchRequest(at(4.4), "vec", limit=3, search_params=L2),
    ]
    res = execute_hybrid_search(
        snap,
        HybridSearchRequest(
            legs,
            RankerSpec("rrf", {"k": 60}),
            limit=2,
            group_by_field="color",
            group_size=2,
            strict_group_size=True,
        ),
    )
    # merged ranking 2(b), 0(a), 3(a), 1(a), 4(c): group b [2], group a [0, 3].
    assert rows_of(res) == [2, 0, 3]
    assert res.group_by_values.to_pylist() == ["b", "a", "a"]
    np.testing.assert_allclose(res.distances, [2 / 63, 1 / 61, 1 / 61], rtol=1e-6)
