"""The public surface is explicit and pinned: a change here is a change of the API."""

from __future__ import annotations

import elanus

EXPECTED = {
    "AnnSearchRequest",
    "CollectionSchema",
    "DataType",
    "ElanusError",
    "FieldSchema",
    "Function",
    "FunctionType",
    "IndexParams",
    "IndexType",
    "MilvusClient",
    "MilvusException",
    "RRFRanker",
    "WeightedRanker",
    "__version__",
}


def test_all_is_pinned() -> None:
    assert set(elanus.__all__) == EXPECTED
    assert len(elanus.__all__) == len(EXPECTED)


def test_every_name_in_all_exists() -> None:
    for name in elanus.__all__:
        assert hasattr(elanus, name), name


def test_builders_are_pymilvus_classes() -> None:
    import pymilvus

    for name in ("CollectionSchema", "FieldSchema", "DataType", "Function", "AnnSearchRequest"):
        assert getattr(elanus, name) is getattr(pymilvus, name)


def test_errors_carry_milvus_code_and_message() -> None:
    err = elanus.MilvusException("boom", code=1100)
    assert err.code == 1100 and err.message == "boom"
