"""text_match / phrase_match answered from the inverted index."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from elanus.errors import ParameterError
from elanus.text import MatchIndex, create_analyzer

ROWS = [
    "machine learning is fun",  # 0
    "machine deep learning",  # 1
    "learning machine",  # 2
    None,  # 3
    "deep machine big new learning",  # 4
    "Machine Learning at scale",  # 5
    "",  # 6
]


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    return MatchIndex.build(pa.array(ROWS, type=pa.string()), create_analyzer({"type": "standard"}))


def rows(mask: np.ndarray) -> list[int]:
    return np.flatnonzero(mask).tolist()


def test_match_is_any_query_term(index: MatchIndex) -> None:
    assert rows(index.match("fun scale")) == [0, 5]
    assert rows(index.match("LEARNING")) == [0, 1, 2, 4, 5]
    assert rows(index.match("nothing here")) == []


def test_match_with_minimum_should_match(index: MatchIndex) -> None:
    assert rows(index.match("machine fun scale", min_should_match=2)) == [0, 5]
    assert rows(index.match("machine learning deep", min_should_match=3)) == [1, 4]


def test_phrase_match_exact_needs_adjacent_terms_in_order(index: MatchIndex) -> None:
    assert rows(index.phrase_match("machine learning")) == [0, 5]


@pytest.mark.parametrize(
    ("slop", "expected"),
    [(0, [0, 5]), (1, [0, 1, 5]), (2, [0, 1, 2, 4, 5]), (3, [0, 1, 2, 4, 5])],
)
def test_phrase_match_slop_allows_that_many_extra_positions(
    index: MatchIndex, slop: int, expected: list[int]
) -> None:
    assert rows(index.phrase_match("machine learning", slop)) == expected


def test_phrase_match_swapped_terms_cost_a_slop_of_two(index: MatchIndex) -> None:
    # Row 2 has "learning machine": the swapped pair is two positions off the phrase.
    assert 2 not in rows(index.phrase_match("machine learning", 1))
    assert 2 in rows(index.phrase_match("machine learning", 2))
    assert rows(index.phrase_match("learning machine")) == [2]


def test_phrase_of_three_terms(index: MatchIndex) -> None:
    assert rows(index.phrase_match("deep machine big")) == [4]
    # One extra position before "big" and one before "learning": the slop is a
    # budget for the whole phrase, not for each gap.
    assert rows(index.phrase_match("deep big learning", 2)) == [4]
    assert rows(index.phrase_match("deep big learning", 1)) == []
    assert rows(index.phrase_match("deep big learning", 0)) == []


def test_null_and_empty_rows_never_match(index: MatchIndex) -> None:
    everything = index.match("machine learning is fun deep big new at scale")
    assert not everything[3] and not everything[6]


def test_query_stop_word_gaps_are_kept_as_phrase_offsets() -> None:
    analyzer = create_analyzer({"type": "english"})
    index = MatchIndex.build(pa.array(["cat on the mat", "cat mat", "cat sat mat"]), analyzer)
    # "the" is a stop word in the query too, so "cat the mat" needs one position between.
    assert rows(index.phrase_match("cat the mat")) == [2]


def test_chinese_phrase_match() -> None:
    analyzer = create_analyzer({"tokenizer": {"type": "jieba", "mode": "exact"}})
    index = MatchIndex.build(pa.array(["我爱北京天安门", "北京欢迎你", "我爱上海"]), analyzer)
    assert rows(index.match("北京")) == [0, 1]
    assert rows(index.phrase_match("我爱北京")) == [0]
    assert rows(index.phrase_match("爱天安门", 1)) == [0]


def test_round_trip_bytes_and_file(index: MatchIndex, tmp_path) -> None:  # type: ignore[no-untyped-def]
    again = MatchIndex.from_bytes(index.to_bytes())
    assert again.num_rows == index.num_rows
    assert rows(again.phrase_match("machine learning", 1)) == [0, 1, 5]
    path = str(tmp_path / "match.idx")
    index.save(path)
    assert rows(MatchIndex.load(path).match("fun")) == [0]


def test_chunked_column_and_bad_inputs() -> None:
    analyzer = create_analyzer(None)
    chunked = pa.chunked_array([["a b"], ["b c"]])
    assert rows(MatchIndex.build(chunked, analyzer).match("c")) == [1]
    with pytest.raises(ParameterError):
        MatchIndex.build(pa.array([1, 2]), analyzer)
    with pytest.raises(ParameterError):
        MatchIndex.build(chunked, analyzer).phrase_match("a", -1)
