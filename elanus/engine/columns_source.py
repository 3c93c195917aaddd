"""A segment view as the filter evaluator's column source.

The evaluator (``elanus.expr``) asks for columns by name; this adapter answers
from one ``SegmentView``, cut to the rows the snapshot sees (a growing segment's
buffers may already hold rows past ``num_rows``). It caches nothing: every call
reads the view, which is immutable for the snapshot's lifetime.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from elanus.engine.snapshot import SegmentView

__all__ = ["SegmentColumnSource", "as_arrow_array"]


class SegmentColumnSource:
    """``elanus.expr.ColumnSource`` over the first ``num_rows`` rows of one segment."""

    __slots__ = ("_primary", "_view")

    def __init__(self, view: SegmentView, primary_field: str | None = None) -> None:
        self._view = view
        self._primary = primary_field

    @property
    def num_rows(self) -> int:
        return self._view.num_rows

    def __len__(self) -> int:
        return self._view.num_rows

    def column(self, name: str) -> pa.Array:
        """The column ``name`` (a schema field or ``$meta``) as Arrow, ``num_rows`` long."""
        if name == self._primary:
            return as_arrow_array(self.primary_keys())
        return as_arrow_array(_cut(self._view.data.column(name), self._view.num_rows))

    def primary_keys(self) -> Any:
        return _cut(self._view.data.primary_keys(), self._view.num_rows)

    def scalar_index(self, name: str) -> Any | None:
        """A scalar index over the field, only when it covers exactly the visible rows.

        A growing segment has none; a sealed segment's index covers all its rows,
        which is exactly ``num_rows``.
        """
        if not self._view.sealed:
            return None
        finder = getattr(self._view.data, "scalar_index", None)
        return None if finder is None else finder(name)

    def text_match(self, field: str, query: str) -> np.ndarray | None:
        """Rows matching ``text_match``, from the segment's cached match index."""
        from elanus.engine.text_match import text_match_rows

        return text_match_rows(self._view.data, field, query, self.num_rows)

    def phrase_match(self, field: str, query: str, slop: int) -> np.ndarray | None:
        from elanus.engine.text_match import phrase_match_rows

        return phrase_match_rows(self._view.data, field, query, slop, self.num_rows)


def as_arrow_array(column: Any) -> pa.Array:
    """One Arrow array for a column held as numpy, Arrow or chunked Arrow."""
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    if isinstance(column, pa.Array):
        return column
    return pa.array(np.asarray(column))


def _cut(column: Any, n: int) -> Any:
    if column is None:
        return None
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        if len(column) == n:
            return column
        cut = column.slice(0, n)
        return cut
    if sp.issparse(column):
        return column if column.shape[0] == n else sp.csr_array(column[:n])
    arr = np.asarray(column)
    return arr if arr.shape[0] == n else arr[:n]
