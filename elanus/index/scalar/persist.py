"""Scalar indexes on disk: a directory beside the segment holding ``scalar_index.json``
(the class, its index type and small parameters) and one Arrow IPC file per array.

Arrays are read back memory-mapped, so loading an index costs no parse and no copy
of its postings; nothing is pickled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from elanus.errors import StorageError

__all__ = ["MANIFEST_NAME", "is_scalar_index_dir", "read_state", "write_state"]

MANIFEST_NAME = "scalar_index.json"
_FORMAT = 1

State = Mapping[str, np.ndarray | pa.Array]


def _as_arrow(value: np.ndarray | pa.Array) -> pa.Array:
    if isinstance(value, pa.Array):
        return value
    return pa.array(np.ascontiguousarray(value).reshape(-1))


def write_state(path: str, kind: str, meta: Mapping[str, Any], arrays: State) -> None:
    """Write one index's state into the (new) directory ``path``."""
    os.makedirs(path, exist_ok=True)
    shapes = {}
    for name, value in arrays.items():
        arr = _as_arrow(value)
        if isinstance(value, np.ndarray):
            shapes[name] = [str(value.dtype), list(value.shape)]
        table = pa.table({"v": arr})
        target = os.path.join(path, f"{name}.arrow")
        with pa.OSFile(target, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    doc = {"format": _FORMAT, "kind": kind, "meta": dict(meta), "numpy": shapes}
    with open(os.path.join(path, MANIFEST_NAME), "w", encoding="utf-8") as f:
        json.dump(doc, f)


def is_scalar_index_dir(path: str) -> bool:
    return os.path.exists(os.path.join(path, MANIFEST_NAME))


def read_state(path: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(kind, meta, arrays) of a saved index; NumPy arrays come back as NumPy views
    of the mapped files, Arrow arrays as Arrow."""
    try:
        with open(os.path.join(path, MANIFEST_NAME), encoding="utf-8") as f:
            doc = json.load(f)
        if doc.get("format") != _FORMAT:
            raise StorageError(f"scalar index {path} has unknown format {doc.get('format')}")
        arrays: dict[str, Any] = {}
        for name in os.listdir(path):
            if not name.endswith(".arrow"):
                continue
            key = name[: -len(".arrow")]
            source = pa.memory_map(os.path.join(path, name), "r")
            column = pa.ipc.open_file(source).read_all().column("v").combine_chunks()
            if key in doc["numpy"]:
                dtype, shape = doc["numpy"][key]
                if len(column) == 0:
                    arrays[key] = np.zeros(shape, dtype=dtype)
                else:
                    data = column.to_numpy(zero_copy_only=False)
                    arrays[key] = np.asarray(data, dtype=dtype).reshape(shape)
            else:
                arrays[key] = column
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise StorageError(f"cannot read scalar index {path}: {exc}") from None
    return str(doc["kind"]), dict(doc["meta"]), arrays
