"""Index and search parameter validation with Milvus's ranges, defaults and messages."""

from __future__ import annotations

import numpy as np
import pytest
from vector_testdata import vector_field

from elanus.errors import ParameterError
from elanus.index import (
    INDEX_SPECS,
    build_vector_index,
    resolve_index_type,
    validate_index_params,
    validate_search_params,
)
from elanus.index.params import effective_nbits, effective_nlist
from elanus.schema.types import DataType

FLOAT = vector_field(DataType.FLOAT_VECTOR, 32)
BINARY = vector_field(DataType.BINARY_VECTOR, 64)


def test_hnsw_defaults_are_milvus_defaults():
    got = validate_index_params(FLOAT, "HNSW", "L2", {})
    assert got == {
        "index_type": "HNSW",
        "metric_type": "L2",
        "params": {"M": 30, "efConstruction": 360},
    }


@pytest.mark.parametrize("m", [1, 2049, -3])
def test_hnsw_m_out_of_range(m):
    with pytest.raises(ParameterError, match=r"'M' \(.*\) should be in range \[2, 2048\]"):
        validate_index_params(FLOAT, "HNSW", "L2", {"M": m})


def test_mistyped_param_is_a_type_conflict():
    with pytest.raises(ParameterError, match="should be integer"):
        validate_index_params(FLOAT, "IVF_FLAT", "L2", {"nlist": "lots"})
    assert validate_index_params(FLOAT, "IVF_FLAT", "L2", {"nlist": "64"})["params"]["nlist"] == 64


def test_metric_not_allowed_for_index():
    # A metric outside the vector type's family is refused for the type first, as
    # Milvus's proxy does; one of the family the index lacks, by the index.
    with pytest.raises(
        ParameterError, match="float vector index does not support metric type: HAMMING"
    ):
        validate_index_params(FLOAT, "HNSW", "HAMMING", {})
    with pytest.raises(
        ParameterError, match="binary vector index does not support metric type: L2"
    ):
        validate_index_params(BINARY, "BIN_FLAT", "L2", {})
    with pytest.raises(ParameterError, match="metric type SUBSTRUCTURE not found or not supported"):
        validate_index_params(BINARY, "BIN_IVF_FLAT", "SUBSTRUCTURE", {})


def test_index_not_allowed_for_vector_type():
    with pytest.raises(ParameterError, match="can't build with this index"):
        validate_index_params(BINARY, "HNSW", "HAMMING", {})
    with pytest.raises(ParameterError, match="can't build with this index"):
        validate_index_params(vector_field(DataType.INT8_VECTOR, 32), "IVF_FLAT", "L2", {})


def test_unknown_index_type():
    with pytest.raises(ParameterError, match="invalid index type"):
        validate_index_params(FLOAT, "ANNOY_PLUS", "L2", {})


def test_ivf_pq_needs_m_dividing_dim():
    with pytest.raises(ParameterError, match="param 'm' is required"):
        validate_index_params(FLOAT, "IVF_PQ", "L2", {"nlist": 8})
    with pytest.raises(ParameterError, match="multiple of the number of subquantizers"):
        validate_index_params(FLOAT, "IVF_PQ", "L2", {"nlist": 8, "m": 5})


def test_unknown_params_are_ignored_unless_strict():
    got = validate_index_params(FLOAT, "HNSW", "L2", {"M": 16, "colour": "blue"})
    assert got["params"] == {"M": 16, "efConstruction": 360}
    with pytest.raises(ParameterError, match="unknown parameter"):
        validate_index_params(FLOAT, "HNSW", "L2", {"colour": "blue"}, strict=True)
    assert validate_search_params("HNSW", "L2", {"ef": 32, "shade": 1}, k=10)["ef"] == 32
    with pytest.raises(ParameterError, match="unknown parameter"):
        validate_search_params("HNSW", "L2", {"shade": 1}, k=10, strict=True)


def test_autoindex_resolves_per_vector_type():
    assert resolve_index_type(DataType.FLOAT_VECTOR, "AUTOINDEX")[0] == "HNSW"
    assert resolve_index_type(DataType.BINARY_VECTOR, "AUTOINDEX")[0] == "BIN_IVF_FLAT"
    assert (
        resolve_index_type(DataType.SPARSE_FLOAT_VECTOR, "AUTOINDEX")[0] == "SPARSE_INVERTED_INDEX"
    )
    got = validate_index_params(FLOAT, "AUTOINDEX", None, {"M": 20, "nlist": 3})
    assert got == {
        "index_type": "HNSW",
        "metric_type": "COSINE",
        "params": {"M": 20, "efConstruction": 240},
    }


def test_search_params_fill_k_dependent_defaults_and_reject_small_values():
    assert validate_search_params("HNSW", "L2", {}, k=5)["ef"] == 16
    assert validate_search_params("HNSW", "L2", {}, k=50)["ef"] == 50
    with pytest.raises(ParameterError, match=r"ef\(8\) should be larger than k\(10\)"):
        validate_search_params("HNSW", "L2", {"ef": 8}, k=10)
    with pytest.raises(ParameterError, match=r"search_list\(5\) should be larger than k\(10\)"):
        validate_search_params("DISKANN", "L2", {"search_list": 5}, k=10)
    with pytest.raises(ParameterError, match=r"reorder_k\(5\) should be larger than k\(10\)"):
        validate_search_params("SCANN", "L2", {"reorder_k": 5}, k=10)
    with pytest.raises(ParameterError, match=r"'nprobe' \(0\) should be in range \[1, 65536\]"):
        validate_search_params("IVF_FLAT", "L2", {"nprobe": 0}, k=10)
    assert validate_search_params("IVF_FLAT", "L2", {"params": {"nprobe": 3}}, k=1)["nprobe"] == 3


def test_range_params_follow_metric_direction():
    validate_search_params("HNSW", "L2", {"radius": 10.0, "range_filter": 1.0})
    validate_search_params("HNSW", "IP", {"radius": 0.2, "range_filter": 0.9})
    with pytest.raises(ParameterError, match="range_filter"):
        validate_search_params("HNSW", "L2", {"radius": 1.0, "range_filter": 10.0})
    with pytest.raises(ParameterError, match="range_filter"):
        validate_search_params("HNSW", "COSINE", {"radius": 0.9, "range_filter": 0.2})


def test_sparse_params():
    sparse = vector_field(DataType.SPARSE_FLOAT_VECTOR, 0)
    got = validate_index_params(
        sparse, "SPARSE_INVERTED_INDEX", "IP", {"inverted_index_algo": "taat_naive"}
    )
    assert got["params"]["inverted_index_algo"] == "TAAT_NAIVE"
    with pytest.raises(ParameterError, match="sparse inverted index algo FAST not found"):
        validate_index_params(
            sparse, "SPARSE_INVERTED_INDEX", "IP", {"inverted_index_algo": "FAST"}
        )
    with pytest.raises(ParameterError, match="drop_ratio_build"):
        validate_index_params(sparse, "SPARSE_INVERTED_INDEX", "IP", {"drop_ratio_build": 1.0})
    with pytest.raises(ParameterError, match="drop_ratio_search"):
        validate_search_params("SPARSE_INVERTED_INDEX", "IP", {"drop_ratio_search": -0.1})


def test_nlist_and_nbits_shrink_to_the_data_as_milvus_does():
    assert effective_nlist(10_000, 128) == 128
    assert effective_nlist(1000, 128) == 1000 // 39
    assert effective_nlist(10, 128) == 1
    assert effective_nbits(100, 8) == 6
    x = np.random.default_rng(0).standard_normal((400, 32)).astype(np.float32)
    index = build_vector_index(FLOAT, "IVF_FLAT", "L2", {"nlist": 1024}, x)
    assert index.params["nlist"] == 400 // 39


def test_every_catalogued_index_names_its_types_and_metrics():
    for name, spec in INDEX_SPECS.items():
        assert spec.vector_types and spec.metrics, name
