"""insert/upsert/delete/flush/compact/reopen against a plain dict model."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from elanus.engine.engine import Engine
from elanus.errors import DataError

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import rows, simple_schema, visible  # noqa: E402

keys = st.lists(st.integers(0, 40), min_size=1, max_size=8)


class EngineModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp()
        self.engine = Engine.open(
            self.dir, sync=False, seal_rows=16, compact_min_rows=20, background=False
        )
        self.engine.create_collection("default", "c", simple_schema())
        self.model: dict[int, int] = {}
        self.tag = 0

    def _next_tag(self) -> int:
        self.tag += 1
        return self.tag

    @rule(ids=keys)
    def insert(self, ids: list[int]) -> None:
        tag = self._next_tag()
        self.engine.insert("default", "c", *rows(ids, tag))
        self.model.update(dict.fromkeys(ids, tag))

    @rule(ids=keys)
    def upsert(self, ids: list[int]) -> None:
        tag = self._next_tag()
        if len(set(ids)) < len(ids):
            # Milvus refuses an upsert that repeats a key within the batch; nothing changes.
            with pytest.raises(DataError):
                self.engine.upsert("default", "c", *rows(ids, tag))
            return
        self.engine.upsert("default", "c", *rows(ids, tag))
        self.model.update(dict.fromkeys(ids, tag))

    @rule(ids=keys)
    def delete(self, ids: list[int]) -> None:
        self.engine.delete("default", "c", ids=ids)
        for k in ids:
            self.model.pop(k, None)

    @rule()
    def flush(self) -> None:
        self.engine.flush("default", "c")

    @rule()
    def compact(self) -> None:
        self.engine.compact("default", "c")

    @rule()
    def reopen(self) -> None:
        self.engine.close()
        self.engine = Engine.open(
            self.dir, sync=False, seal_rows=16, compact_min_rows=20, background=False
        )

    @invariant()
    def matches_model(self) -> None:
        assert visible(self.engine) == self.model

    def teardown(self) -> None:
        self.engine.close()
        shutil.rmtree(self.dir, ignore_errors=True)


EngineModel.TestCase.settings = settings(max_examples=50, stateful_step_count=25, deadline=None)
TestEngineModel = EngineModel.TestCase
