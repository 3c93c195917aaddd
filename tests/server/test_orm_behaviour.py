"""Milvus behaviours that pymilvus's ORM (Collection, utility) relies on, against a real
``elanus serve`` process."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from conftest import ServerProcess
from pymilvus import (
    Collection,
    CollectionSchema,
    DataType,
    FieldSchema,
    Function,
    FunctionType,
    MilvusException,
    connections,
)

# The ORM is deprecated in pymilvus 3 but must keep working until it is removed.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

DIM = 8
ROWS = 200
RNG = np.random.default_rng(5)
VECTORS = RNG.random((ROWS, DIM), dtype=np.float32)
WORDS = ["apple", "banana", "cherry", "grape", "lemon", "mango", "peach", "plum"]


@pytest.fixture(scope="module")
def alias(server: ServerProcess) -> Iterator[str]:
    connections.connect(alias="orm-behaviour", uri=server.uri)
    yield "orm-behaviour"
    connections.disconnect("orm-behaviour")


@pytest.fixture(scope="module")
def docs(alias: str) -> Iterator[Collection]:
    """Dense vectors and a BM25 field over text, flushed, indexed and loaded."""
    schema = CollectionSchema(
        [
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("text", DataType.VARCHAR, max_length=256, enable_analyzer=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, dim=DIM),
            FieldSchema("sparse", DataType.SPARSE_FLOAT_VECTOR),
        ],
        functions=[
            Function(
                "bm25", FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]
            )
        ],
    )
    coll = Collection("orm_docs", schema, using=alias)
    texts = [f"{WORDS[i % 8]} {WORDS[(i * 3) % 8]} {WORDS[(i * 5 + 1) % 8]}" for i in range(ROWS)]
    coll.insert([list(range(ROWS)), texts, VECTORS.tolist()])
    coll.flush()
    coll.create_index("vec", {"index_type": "FLAT", "metric_type": "L2", "params": {}})
    coll.create_index("sparse", {"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "BM25"})
    coll.load()
    yield coll
    coll.drop()


def test_search_by_primary_keys_uses_their_stored_vectors(docs: Collection) -> None:
    res = docs.search(None, ids=[7, 3], anns_field="vec", param={"metric_type": "L2"}, limit=3)
    assert len(res) == 2
    # Each key's own vector is its nearest neighbour, at distance zero.
    assert res[0][0].id == 7 and res[1][0].id == 3
    assert res[0][0].distance == pytest.approx(0.0, abs=1e-5)


def test_search_by_primary_keys_on_bm25_output_uses_the_input_text(docs: Collection) -> None:
    res = docs.search(
        None, ids=[0, 1], anns_field="sparse", param={}, limit=5, output_fields=["text"]
    )
    assert len(res) == 2
    query_words = set(docs.query("id == 0", output_fields=["text"])[0]["text"].split())
    assert all(query_words & set(hit.entity.get("text").split()) for hit in res[0])


def test_search_by_primary_keys_reports_missing_and_repeated_keys(docs: Collection) -> None:
    with pytest.raises(MilvusException, match=r"missing IDs = \[100000 100001\]"):
        docs.search(None, ids=[1, 100000, 100001], anns_field="vec", param={}, limit=3)
    with pytest.raises(MilvusException, match="duplicate IDs found in search request"):
        docs.search(None, ids=[1, 1], anns_field="vec", param={}, limit=3)
    with pytest.raises(MilvusException, match="primary key is int64, but IDs type mismatch"):
        docs.search(None, ids=["a"], anns_field="vec", param={}, limit=3)


@pytest.fixture()
def scalars(alias: str) -> Iterator[Collection]:
    schema = CollectionSchema(
        [
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("tag", DataType.INT32),
            FieldSchema("weight", DataType.FLOAT),
            FieldSchema("vec", DataType.FLOAT_VECTOR, dim=DIM),
            FieldSchema("sparse", DataType.SPARSE_FLOAT_VECTOR),
        ]
    )
    coll = Collection("orm_scalars", schema, using=alias)
    yield coll
    coll.drop()


def test_scalar_index_drops_from_a_loaded_collection_but_vector_index_does_not(
    scalars: Collection,
) -> None:
    scalars.create_index("vec", {"index_type": "FLAT", "metric_type": "L2"}, index_name="v")
    scalars.create_index(
        "sparse", {"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "IP"}, index_name="s"
    )
    scalars.create_index("tag", {"index_type": "BITMAP"}, index_name="t")
    scalars.load()
    scalars.drop_index(index_name="t")
    assert {i.index_name for i in scalars.indexes} == {"v", "s"}
    with pytest.raises(MilvusException, match="collection is loaded, please release it first"):
        scalars.drop_index(index_name="v")
    # A dropped scalar index can be built again while loaded.
    scalars.create_index("tag", {"index_type": "BITMAP"}, index_name="t")
    assert len(scalars.indexes) == 3


def test_bitmap_index_refusals_are_worded_as_milvus(scalars: Collection) -> None:
    with pytest.raises(MilvusException, match="create bitmap index on primary key not supported"):
        scalars.create_index("id", {"index_type": "BITMAP"})
    with pytest.raises(
        MilvusException, match="bitmap index are only supported on bool, int, string"
    ):
        scalars.create_index("weight", {"index_type": "BITMAP"})
    refusals = {
        "metric type not set for vector index": {"index_type": "BITMAP"},
        "only IP&BM25 is the supported metric type for sparse index": {
            "index_type": "BITMAP",
            "metric_type": "L2",
        },
        "data type SparseFloatVector can't build with this index BITMAP": {
            "index_type": "BITMAP",
            "metric_type": "IP",
        },
    }
    for message, params in refusals.items():
        with pytest.raises(MilvusException, match=message):
            scalars.create_index("sparse", params)


def test_unknown_tokenizer_is_refused_when_the_collection_is_created(alias: str) -> None:
    schema = CollectionSchema(
        [
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema(
                "body",
                DataType.VARCHAR,
                max_length=256,
                enable_analyzer=True,
                enable_match=True,
                analyzer_params={"tokenizer": "NoSuchTokenizer"},
            ),
            FieldSchema("vec", DataType.FLOAT_VECTOR, dim=DIM),
        ]
    )
    with pytest.raises(MilvusException, match="unsupported tokenizer"):
        Collection("orm_bad_tokenizer", schema, using=alias)


def test_search_function_chains_are_refused_not_ignored(docs: Collection) -> None:
    from pymilvus.function_chain import FunctionChain, FunctionChainExpr, FunctionChainStage, col

    chain = FunctionChain(FunctionChainStage.L0_RERANK, name="plus_id").map(
        "$score", FunctionChainExpr("num_combine", args=(col("$score"), col("$id")))
    )
    with pytest.raises(MilvusException, match="function chains are not supported"):
        docs.search(
            VECTORS[:1].tolist(),
            "vec",
            {"metric_type": "L2"},
            limit=3,
            function_chains=[chain],
        )


def test_analyzer_elanus_lacks_does_not_block_create(alias: str) -> None:
    schema = CollectionSchema(
        [
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema(
                "body",
                DataType.VARCHAR,
                max_length=256,
                enable_analyzer=True,
                analyzer_params={"tokenizer": {"type": "lindera", "dict_kind": "ipadic"}},
            ),
            FieldSchema("vec", DataType.FLOAT_VECTOR, dim=DIM),
        ]
    )
    coll = Collection("orm_lindera_tokenizer", schema, using=alias)
    coll.drop()
