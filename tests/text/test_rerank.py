"""Rerankers against hand-computed expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from elanus.errors import ParameterError
from elanus.text import (
    BoostFunction,
    DecayRanker,
    RRFRanker,
    SearchHits,
    WeightedRanker,
    apply_boost,
    boost_function_from_params,
    create_reranker,
)
from elanus.text.rerank import decay_factors, random_scores


def hits(
    ids: list, distances: list[float], metric: str, values: list[float] | None = None
) -> SearchHits:  # type: ignore[type-arg]
    return SearchHits(
        np.asarray(ids),
        np.asarray(distances, dtype=np.float32),
        metric,
        None if values is None else np.asarray(values, dtype=np.float64),
    )


def test_rrf_sums_reciprocal_ranks() -> None:
    a = hits([1, 2, 3], [0.9, 0.8, 0.7], "IP")
    b = hits([3, 1, 4], [0.1, 0.2, 0.3], "L2")
    out = RRFRanker(60).rerank([a, b], limit=10)
    assert out.ids.tolist() == [1, 3, 2, 4]
    np.testing.assert_allclose(
        out.scores, [1 / 61 + 1 / 62, 1 / 63 + 1 / 61, 1 / 62, 1 / 63], rtol=1e-6
    )


def test_rrf_offset_limit_and_ties_by_smaller_key() -> None:
    a = hits([5, 7], [1.0, 0.5], "IP")
    b = hits([7, 5], [1.0, 0.5], "IP")
    out = RRFRanker(10).rerank([a, b], limit=1, offset=1)
    assert out.ids.tolist() == [7]  # 5 and 7 tie; 5 comes first, offset skips it


def test_rrf_with_string_keys() -> None:
    out = RRFRanker().rerank([hits(["b", "a"], [1, 0], "IP"), hits(["a"], [1], "IP")], limit=5)
    assert out.ids.tolist() == ["a", "b"]


def test_weighted_with_norm_score() -> None:
    a = hits([1, 2], [0.9, 0.5], "IP")
    b = hits([2, 3], [0.1, 2.0], "L2")
    out = WeightedRanker((0.6, 0.4), norm_score=True).rerank([a, b], limit=10)
    s1 = 0.6 * (0.5 + math.atan(0.9) / math.pi)
    s2 = 0.6 * (0.5 + math.atan(0.5) / math.pi) + 0.4 * (1 - 2 * math.atan(0.1) / math.pi)
    s3 = 0.4 * (1 - 2 * math.atan(2.0) / math.pi)
    expected = sorted([(s1, 1), (s2, 2), (s3, 3)], reverse=True)
    assert out.ids.tolist() == [i for _, i in expected]
    np.testing.assert_allclose(out.scores, [s for s, _ in expected], rtol=1e-6)


def test_weighted_norm_of_cosine_and_bm25() -> None:
    out = WeightedRanker((1.0, 0.5), norm_score=True).rerank(
        [hits([1], [0.5], "COSINE"), hits([1], [3.0], "BM25")], limit=1
    )
    np.testing.assert_allclose(out.scores, [0.75 + 0.5 * 2 * math.atan(3.0) / math.pi], rtol=1e-6)


def test_weighted_without_norm_sums_raw_scores() -> None:
    out = WeightedRanker((0.5, 0.5)).rerank(
        [hits([1, 2], [0.9, 0.2], "IP"), hits([2], [1.0], "IP")], limit=10
    )
    assert out.ids.tolist() == [2, 1]
    np.testing.assert_allclose(out.scores, [0.6, 0.45], rtol=1e-6)


def test_weighted_all_distances_without_norm_ranks_smaller_first() -> None:
    out = WeightedRanker((1.0, 1.0)).rerank(
        [hits([1, 2], [0.1, 0.5], "L2"), hits([3], [0.3], "L2")], limit=10
    )
    assert out.ids.tolist() == [1, 3, 2]


def test_weighted_mixed_metrics_without_norm_converts_distances() -> None:
    out = WeightedRanker((1.0, 1.0)).rerank(
        [hits([1], [0.2], "IP"), hits([2], [1.0], "L2")], limit=10
    )
    # L2 1.0 -> 1 - 2*atan(1)/pi = 0.5, which beats IP 0.2.
    assert out.ids.tolist() == [2, 1]
    np.testing.assert_allclose(out.scores, [0.5, 0.2], rtol=1e-6)


def test_weighted_validation() -> None:
    with pytest.raises(ParameterError, match="range \\[0, 1\\]"):
        WeightedRanker((1.5,))
    with pytest.raises(ParameterError, match="mismatch"):
        WeightedRanker((0.5,)).rerank([hits([1], [1], "IP"), hits([2], [1], "IP")], limit=1)


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        ("gauss", 0.0, 1.0),
        ("gauss", 10.0, 0.5),
        ("gauss", 20.0, 0.0625),
        ("exp", 10.0, 0.5),
        ("exp", 20.0, 0.25),
        ("linear", 5.0, 0.75),
        ("linear", 10.0, 0.5),
        ("linear", 40.0, 0.5),
    ],
)
def test_decay_factors(function: str, value: float, expected: float) -> None:
    got = decay_factors(
        np.array([value]), function=function, origin=0, scale=10, offset=0, decay=0.5
    )
    assert got[0] == pytest.approx(expected)


def test_decay_offset_is_a_no_decay_zone() -> None:
    got = decay_factors(
        np.array([103.0, 115.0]), function="exp", origin=100, scale=10, offset=5, decay=0.5
    )
    np.testing.assert_allclose(got, [1.0, 0.5])


def test_decay_ranker_multiplies_max_merged_scores() -> None:
    a = hits([1, 2], [0.8, 0.9], "IP", [0.0, 10.0])
    b = hits([1, 3], [0.6, 0.7], "IP", [0.0, 20.0])
    ranker = DecayRanker("exp", origin=0, scale=10)
    out = ranker.rerank([a, b], limit=10)
    assert out.ids.tolist() == [1, 2, 3]
    np.testing.assert_allclose(out.scores, [0.8, 0.45, 0.175], rtol=1e-6)


def test_decay_ranker_converts_l2_distances_first() -> None:
    out = DecayRanker("gauss", origin=0, scale=1).rerank([hits([1], [1.0], "L2", [0.0])], limit=1)
    np.testing.assert_allclose(out.scores, [0.5], rtol=1e-6)


def test_create_reranker_from_function_params() -> None:
    assert create_reranker({"reranker": "rrf", "k": "100"}) == RRFRanker(100)
    assert create_reranker(
        {"reranker": "weighted", "weights": "[0.1, 0.9]", "norm_score": "true"}
    ) == (WeightedRanker((0.1, 0.9), True))
    decay = create_reranker(
        {
            "reranker": "decay",
            "function": "gauss",
            "origin": 5,
            "scale": "2",
            "offset": 1,
            "decay": 0.3,
        }
    )
    assert decay == DecayRanker("gauss", 5.0, 2.0, 1.0, 0.3)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"reranker": "rrf", "k": 0}, "range"),
        ({"reranker": "weighted"}, "weights not found"),
        ({"reranker": "decay", "function": "gauss", "scale": 1}, "lost param: origin"),
        ({"reranker": "decay", "function": "gauss", "origin": 0, "scale": 0}, "scale must be > 0"),
        ({"reranker": "decay", "function": "cubic", "origin": 0, "scale": 1}, "invalid function"),
        (
            {"reranker": "decay", "function": "exp", "origin": 0, "scale": 1, "decay": 1},
            "decay must",
        ),
        ({"reranker": "nope"}, "unsupported rerank function"),
    ],
)
def test_create_reranker_errors(params: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ParameterError, match=message):
        create_reranker(params)


def test_boost_multiply_and_sum_modes() -> None:
    scores = np.array([1.0, 2.0, 3.0])
    twice = BoostFunction(weight=2.0, filter="x > 1")
    plus = BoostFunction(weight=0.5)
    m1 = np.array([True, False, True])
    m2 = np.array([True, True, False])
    np.testing.assert_allclose(apply_boost(scores, [m1], [twice]), [2.0, 2.0, 6.0])
    np.testing.assert_allclose(
        apply_boost(scores, [m1, m2], [twice, plus], function_mode="multiply"), [1.0, 1.0, 6.0]
    )
    np.testing.assert_allclose(
        apply_boost(scores, [m1, m2], [twice, plus], function_mode="sum", boost_mode="sum"),
        [3.5, 2.5, 5.0],
    )


def test_boost_random_score_is_stable_and_in_unit_interval() -> None:
    keys = np.arange(1000)
    r1, r2 = random_scores(keys, 7), random_scores(keys, 7)
    np.testing.assert_array_equal(r1, r2)
    assert ((r1 >= 0) & (r1 < 1)).all()
    assert not np.array_equal(r1, random_scores(keys, 8))
    fn = boost_function_from_params(
        {"reranker": "boost", "weight": "2", "random_score": '{"seed": 7}'}
    )
    boosted = apply_boost(np.ones(3), [np.ones(3, bool)], [fn], random_inputs=[np.arange(3)])
    np.testing.assert_allclose(boosted, 2 * random_scores(np.arange(3), 7), rtol=1e-6)


def test_boost_params_validation() -> None:
    with pytest.raises(ParameterError, match="weight"):
        boost_function_from_params({"reranker": "boost"})
    with pytest.raises(ParameterError, match="multiply or sum"):
        apply_boost(np.ones(1), [], [], boost_mode="max")
