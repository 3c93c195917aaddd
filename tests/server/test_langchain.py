"""langchain-milvus's ``Milvus`` vector store against a real ``elanus serve``."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from conftest import ServerProcess

pytest.importorskip("langchain_milvus")

from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from langchain_milvus import BM25BuiltInFunction, Milvus  # noqa: E402

DIM = 16

TEXTS = [
    "the kestrel hovers over the meadow",
    "a kite glides above the valley",
    "salmon swim upstream every autumn",
    "trout hide under river stones",
    "oak trees drop acorns in autumn",
]
METADATAS = [
    {"topic": "birds", "year": 2001},
    {"topic": "birds", "year": 2002},
    {"topic": "fish", "year": 2003},
    {"topic": "fish", "year": 2004},
    {"topic": "trees", "year": 2005},
]
IDS = ["kestrel", "kite", "salmon", "trout", "oak"]


class WordHashEmbeddings(Embeddings):
    """Deterministic embeddings: each word adds a fixed pseudo-random unit vector,
    so texts sharing words are close and a text is nearest to itself."""

    def _word(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(DIM)
        return vector / np.linalg.norm(vector)

    def _embed(self, text: str) -> list[float]:
        total = np.sum([self._word(w) for w in text.lower().split()] or [np.ones(DIM)], axis=0)
        return [float(x) for x in total / np.linalg.norm(total)]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


def _store(server: ServerProcess, name: str, **kwargs: object) -> Milvus:
    return Milvus(
        embedding_function=kwargs.pop("embedding_function", WordHashEmbeddings()),  # type: ignore[arg-type]
        collection_name=name,
        connection_args={"uri": server.uri},
        consistency_level="Strong",
        drop_old=True,
        **kwargs,  # type: ignore[arg-type]
    )


def test_add_search_filter_delete_upsert(server: ServerProcess) -> None:
    store = _store(server, "lc_docs")
    assert store.add_texts(TEXTS, metadatas=METADATAS, ids=IDS) == IDS
    top = store.similarity_search(TEXTS[2], k=2)
    assert top[0].page_content == TEXTS[2]
    assert top[0].metadata["topic"] == "fish" and top[0].metadata["pk"] == "salmon"
    birds = store.similarity_search("river in autumn", k=5, expr='topic == "birds"')
    assert {d.metadata["pk"] for d in birds} == {"kestrel", "kite"}
    scored = store.similarity_search_with_score(TEXTS[4], k=1, expr="year >= 2004")
    assert scored[0][0].metadata["pk"] == "oak" and scored[0][1] == pytest.approx(0.0, abs=1e-5)

    assert store.delete(ids=["kite"])
    assert store.delete(expr='topic == "trees"')
    left = store.similarity_search("anything at all", k=10)
    assert sorted(d.metadata["pk"] for d in left) == ["kestrel", "salmon", "trout"]

    store.upsert(
        ids=["trout"],
        documents=[Document("pike lurk in reeds", metadata={"topic": "fish", "year": 2010})],
    )
    found = store.similarity_search("pike lurk in reeds", k=1)
    assert found[0].metadata["pk"] == "trout"
    assert found[0].page_content == "pike lurk in reeds"
    assert found[0].metadata["year"] == 2010
    assert len(store.similarity_search("anything at all", k=10)) == 3


def test_bm25_builtin_function(server: ServerProcess) -> None:
    store = _store(
        server,
        "lc_bm25",
        embedding_function=None,
        builtin_function=BM25BuiltInFunction(output_field_names="sparse"),
        vector_field="sparse",
    )
    store.add_texts(TEXTS, metadatas=METADATAS, ids=IDS)
    hits = store.similarity_search("acorns", k=3)
    assert hits[0].metadata["pk"] == "oak"
    filtered = store.similarity_search("autumn", k=5, expr='topic == "fish"')
    assert [d.metadata["pk"] for d in filtered] == ["salmon"]


def test_dense_and_bm25_hybrid(server: ServerProcess) -> None:
    store = _store(
        server,
        "lc_hybrid",
        builtin_function=BM25BuiltInFunction(output_field_names="sparse"),
        vector_field=["dense", "sparse"],
    )
    store.add_texts(TEXTS, metadatas=METADATAS, ids=IDS)
    hits = store.similarity_search("trout hide under river stones", k=2, ranker_type="rrf")
    assert hits[0].metadata["pk"] == "trout"
    weighted = store.similarity_search(
        "kestrel", k=1, ranker_type="weighted", ranker_params={"weights": [0.2, 0.8]}
    )
    assert weighted[0].metadata["pk"] == "kestrel"
