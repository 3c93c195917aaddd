"""Row selection and concatenation over columns of any kind in the shared convention.

A column is an Arrow array (scalars, ``$meta``), a 2-D numpy matrix (dense
vectors) or a CSR array (sparse vectors); these helpers keep each in its kind.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

__all__ = ["concat_columns", "take_rows"]


def take_rows(column: Any, rows: np.ndarray) -> Any:
    """The rows of ``column`` at positions ``rows``, in that order."""
    if isinstance(column, np.ndarray):
        return np.asarray(column[rows])
    if sp.issparse(column):
        return sp.csr_array(sp.csr_array(column)[rows])
    return column.take(pa.array(rows))


def concat_columns(parts: list[Any]) -> Any:
    """One column from non-empty ``parts`` of the same kind, stacked in order."""
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    if sp.issparse(parts[0]):
        return sp.csr_array(sp.vstack(parts, format="csr"))
    return pa.concat_arrays(parts)
