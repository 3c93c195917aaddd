"""Where a filter reads its rows from: columns of one segment, and optional indexes."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa

from elanus.errors import ParameterError

__all__ = [
    "ArrowColumnSource",
    "ColumnSource",
    "ContainsIndex",
    "ScalarIndex",
    "SpatialIndex",
    "index_key",
    "parse_json_path",
]


@runtime_checkable
class ScalarIndex(Protocol):
    """A scalar index over one column of one segment, answering filter leaves.

    Invariants: every mask is a NumPy bool array of the segment's row count; a null
    row never matches ``equal``/``range``/``like``; an index returns ``None`` for a
    question it cannot answer (the evaluator then scans the column), and otherwise
    exactly the rows a scan would select. Values are Python scalars of the column's
    kind (int/float/str/bool; TIMESTAMPTZ as UTC microseconds).
    """

    def equal(self, values: Sequence[Any]) -> np.ndarray | None:
        """Rows whose value is one of ``values``."""
        ...

    def range(
        self,
        lower: Any | None,
        lower_inclusive: bool,
        upper: Any | None,
        upper_inclusive: bool,
    ) -> np.ndarray | None:
        """Rows inside the bounds (``None``: unbounded on that side)."""
        ...

    def like(self, pattern: str) -> np.ndarray | None:
        """Rows matching a Milvus ``like`` pattern (``%``, ``_``, ``\\`` escapes)."""
        ...

    def is_null(self) -> np.ndarray:
        """Rows whose value is null."""
        ...


@runtime_checkable
class ContainsIndex(Protocol):
    """An index over list values (an ARRAY field, or a JSON path cast to an array type)
    answering ``array_contains`` / ``json_contains`` and their ``_all``/``_any`` forms,
    under the same invariants as ScalarIndex."""

    def contains(self, items: Sequence[Any], mode: str) -> np.ndarray | None:
        """Rows whose list holds any (``mode`` "one" or "any") or all ("all") of
        ``items``; null rows and non-list values never match."""
        ...


@runtime_checkable
class SpatialIndex(Protocol):
    """An index over a GEOMETRY field (RTREE) that narrows spatial predicates.

    It answers with *candidates*: a superset of the rows where ``ST_<op>`` holds; the
    evaluator tests the predicate exactly on the candidates only."""

    def spatial_candidates(
        self, op: str, wkt: str, distance: float | None = None
    ) -> np.ndarray | None:
        """Rows that may satisfy ``op`` against ``wkt``, or None when it cannot narrow."""
        ...

    def is_null(self) -> np.ndarray:
        """Rows with no geometry (null or unparsable)."""
        ...


def index_key(column: str, path: Sequence[str | int] = ()) -> str:
    """The name a source's ``scalar_index`` is asked under: the column for a column's
    own values, and ``column["a"][0]`` (keys as JSON strings) for a JSON path."""
    return column + "".join(f"[{json.dumps(k)}]" if isinstance(k, str) else f"[{k}]" for k in path)


_PATH_HEAD = re.compile(r"\s*(\$?[A-Za-z_][A-Za-z0-9_]*)\s*")
_PATH_STEP = re.compile(r"\[\s*(?:\"((?:[^\"\\]|\\.)*)\"|'((?:[^'\\]|\\.)*)'|(\d+))\s*\]\s*")


def parse_json_path(text: str) -> tuple[str, tuple[str | int, ...]]:
    """``name["a"]['b'][0]`` as (``name``, ``("a", "b", 0)``): the form of a filter
    expression's JSON access, which Milvus's ``json_path`` index parameter uses."""
    head = _PATH_HEAD.match(text)
    if head is None:
        raise ParameterError(f"invalid json_path {text!r}: expected a field name first")
    path: list[str | int] = []
    pos = head.end()
    while pos < len(text):
        step = _PATH_STEP.match(text, pos)
        if step is None:
            raise ParameterError(
                f'invalid json_path {text!r} at position {pos}: expected ["key"] or [index]'
            )
        if step.group(3) is not None:
            path.append(int(step.group(3)))
        else:
            raw = step.group(1) if step.group(1) is not None else step.group(2)
            path.append(json.loads('"' + raw.replace("\\'", "'") + '"'))
        pos = step.end()
    return head.group(1), tuple(path)


class ColumnSource(Protocol):
    """The columns of one segment, in the shared column convention (see DESIGN.md).

    ``column`` returns a scalar field's column or ``"$meta"``; the same immutable
    array should come back on every call for a sealed segment, so that parsed JSON and
    geometry can be reused between evaluations.
    """

    num_rows: int

    def column(self, name: str) -> pa.Array: ...

    def scalar_index(self, name: str) -> ScalarIndex | None:
        """The index over ``name``: a column, or a JSON path as ``index_key`` spells it."""
        ...

    def text_match(self, field: str, query: str) -> np.ndarray | None: ...

    def phrase_match(self, field: str, query: str, slop: int) -> np.ndarray | None: ...


class ArrowColumnSource:
    """Columns held in a dict of Arrow arrays; no indexes, no full-text matching.

    ``indexes`` may map field names to ScalarIndex objects, for tests and simple callers.
    """

    def __init__(
        self,
        columns: Mapping[str, pa.Array | pa.ChunkedArray],
        num_rows: int | None = None,
        indexes: Mapping[str, ScalarIndex] | None = None,
    ) -> None:
        self._columns: dict[str, pa.Array] = {}
        for name, col in columns.items():
            if isinstance(col, pa.ChunkedArray):
                col = col.combine_chunks()
            self._columns[name] = col
        if num_rows is None:
            num_rows = len(next(iter(self._columns.values()))) if self._columns else 0
        self.num_rows = num_rows
        self._indexes = dict(indexes or {})

    def column(self, name: str) -> pa.Array:
        try:
            return self._columns[name]
        except KeyError:
            raise KeyError(f"column {name} is not in this source") from None

    def scalar_index(self, name: str) -> ScalarIndex | None:
        return self._indexes.get(name)

    def text_match(self, field: str, query: str) -> np.ndarray | None:
        return None

    def phrase_match(self, field: str, query: str, slop: int) -> np.ndarray | None:
        return None
