"""Collection TTL: rows vanish from every read once expired, and compaction drops them.

Time is a clock the test moves (``TimestampOracle.clock``), so nothing sleeps.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import QueryRequest, SearchRequest
from elanus.errors import ParameterError

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import DIM, rows, simple_schema  # noqa: E402

DB = "default"
LEVELS = ["Strong", "Bounded", "Session", "Eventually"]


class StepClock:
    """A wall clock that moves only when told."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[tuple[Engine, StepClock]]:
    clock = StepClock()
    with Engine.open(str(tmp_path), background=False) as e:
        e.oracle.clock = clock
        e.create_collection(DB, "c", simple_schema(), properties={"collection.ttl.seconds": "10"})
        yield e, clock


def _count(e: Engine, level: str) -> int:
    res = e.query(DB, "c", QueryRequest(output_fields=["count(*)"], consistency_level=level))
    return int(res.columns["count(*)"][0].as_py())


def _keys(e: Engine, level: str) -> list[int]:
    res = e.query(DB, "c", QueryRequest(filter="id >= 0", consistency_level=level))
    return sorted(int(k) for k in np.asarray(res.columns["id"]).tolist())


def _search_ids(e: Engine, level: str) -> list[int]:
    query = np.ones((1, DIM), dtype=np.float32)
    res = e.search(
        DB,
        "c",
        SearchRequest(
            query,
            anns_field="vec",
            limit=50,
            consistency_level=level,
            search_params={"metric_type": "L2"},
        ),
    )
    return sorted(int(k) for k in np.asarray(res.ids).tolist())


def test_expired_rows_vanish_at_every_level_without_a_newer_write(
    engine: tuple[Engine, StepClock],
) -> None:
    e, clock = engine
    e.insert(DB, "c", *rows(list(range(10)), 1))
    clock.now += 5
    e.insert(DB, "c", *rows([10, 11], 2))
    for level in LEVELS:
        assert _count(e, level) == 12
    clock.now += 6  # the first ten are 11 s old, the last two 6 s
    for level in LEVELS:
        assert _count(e, level) == 2, level
        assert _keys(e, level) == [10, 11], level
        assert _search_ids(e, level) == [10, 11], level
    got = e.query(DB, "c", QueryRequest(ids=[1, 10]))
    assert np.asarray(got.columns["id"]).tolist() == [10]
    clock.now += 5
    for level in LEVELS:
        assert _count(e, level) == 0, level
        assert _search_ids(e, level) == [], level


def test_an_upsert_restarts_a_rows_time(engine: tuple[Engine, StepClock]) -> None:
    e, clock = engine
    e.insert(DB, "c", *rows([1, 2, 3], 1))
    clock.now += 8
    e.upsert(DB, "c", *rows([2], 5))
    clock.now += 4
    assert _keys(e, "Bounded") == [2]


def test_raising_the_ttl_brings_rows_back_until_compaction(
    engine: tuple[Engine, StepClock],
) -> None:
    e, clock = engine
    e.insert(DB, "c", *rows(list(range(6)), 1))
    clock.now += 11
    assert _count(e, "Bounded") == 0
    # Expiry hides rows; until compaction drops them a longer TTL shows them again,
    # as in Milvus.
    e.alter_collection_properties(DB, "c", {"collection.ttl.seconds": "100"})
    assert _count(e, "Bounded") == 6
    e.alter_collection_properties(DB, "c", {"collection.ttl.seconds": "10"})
    e.flush(DB, "c")
    assert e.get_collection_stats(DB, "c") == {"row_count": 6}
    e.compact(DB, "c")
    assert e.get_collection_stats(DB, "c") == {"row_count": 0}
    e.alter_collection_properties(DB, "c", {"collection.ttl.seconds": "100"})
    assert _count(e, "Strong") == 0


def test_compaction_keeps_rows_not_yet_expired(engine: tuple[Engine, StepClock]) -> None:
    e, clock = engine
    e.insert(DB, "c", *rows(list(range(4)), 1))
    clock.now += 6
    e.insert(DB, "c", *rows(list(range(4, 7)), 2))
    e.flush(DB, "c")
    clock.now += 5
    e.compact(DB, "c")
    assert e.get_collection_stats(DB, "c") == {"row_count": 3}
    assert _keys(e, "Strong") == [4, 5, 6]


def test_iterator_pages_hide_rows_that_expire_between_pages(
    engine: tuple[Engine, StepClock],
) -> None:
    e, clock = engine
    e.insert(DB, "c", *rows(list(range(4)), 1))
    clock.now += 6
    e.insert(DB, "c", *rows(list(range(4, 8)), 2))
    first, ts = e.query_iterator_page(DB, "c", QueryRequest(filter="id >= 0", limit=2))
    assert np.asarray(first.columns["id"]).tolist() == [0, 1]
    query = np.zeros((1, DIM), dtype=np.float32)
    request = SearchRequest(query, anns_field="vec", limit=8, search_params={"metric_type": "L2"})
    token, hits = e.search_iterator_page(DB, "c", request, batch_size=2)
    assert np.asarray(hits.results.ids).tolist() == [0, 1]
    clock.now += 5  # 0..3 expire while the iterators are open
    page, _ = e.query_iterator_page(
        DB, "c", QueryRequest(filter="id > 1", limit=10, guarantee_timestamp=ts)
    )
    assert np.asarray(page.columns["id"]).tolist() == [4, 5, 6, 7]
    _, hits = e.search_iterator_page(DB, "c", request, batch_size=8, token=token)
    assert np.asarray(hits.results.ids).tolist() == [4, 5, 6, 7]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9223372036854775800", r"collection TTL is out of range, expect \[-1, 3155760000\]"),
        ("-2", r"out of range, expect \[-1, 3155760000\], got -2"),
        ("ten", "collection TTL is not a valid positive integer"),
    ],
)
def test_a_ttl_out_of_range_is_refused(tmp_path: Path, value: str, message: str) -> None:
    with Engine.open(str(tmp_path)) as e:
        with pytest.raises(ParameterError, match=message):
            e.create_collection(
                DB, "c", simple_schema(), properties={"collection.ttl.seconds": value}
            )
        assert e.list_collections(DB) == []
        e.create_collection(DB, "c", simple_schema(), properties={"collection.ttl.seconds": "-1"})
        with pytest.raises(ParameterError, match=message):
            e.alter_collection_properties(DB, "c", {"collection.ttl.seconds": value})
        assert e.describe_collection(DB, "c").properties["collection.ttl.seconds"] == "-1"
