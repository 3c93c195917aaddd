"""JSON columns for filtering: each column parsed once, each path extracted once.

A sealed segment's columns are immutable and filtered again and again, so the typed
views of every path read (and, for the last few columns, the parsed documents) are kept
in small LRUs keyed by the column's Arrow buffers (the array itself is held, so the buffers cannot be reused
while cached). Comparisons then run on NumPy/Arrow arrays: numbers as float64, strings
as an Arrow string array, bools as a bool array, each with a mask of the rows whose
value has that JSON type — a value of another type simply does not match.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

__all__ = ["MISSING", "JsonValues", "column_cache", "json_path_values"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_NONE_TYPE = type(None)

_CACHE_COLUMNS = 16
_DOCUMENT_COLUMNS = 2


class _ColumnCache:
    """Derived data per immutable Arrow column (parsed JSON, parsed geometry)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.lock = threading.Lock()
        self.entries: OrderedDict[tuple[Any, ...], tuple[pa.Array, dict[Any, Any]]] = OrderedDict()

    @staticmethod
    def key(arr: pa.Array) -> tuple[Any, ...]:
        buffers = tuple(b.address if b is not None else 0 for b in arr.buffers())
        return (str(arr.type), arr.offset, len(arr), buffers)

    def get(self, arr: pa.Array, what: Any, build: Callable[[], Any]) -> Any:
        key = self.key(arr)
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
                if what in entry[1]:
                    return entry[1][what]
        value = build()
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                entry = (arr, {})
                self.entries[key] = entry
                while len(self.entries) > self.capacity:
                    self.entries.popitem(last=False)
            entry[1][what] = value
        return value


column_cache = _ColumnCache(_CACHE_COLUMNS)
# Parsed documents are large (Python objects), so only the last few columns keep them;
# the typed per-path views above are compact and live longer.
_documents = _ColumnCache(_DOCUMENT_COLUMNS)


def _parse_column(arr: pa.Array) -> list[Any]:
    texts = arr.to_pylist()
    loads = orjson.loads
    if arr.null_count == 0:
        return list(map(loads, texts))
    return [MISSING if t is None else loads(t) for t in texts]


def _step(values: list[Any], key: str | int) -> list[Any]:
    if isinstance(key, str):
        return [v.get(key, MISSING) if type(v) is dict else MISSING for v in values]
    return [v[key] if type(v) is list and 0 <= key < len(v) else MISSING for v in values]


class JsonValues:
    """The values at one JSON path, one per row (``MISSING`` where absent), with typed
    views computed on first use."""

    def __init__(self, values: list[Any]) -> None:
        self.n = len(values)
        self.objects = np.empty(self.n, dtype=object)
        self.objects[:] = values
        self.types = np.fromiter(map(type, values), dtype=object, count=self.n)
        self._views: dict[str, Any] = {}

    def _mask(self, *types: type) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for t in types:
            out |= self.types == t
        return out

    @property
    def present(self) -> np.ndarray:
        if "present" not in self._views:
            self._views["present"] = self.types != _Missing
        return self._views["present"]  # type: ignore[no-any-return]

    @property
    def is_null(self) -> np.ndarray:
        if "null" not in self._views:
            self._views["null"] = self.types == _NONE_TYPE
        return self._views["null"]  # type: ignore[no-any-return]

    def numbers(self) -> tuple[np.ndarray, np.ndarray]:
        """(mask of numeric values — bools excluded —, float64 values)."""
        if "num" not in self._views:
            mask = self._mask(int, float)
            data = np.zeros(self.n, dtype=np.float64)
            if mask.any():
                data[mask] = np.array(self.objects[mask].tolist(), dtype=np.float64)
            self._views["num"] = (mask, data)
        return self._views["num"]  # type: ignore[no-any-return]

    def integers(self) -> tuple[np.ndarray, np.ndarray]:
        """(mask of integer values that fit int64, their exact int64 values): integer
        literals compare exactly against integers, as Milvus does, not via float64."""
        if "int" not in self._views:
            mask = self._mask(int)
            data = np.zeros(self.n, dtype=np.int64)
            if mask.any():
                ints = self.objects[mask].tolist()
                fits = np.fromiter(
                    (-(2**63) <= v < 2**63 for v in ints), dtype=bool, count=len(ints)
                )
                rows = np.nonzero(mask)[0]
                mask[rows[~fits]] = False
                data[rows[fits]] = np.array([v for v, ok in zip(ints, fits) if ok], dtype=np.int64)
            self._views["int"] = (mask, data)
        return self._views["int"]  # type: ignore[no-any-return]

    def strings(self) -> tuple[np.ndarray, pa.Array]:
        if "str" not in self._views:
            mask = self._mask(str)
            texts = np.where(mask, self.objects, None)  # type: ignore[call-overload]
            data = pa.array(texts, type=pa.string(), from_pandas=True)
            self._views["str"] = (mask, data)
        return self._views["str"]  # type: ignore[no-any-return]

    def string_test(self, test: Callable[[pa.Array], pa.Array]) -> np.ndarray:
        """Rows whose value is a string passing ``test`` (an Arrow kernel returning bools).

        The kernel runs on the distinct strings only and the answer is gathered back to
        rows, which is far cheaper than a row-wise string kernel on repetitive data."""
        if "str-codes" not in self._views:
            mask, data = self.strings()
            encoded = data.dictionary_encode()
            codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            self._views["str-codes"] = (encoded.dictionary, codes.astype(np.int64))
        dictionary, codes = self._views["str-codes"]
        hits = test(dictionary).fill_null(False).to_numpy(zero_copy_only=False)
        extended = np.zeros(len(dictionary) + 1, dtype=bool)
        extended[: len(dictionary)] = hits
        return extended[codes]  # type: ignore[no-any-return]

    def bools(self) -> tuple[np.ndarray, np.ndarray]:
        if "bool" not in self._views:
            mask = self._mask(bool)
            data = np.zeros(self.n, dtype=bool)
            if mask.any():
                data[mask] = self.objects[mask].astype(bool)
            self._views["bool"] = (mask, data)
        return self._views["bool"]  # type: ignore[no-any-return]

    def lists(self) -> tuple[np.ndarray, np.ndarray, JsonValues]:
        """(mask of list values, their lengths per row, the flattened elements with
        ``parents``: the row of each element)."""
        if "list" not in self._views:
            mask = self._mask(list)
            rows = self.objects[mask]
            lengths = np.zeros(self.n, dtype=np.int64)
            lengths[mask] = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
            flat = JsonValues(list(itertools.chain.from_iterable(rows)))
            flat.parents = np.repeat(np.nonzero(mask)[0], lengths[mask])
            self._views["list"] = (mask, lengths, flat)
        return self._views["list"]  # type: ignore[no-any-return]

    parents: np.ndarray


def json_path_values(arr: pa.Array, path: tuple[str | int, ...]) -> JsonValues:
    """Typed values at ``path`` in a JSON text column, cached per column and path."""

    def docs() -> list[Any]:
        return _parse_column(arr)

    def build() -> JsonValues:
        values: list[Any] = _documents.get(arr, ("json-docs",), docs)
        for key in path:
            values = _step(values, key)
        return JsonValues(values)

    result: JsonValues = column_cache.get(arr, ("json-path", path), build)
    return result
