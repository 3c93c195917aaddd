"""SUBSTRUCTURE and SUPERSTRUCTURE on BIN_FLAT: matches, not distances.

A row matches SUBSTRUCTURE when its bits include every bit of the query, and
SUPERSTRUCTURE when every bit it has is in the query. Matches come back at
distance 0 in row order, up to k; rows that do not match are never hits. Only
BIN_FLAT takes these metrics, as in Milvus.
"""

from __future__ import annotations

import numpy as np
import pytest

from elanus.errors import ParameterError
from elanus.index import build_vector_index, exact_search
from elanus.schema.field import FieldSchema
from elanus.schema.types import DataType

FIELD = FieldSchema("bits", DataType.BINARY_VECTOR, params={"dim": 16})


def _rows() -> np.ndarray:
    bits = [
        [1, 1, 1, 0, 0, 0, 0, 0] + [0] * 8,  # 0: a superset of the query
        [1, 0, 0, 0, 0, 0, 0, 0] + [0] * 8,  # 1: a subset of the query
        [1, 1, 0, 0, 0, 0, 0, 0] + [0] * 8,  # 2: the query itself
        [0, 0, 0, 1, 0, 0, 0, 0] + [0] * 8,  # 3: neither
        [1, 1, 0, 0, 0, 0, 0, 0] + [1] * 8,  # 4: a superset of the query
    ]
    return np.packbits(np.asarray(bits, dtype=np.uint8), axis=1)


QUERY = np.packbits(np.asarray([[1, 1, 0, 0, 0, 0, 0, 0] + [0] * 8], dtype=np.uint8), axis=1)


@pytest.mark.parametrize(
    ("metric", "want"), [("SUBSTRUCTURE", [0, 2, 4]), ("SUPERSTRUCTURE", [1, 2])]
)
def test_bin_flat_returns_matching_rows_at_distance_zero(metric: str, want: list[int]) -> None:
    index = build_vector_index(FIELD, "BIN_FLAT", metric, {}, _rows())
    d, ids = index.search(QUERY, 4)
    assert ids[0][: len(want)].tolist() == want
    assert d[0][: len(want)].tolist() == [0.0] * len(want)
    assert (ids[0][len(want) :] == -1).all()
    # Growing segments are scanned without an index: the same matches.
    d2, ids2 = exact_search(DataType.BINARY_VECTOR, _rows(), QUERY, metric, 4)
    assert ids2[0].tolist() == ids[0].tolist()
    allowed = np.array([True, True, False, True, True])
    _, ids3 = index.search(QUERY, 4, None, allowed)
    assert [i for i in ids3[0].tolist() if i >= 0] == [i for i in want if i != 2]


def test_structure_metrics_only_on_bin_flat() -> None:
    with pytest.raises(
        ParameterError,
        match=r"metric type SUBSTRUCTURE not found or not supported, supported: \[HAMMING JACCARD\]",
    ):
        build_vector_index(FIELD, "BIN_IVF_FLAT", "SUBSTRUCTURE", {"nlist": 2}, _rows())
