"""phrase_match with slop: the window rule Milvus's Tantivy applies, case by case and
against a brute-force reference.

The rule: give each query term one of its positions in the row, subtract the term's
offset in the query; the row matches when those numbers lie within ``slop`` of one
another. The expectations of the two-term table were read off Tantivy's own phrase
query on the same rows.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pyarrow as pa
import pytest

from elanus.text import MatchIndex, create_analyzer

ROWS = [
    "b a",  # 0
    "b x a",  # 1
    "b x x a",  # 2
    "a b",  # 3
    "a x b",  # 4
    "a x x b",  # 5
    "a x x x b",  # 6
    "a a",  # 7
    "a x a",  # 8
    "b a c",  # 9
    "a c b",  # 10
    "c b a",  # 11
    "b c a",  # 12
    "c a b",  # 13
    "a b c",  # 14
    "a x b x c",  # 15
    "a x x b c",  # 16
    "a b x x c",  # 17
    "a x x b x x c",  # 18
    "c x b x a",  # 19
]
EVERY_ROW = list(range(len(ROWS)))


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    return MatchIndex.build(pa.array(ROWS), create_analyzer({"tokenizer": "standard"}))


def matched(index: MatchIndex, query: str, slop: int) -> list[int]:
    return np.flatnonzero(index.phrase_match(query, slop)).tolist()


@pytest.mark.parametrize(
    ("slop", "expected"),
    [
        (0, [3, 13, 14, 17]),
        (1, [3, 4, 10, 13, 14, 15, 17]),
        (2, [0, 3, 4, 5, 9, 10, 11, 13, 14, 15, 16, 17, 18]),
        (3, [0, 1, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]),
        (4, [0, 1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]),
    ],
)
def test_two_terms_match_tantivy(index: MatchIndex, slop: int, expected: list[int]) -> None:
    assert matched(index, "a b", slop) == expected


def test_swapped_pair_needs_a_slop_of_two(index: MatchIndex) -> None:
    assert 0 not in matched(index, "a b", 1)
    assert 0 in matched(index, "a b", 2)


def test_a_repeated_query_term_may_reuse_one_position(index: MatchIndex) -> None:
    assert matched(index, "a a", 0) == [7]
    # With any slop, the one "a" of every row stands for both query terms.
    assert matched(index, "a a", 1) == EVERY_ROW


def test_three_terms_share_one_slop_budget(index: MatchIndex) -> None:
    assert matched(index, "a b c", 0) == [14]
    assert matched(index, "a b c", 1) == [14]
    # "a x b x c": two extra positions in all, one in each gap.
    assert 15 in matched(index, "a b c", 2)
    # "a c b": shifted positions 0, 1, -1 lie within 2 of one another.
    assert 10 in matched(index, "a b c", 2)
    assert 10 not in matched(index, "a b c", 1)


def test_one_term_is_a_plain_term_match_and_no_term_matches_nothing(index: MatchIndex) -> None:
    assert matched(index, "c", 0) == [i for i, r in enumerate(ROWS) if "c" in r.split()]
    assert matched(index, "!!", 3) == []
    assert matched(index, "a zzz", 5) == []


def brute_force(row: str, terms: list[str], slop: int) -> bool:
    words = row.split()
    shifted = [[p - i for p, w in enumerate(words) if w == t] for i, t in enumerate(terms)]
    if not all(shifted):
        return False
    return any(max(c) - min(c) <= slop for c in itertools.product(*shifted))


def test_random_rows_and_phrases_match_the_brute_force_rule() -> None:
    rng = random.Random(20240611)
    vocab = ["a", "b", "c", "d"]
    rows = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 9))) for _ in range(300)]
    index = MatchIndex.build(pa.array(rows), create_analyzer({"tokenizer": "standard"}))
    for _ in range(200):
        terms = [rng.choice(vocab) for _ in range(rng.randint(2, 4))]
        slop = rng.randint(0, 4)
        expected = [i for i, r in enumerate(rows) if brute_force(r, terms, slop)]
        assert matched(index, " ".join(terms), slop) == expected, (terms, slop)
