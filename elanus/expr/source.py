"""Where a filter reads its rows from: columns of one segment, and optional indexes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa

__all__ = ["ArrowColumnSource", "ColumnSource", "ScalarIndex"]


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


class ColumnSource(Protocol):
    """The columns of one segment, in the shared column convention (see DESIGN.md).

    ``column`` returns a scalar field's column or ``"$meta"``; the same immutable
    array should come back on every call for a sealed segment, so that parsed JSON and
    geometry can be reused between evaluations.
    """

    num_rows: int

    def column(self, name: str) -> pa.Array: ...

    def scalar_index(self, name: str) -> ScalarIndex | None: ...

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
