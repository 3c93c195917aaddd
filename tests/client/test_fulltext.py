"""Full-text search, text/phrase match, sparse vectors and run_analyzer through the
embedded MilvusClient, checked against plain-Python references."""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from pymilvus import AnnSearchRequest, Function, FunctionType, RRFRanker

from elanus import DataType, MilvusClient
from elanus.errors import ElanusError

CORPUS = [
    "The quick brown fox jumps over the lazy dog",
    "A quick brown dog outpaces a quick fox",
    "Lazy afternoons are for sleeping dogs",
    "Foxes are quick and clever animals",
    "The dog barks at the brown fox",
    "Nothing to see here",
    "quick quick quick",
    "Brown bears and brown dogs",
]
K1, B = 1.2, 0.75


def tokens(text: str) -> list[str]:
    """What the standard analyzer does to these ASCII sentences."""
    return [t.lower() for t in re.findall(r"\w+", text)]


def reference_bm25(corpus: dict[int, str], query: str) -> dict[int, float]:
    """Milvus's BM25 written out term by term, for every document sharing a term."""
    docs = {pk: Counter(tokens(t)) for pk, t in corpus.items()}
    n = len(docs)
    avgdl = sum(sum(c.values()) for c in docs.values()) / n
    query_tf = Counter(tokens(query))
    dfs = {term: sum(1 for c in docs.values() if term in c) for term in query_tf}
    out: dict[int, float] = {}
    for pk, tf in docs.items():
        dl = sum(tf.values())
        score, shared = 0.0, False
        for term, qtf in query_tf.items():
            df = dfs[term]
            if term not in tf:
                continue
            shared = True
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            f = tf[term]
            score += qtf * idf * f * (K1 + 1) / (f + K1 * (1 - B + B * dl / avgdl))
        if shared:
            out[pk] = score
    return out


def bm25_schema(client: MilvusClient, *, partition_key: bool = False) -> Any:
    s = client.create_schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("text", DataType.VARCHAR, max_length=1000, enable_analyzer=True, enable_match=True)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    s.add_field("tag", DataType.INT64)
    s.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    return s


@pytest.fixture
def client(tmp_path: Path) -> Iterator[MilvusClient]:
    c = MilvusClient(str(tmp_path / "ft.db"))
    yield c
    c.close()


def make_docs(client: MilvusClient, name: str = "docs") -> dict[int, str]:
    ip = client.prepare_index_params()
    ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    ip.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=bm25_schema(client), index_params=ip)
    rows = [
        {"id": i, "text": t, "vec": [float(i), 0.0], "tag": i % 3} for i, t in enumerate(CORPUS)
    ]
    client.insert(name, rows[:4])
    client.flush(name)  # two segments: statistics must be collection-wide
    client.insert(name, rows[4:])
    return dict(enumerate(CORPUS))


def search_scores(client: MilvusClient, query: str, **kwargs: Any) -> dict[int, float]:
    hits = client.search(
        "docs", data=[query], anns_field="sparse", limit=kwargs.pop("limit", 100), **kwargs
    )[0]
    return {h["id"]: h["distance"] for h in hits}


def assert_scores(got: dict[int, float], want: dict[int, float]) -> None:
    assert set(got) == set(want)
    for pk, score in want.items():
        assert got[pk] == pytest.approx(score, rel=1e-5)


@pytest.mark.parametrize("query", ["quick fox", "brown dog", "lazy", "quick quick brown"])
def test_bm25_scores_match_the_reference(client: MilvusClient, query: str) -> None:
    corpus = make_docs(client)
    got = search_scores(client, query)
    assert_scores(got, reference_bm25(corpus, query))
    order = [pk for pk, _ in sorted(got.items(), key=lambda kv: -kv[1])]
    hits = client.search("docs", data=[query], anns_field="sparse", limit=3)[0]
    assert [h["id"] for h in hits] == order[:3]


def test_bm25_scores_on_indexed_segments_use_collection_statistics(
    client: MilvusClient,
) -> None:
    rng = np.random.default_rng(3)
    words = np.array(
        ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"]
    )
    corpus = {i: " ".join(rng.choice(words, size=int(rng.integers(1, 12)))) for i in range(4000)}
    ip = client.prepare_index_params()
    ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    ip.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection("docs", schema=bm25_schema(client), index_params=ip)
    rows = [{"id": i, "text": t, "vec": [0.0, 0.0], "tag": 0} for i, t in corpus.items()]
    client.insert("docs", rows[:3000])
    client.flush("docs")
    client.insert("docs", rows[3000:])
    client.delete("docs", filter="id < 100")
    for pk in range(100):
        del corpus[pk]
    want = reference_bm25(corpus, "beta theta")
    got = search_scores(client, "beta theta", limit=20)
    top = sorted(want, key=lambda pk: (-want[pk], pk))[:20]
    assert sorted(got.values(), reverse=True) == pytest.approx([want[pk] for pk in top], rel=1e-5)
    for pk, score in got.items():
        assert score == pytest.approx(want[pk], rel=1e-5)


def test_bm25_statistics_follow_delete_upsert_compaction_and_reopen(
    client: MilvusClient, tmp_path: Path
) -> None:
    corpus = make_docs(client)
    client.delete("docs", ids=[1, 6])
    for pk in (1, 6):
        del corpus[pk]
    assert_scores(search_scores(client, "quick dog"), reference_bm25(corpus, "quick dog"))
    client.upsert("docs", [{"id": 2, "text": "a quick dog naps", "vec": [0.0, 0.0], "tag": 0}])
    corpus[2] = "a quick dog naps"
    assert_scores(search_scores(client, "quick dog"), reference_bm25(corpus, "quick dog"))
    client.flush("docs")
    client.compact("docs")
    assert_scores(search_scores(client, "quick dog"), reference_bm25(corpus, "quick dog"))
    client.close()
    reopened = MilvusClient(str(tmp_path / "ft.db"))
    try:
        hits = reopened.search("docs", data=["quick dog"], anns_field="sparse", limit=100)[0]
        assert_scores({h["id"]: h["distance"] for h in hits}, reference_bm25(corpus, "quick dog"))
    finally:
        reopened.close()


def test_bm25_search_with_filter_window_output_and_partitions(client: MilvusClient) -> None:
    corpus = make_docs(client)
    want = reference_bm25(corpus, "brown")
    ranked = sorted(want, key=lambda pk: -want[pk])
    hits = client.search(
        "docs", data=["brown"], anns_field="sparse", limit=2, offset=1, output_fields=["text"]
    )[0]
    assert [h["id"] for h in hits] == ranked[1:3]
    assert hits[0]["entity"]["text"] == corpus[ranked[1]]
    filtered = client.search(
        "docs", data=["brown"], anns_field="sparse", limit=10, filter="tag == 1"
    )[0]
    assert [h["id"] for h in filtered] == [pk for pk in ranked if pk % 3 == 1]
    # A partition search still scores with the collection's statistics.
    client.create_partition("docs", "extra")
    client.insert(
        "docs", [{"id": 100, "text": "brown", "vec": [0.0, 0.0], "tag": 0}], partition_name="extra"
    )
    corpus[100] = "brown"
    only = client.search("docs", data=["brown"], anns_field="sparse", partition_names=["extra"])[0]
    assert only[0]["id"] == 100
    assert only[0]["distance"] == pytest.approx(reference_bm25(corpus, "brown")[100], rel=1e-5)


def test_bm25_grouping(client: MilvusClient) -> None:
    corpus = make_docs(client)
    want = reference_bm25(corpus, "quick brown")
    hits = client.search(
        "docs", data=["quick brown"], anns_field="sparse", limit=3, group_by_field="tag"
    )[0]
    best: dict[int, int] = {}
    for pk in sorted(want, key=lambda pk: -want[pk]):
        best.setdefault(pk % 3, pk)
    assert [h["id"] for h in hits] == sorted(best.values(), key=lambda pk: -want[pk])


def test_function_output_cannot_be_supplied(client: MilvusClient) -> None:
    make_docs(client)
    with pytest.raises(ElanusError, match="function output field `sparse`"):
        client.insert(
            "docs",
            [{"id": 50, "text": "x", "vec": [0.0, 0.0], "tag": 0, "sparse": {1: 0.5}}],
        )


def test_bm25_output_is_not_retrievable(client: MilvusClient) -> None:
    make_docs(client)
    with pytest.raises(ElanusError, match="BM25 function"):
        client.query("docs", filter="id == 6", output_fields=["sparse"])


def test_hybrid_search_dense_and_bm25_with_rrf(client: MilvusClient) -> None:
    corpus = make_docs(client)
    want = reference_bm25(corpus, "lazy dog")
    bm25_rank = sorted(want, key=lambda pk: -want[pk])[:4]
    dense_rank = [3, 2, 4, 1]  # L2 from (3, 0) over vec = (id, 0)
    k = 60
    fused: dict[int, float] = {}
    for ranking in (bm25_rank, dense_rank):
        for rank, pk in enumerate(ranking, start=1):
            fused[pk] = fused.get(pk, 0.0) + 1.0 / (k + rank)
    expected = sorted(fused, key=lambda pk: (-fused[pk], pk))[:5]
    hits = client.hybrid_search(
        "docs",
        [
            AnnSearchRequest(["lazy dog"], "sparse", {"metric_type": "BM25"}, limit=4),
            AnnSearchRequest([[3.0, 0.0]], "vec", {"metric_type": "L2"}, limit=4),
        ],
        RRFRanker(k),
        limit=5,
    )[0]
    assert [h["id"] for h in hits] == expected
    assert [h["distance"] for h in hits] == pytest.approx([fused[pk] for pk in expected])


def test_text_match_and_phrase_match(client: MilvusClient) -> None:
    make_docs(client)

    def ids(expr: str) -> list[int]:
        return sorted(r["id"] for r in client.query("docs", filter=expr, output_fields=["id"]))

    assert ids("text_match(text, 'fox')") == [0, 1, 4]
    assert ids("text_match(text, 'lazy bears')") == [0, 2, 7]
    assert ids("text_match(text, 'fox') and tag == 1") == [1, 4]
    assert ids("phrase_match(text, 'brown fox')") == [0, 4]
    assert ids("phrase_match(text, 'quick fox')") == [1]
    assert ids("phrase_match(text, 'quick fox', 1)") == [0, 1]
    client.delete("docs", ids=[4])
    assert ids("phrase_match(text, 'brown fox')") == [0]
    client.insert("docs", [{"id": 9, "text": "brown fox", "vec": [0.0, 0.0], "tag": 0}])
    assert ids("phrase_match(text, 'brown fox')") == [0, 9]
    hits = client.search(
        "docs", data=["dog"], anns_field="sparse", filter="text_match(text, 'brown')", limit=10
    )[0]
    assert sorted(h["id"] for h in hits) == [0, 1]  # "dogs" is another term


def test_text_match_needs_enable_match(client: MilvusClient) -> None:
    s = client.create_schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("text", DataType.VARCHAR, max_length=100, enable_analyzer=True)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    ip = client.prepare_index_params()
    ip.add_index("vec", metric_type="L2")
    client.create_collection("plain", schema=s, index_params=ip)
    client.insert("plain", [{"id": 1, "text": "hello", "vec": [0.0, 0.0]}])
    with pytest.raises(ElanusError, match="enable match"):
        client.query("plain", filter="text_match(text, 'hello')")


def sparse_collection(client: MilvusClient, index_params: dict[str, Any]) -> None:
    s = client.create_schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("sv", DataType.SPARSE_FLOAT_VECTOR)
    ip = client.prepare_index_params()
    ip.add_index("sv", metric_type="IP", **index_params)
    client.create_collection("sparse", schema=s, index_params=ip)


@pytest.mark.parametrize(
    "index_params",
    [
        {"index_type": "SPARSE_INVERTED_INDEX", "params": {"inverted_index_algo": "DAAT_MAXSCORE"}},
        {"index_type": "SPARSE_INVERTED_INDEX", "params": {"inverted_index_algo": "TAAT_NAIVE"}},
        {"index_type": "SPARSE_WAND", "params": {"drop_ratio_build": 0.0}},
        {"index_type": "AUTOINDEX"},
    ],
)
def test_sparse_search_is_exact_inner_product(
    client: MilvusClient, index_params: dict[str, Any]
) -> None:
    sparse_collection(client, index_params)
    rng = np.random.default_rng(7)
    n = 300
    matrix = sp.random(n, 50, density=0.1, format="csr", random_state=7, dtype=np.float32)
    matrix.data += 0.01  # no explicit zeros
    rows: list[dict[str, Any]] = []
    for i in range(n):
        lo, hi = matrix.indptr[i], matrix.indptr[i + 1]
        idx, val = matrix.indices[lo:hi], matrix.data[lo:hi]
        if i % 3 == 0:
            vec: Any = {int(j): float(v) for j, v in zip(idx, val, strict=True)}
        elif i % 3 == 1:
            vec = matrix[[i]]
        else:
            vec = (idx.tolist(), val.tolist())
        if len(idx) == 0:
            vec = {}
        rows.append({"id": i, "sv": vec})
    client.insert("sparse", rows[:150])
    client.flush("sparse")
    client.insert("sparse", rows[150:])
    query = {int(j): float(v) for j, v in zip(rng.choice(50, 6, replace=False), rng.random(6))}
    qvec = np.zeros(50, dtype=np.float32)
    for j, v in query.items():
        qvec[j] = v
    scores = matrix.toarray() @ qvec
    hits = client.search(
        "sparse",
        data=[query],
        anns_field="sparse" if False else "sv",
        limit=10,
        search_params={"metric_type": "IP", "params": {"drop_ratio_search": 0.0}},
    )[0]
    want = np.argsort(-scores, kind="stable")[:10]
    assert [h["id"] for h in hits] == want.tolist()
    assert [h["distance"] for h in hits] == pytest.approx(scores[want].tolist(), rel=1e-5)


def test_run_analyzer(client: MilvusClient) -> None:
    assert client.run_analyzer("Hello, World").tokens == ["hello", "world"]
    english = client.run_analyzer(["running dogs"], {"type": "english"})
    assert [r.tokens for r in english] == [["run", "dog"]]
    detail = client.run_analyzer("Hi there", with_detail=True, with_hash=True).tokens
    assert detail[1] == {
        "token": "there",
        "start_offset": 3,
        "end_offset": 8,
        "position": 1,
        "position_length": 1,
        "hash": zlib.crc32(b"there") % 0xFFFFFFFF,
    }
    make_docs(client)
    field = client.run_analyzer(["The Fox"], collection_name="docs", field_name="text")
    assert field[0].tokens == ["the", "fox"]
