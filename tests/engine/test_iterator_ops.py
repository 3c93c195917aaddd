"""Iterators through the engine: every page reads the snapshot of the first page, and
the read timestamp of a request (consistency level, guarantee timestamp)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from engine_helpers import rows, simple_schema

from elanus.engine.engine import Engine
from elanus.engine.iterator_ops import IteratorState
from elanus.engine.requests import ConsistencyLevel, QueryRequest, QueryResult, SearchRequest
from elanus.engine.timestamps import TimestampOracle, compose_timestamp, read_timestamp
from elanus.errors import ParameterError

DB = "default"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine.open(str(tmp_path / "data"), sync=False, background=False) as eng:
        eng.create_collection(DB, "c", simple_schema(), consistency_level="Strong")
        columns, n = rows(list(range(100)), tag=1)
        eng.insert(DB, "c", columns, n)
        yield eng


def _keys(result: QueryResult) -> list[int]:
    return [int(k) for k in np.asarray(result.columns["id"])]


def _drain_query(engine: Engine, filter: str = "", batch: int = 10) -> tuple[list[int], int]:
    """Pages by primary key as the front doors do; deletes and inserts between pages."""
    seen: list[int] = []
    last: int | None = None
    ts = 0
    for page_no in range(100):
        text = filter if last is None else f"id > {last}" + (f" and ({filter})" if filter else "")
        request = QueryRequest(filter=text, limit=batch, guarantee_timestamp=ts)
        result, ts = engine.query_iterator_page(DB, "c", request)
        keys = _keys(result)
        if not keys:
            return seen, page_no
        seen.extend(keys)
        last = keys[-1]
        if page_no == 0:
            engine.delete(DB, "c", ids=list(range(5)) + [50, 51])
            columns, n = rows([1000, 1001], tag=2)
            engine.insert(DB, "c", columns, n)
    raise AssertionError("iterator did not finish")


def test_query_pages_read_the_first_pages_snapshot(engine: Engine) -> None:
    seen, pages = _drain_query(engine, filter="id >= 0")
    # Keys deleted after the first page are still read (the snapshot had them); keys
    # written after it never show up; nothing is skipped or repeated.
    assert seen == list(range(100))
    assert pages == 10


def test_query_page_with_an_unknown_timestamp_opens_a_new_snapshot(engine: Engine) -> None:
    first, ts = engine.query_iterator_page(DB, "c", QueryRequest(filter="", limit=3))
    assert _keys(first) == [0, 1, 2]
    engine.delete(DB, "c", ids=[0])
    again, same = engine.query_iterator_page(
        DB, "c", QueryRequest(filter="", limit=3, guarantee_timestamp=ts)
    )
    assert same == ts and _keys(again) == [0, 1, 2]
    engine.iterators = IteratorState(capacity=0)  # everything forgotten
    fresh, newer = engine.query_iterator_page(
        DB, "c", QueryRequest(filter="", limit=3, guarantee_timestamp=ts)
    )
    assert newer > ts and _keys(fresh) == [1, 2, 3]


def test_search_pages_read_the_first_pages_snapshot(engine: Engine) -> None:
    request = SearchRequest(
        np.zeros((1, 4), dtype=np.float32), "vec", limit=10, search_params={"metric_type": "L2"}
    )
    token, page = engine.search_iterator_page(DB, "c", request, batch_size=10)
    seen = np.asarray(page.results.ids).tolist()
    engine.delete(DB, "c", ids=seen[:5])
    columns, n = rows([1000, 1001, 1002], tag=2)
    columns["vec"] = np.full((3, 4), 0.5, dtype=np.float32)  # nearer than all but id 0
    engine.insert(DB, "c", columns, n)
    while True:
        token, page = engine.search_iterator_page(DB, "c", request, batch_size=10, token=token)
        if page.results.topks[0] == 0:
            break
        seen.extend(np.asarray(page.results.ids).tolist())
    assert seen == list(range(100))


def test_forgotten_search_token_is_an_error_not_a_new_answer(engine: Engine) -> None:
    request = SearchRequest(np.zeros((1, 4), dtype=np.float32), "vec", limit=5)
    with pytest.raises(ParameterError, match="unknown or expired"):
        engine.search_iterator_page(DB, "c", request, batch_size=5, token="missing")


def test_invalid_consistency_level_is_a_parameter_error(engine: Engine) -> None:
    with pytest.raises(ParameterError, match="invalid consistency level: Strongest") as info:
        engine.query(DB, "c", QueryRequest(filter="id > 1", limit=1, consistency_level="Strongest"))
    assert info.value.code == 1100
    with pytest.raises(ParameterError):
        ConsistencyLevel.parse(9)


def test_future_guarantee_timestamp_is_waited_for(engine: Engine) -> None:
    ahead_ms = 300
    guarantee = compose_timestamp(int(time.time() * 1000) + ahead_ms)
    started = time.monotonic()
    result = engine.query(
        DB,
        "c",
        QueryRequest(
            filter="id < 3", consistency_level="Customized", guarantee_timestamp=guarantee
        ),
    )
    assert time.monotonic() - started >= (ahead_ms - 20) / 1000
    assert result.num_rows == 3
    # A write after the read is stamped above the guarantee: a later read at the
    # guarantee sees what the first read saw.
    assert engine.insert(DB, "c", *rows([500], tag=3)).timestamp > guarantee


def test_guarantee_timestamp_far_ahead_is_refused_at_once() -> None:
    oracle = TimestampOracle()
    guarantee = compose_timestamp(int(time.time() * 1000) + 60_000)
    started = time.monotonic()
    with pytest.raises(ParameterError, match=f"guarantee timestamp {guarantee}"):
        read_timestamp("Customized", oracle=oracle, guarantee_timestamp=guarantee)
    assert time.monotonic() - started < 1.0
    assert oracle.last < guarantee


def test_past_guarantee_timestamp_does_not_wait() -> None:
    oracle = TimestampOracle()
    now = oracle.now()
    started = time.monotonic()
    assert read_timestamp("Bounded", oracle=oracle, guarantee_timestamp=now - (5 << 18)) == now
    # Generous: a wrong wait would be for the capped guarantee window (seconds).
    assert time.monotonic() - started < 1.0
