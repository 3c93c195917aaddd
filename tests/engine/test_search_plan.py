"""The per-segment planner as a pure function."""

from __future__ import annotations

from elanus.engine.search_plan import (
    EXACT,
    EXACT_SUBSET,
    INDEX,
    SKIP,
    choose_strategy,
    plan_segments,
)


def test_strategy_by_usable_fraction() -> None:
    assert choose_strategy(100_000, 0, True) == SKIP
    assert choose_strategy(100_000, 100_000, True) == INDEX
    assert choose_strategy(100_000, 20_000, True) == INDEX
    assert choose_strategy(100_000, 1_000, True) == EXACT_SUBSET  # 1 %: scan survivors
    assert choose_strategy(100_000, 90_000, False) == EXACT
    assert choose_strategy(100_000, 30_000, False) == EXACT_SUBSET
    assert choose_strategy(1_000, 1_000, True) == EXACT  # too small for the index


def test_plan_segments_keeps_positions() -> None:
    plans = plan_segments((0, 50, 5000), (10, 100, 5000), (False, False, True))
    assert [p.strategy for p in plans] == [SKIP, EXACT_SUBSET, INDEX]
    assert [p.segment for p in plans] == [0, 1, 2]
