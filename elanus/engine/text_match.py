"""``text_match`` / ``phrase_match`` over a segment, from cached inverted indexes.

Each segment gets ``elanus.text.MatchIndex``es per ``enable_match`` field, built
lazily on the first filter that needs them and kept as long as the segment lives
(a sealed segment never changes; compaction makes new segment objects, hence new
indexes). A growing segment only appends, so its rows are indexed in parts: each
filter indexes just the rows that arrived since the last one, and the parts are
merged into one when they pile up. A filter's answer is the concatenation of the
parts' masks.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np
import pyarrow as pa

from elanus.engine.functions import field_analyzer
from elanus.errors import ParameterError
from elanus.schema import FieldSchema
from elanus.text import Analyzer, MatchIndex, MultiAnalyzer

__all__ = ["phrase_match_rows", "text_match_rows"]

# A growing segment's parts are merged into one index past this many.
_MAX_PARTS = 8

_lock = threading.Lock()
# segment object -> field -> [(first row, index)], covering rows 0..n-1 in order.
_parts: weakref.WeakKeyDictionary[Any, dict[str, list[tuple[int, MatchIndex]]]] = (
    weakref.WeakKeyDictionary()
)


def _analyzer(field: FieldSchema) -> Analyzer:
    found = field_analyzer(field)
    return found.select(None) if isinstance(found, MultiAnalyzer) else found


def _strings(column: Any, start: int, stop: int) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not isinstance(column, pa.Array):
        column = pa.array(list(column), pa.string())
    return column.slice(start, stop - start)


def _indexes(data: Any, field: FieldSchema, num_rows: int) -> list[tuple[int, MatchIndex]]:
    with _lock:
        parts = list(_parts.get(data, {}).get(field.name, []))
    covered = parts[-1][0] + parts[-1][1].num_rows if parts else 0
    if covered >= num_rows:
        return parts
    analyzer = _analyzer(field)
    column = data.column(field.name)
    if len(parts) >= _MAX_PARTS:
        parts = [(0, MatchIndex.build(_strings(column, 0, num_rows), analyzer))]
    else:
        parts.append((covered, MatchIndex.build(_strings(column, covered, num_rows), analyzer)))
    with _lock:
        per = _parts.setdefault(data, {})
        current = per.get(field.name, [])
        current_rows = current[-1][0] + current[-1][1].num_rows if current else 0
        if current_rows < num_rows:
            per[field.name] = parts
    return parts


def _field(data: Any, name: str) -> FieldSchema:
    field = data.schema.get(name)
    if field is None or not field.enable_match:
        raise ParameterError(f"field {name} does not enable match")
    return field


def _collect(parts: list[tuple[int, MatchIndex]], num_rows: int, answer: Any) -> np.ndarray:
    out = np.zeros(num_rows, dtype=bool)
    for start, index in parts:
        if start >= num_rows:
            break
        mask = answer(index)
        stop = min(start + len(mask), num_rows)
        out[start:stop] = mask[: stop - start]
    return out


def text_match_rows(data: Any, field_name: str, query: str, num_rows: int) -> np.ndarray:
    """Rows ``0..num_rows-1`` of a segment holding any term of ``query``."""
    parts = _indexes(data, _field(data, field_name), num_rows)
    return _collect(parts, num_rows, lambda index: index.match(query))


def phrase_match_rows(
    data: Any, field_name: str, query: str, slop: int, num_rows: int
) -> np.ndarray:
    """Rows ``0..num_rows-1`` of a segment holding ``query`` as a phrase within ``slop``."""
    parts = _indexes(data, _field(data, field_name), num_rows)
    return _collect(parts, num_rows, lambda index: index.phrase_match(query, slop))
