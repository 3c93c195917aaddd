"""Multi-language analyzers through the embedded MilvusClient: each row analysed by
the analyzer its ``lang`` value picks, query text by the one ``analyzer_name``
picks, BM25 scores checked against a plain-Python reference over hand-written
token lists."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymilvus import AnnSearchRequest, Function, FunctionType, RRFRanker

from elanus import DataType, MilvusClient
from elanus.errors import ElanusError

MULTI = {
    "analyzers": {
        "english": {"type": "english"},
        "chinese": {"type": "chinese"},
        "default": {"tokenizer": "standard", "filter": ["lowercase"]},
    },
    "by_field": "lang",
    "alias": {"en": "english", "cn": "chinese"},
}

# (text, lang, the tokens the analyzer that lang picks gives).
ROWS = {
    1: (
        "Artificial intelligence is transforming technology",
        "en",
        "artifici intellig transform technolog",
    ),
    2: (
        "Machine learning models require large datasets",
        "english",
        "machin learn model requir larg dataset",
    ),
    3: ("人工智能正在改变技术领域", "cn", "人工 智能 人工智能 正在 改变 技术 领域"),
    4: ("机器学习模型需要大型数据集", "chinese", "机器 学习 模型 需要 大型 数据 集"),
    5: ("Transforming models", "fr", "transforming models"),  # unknown lang: default analyzer
}
K1, B = 1.2, 0.75


def reference_bm25(query_tokens: list[str]) -> dict[int, float]:
    """Milvus's BM25 over the hand-written row tokens, for every row sharing a term."""
    docs = {pk: Counter(row[2].split()) for pk, row in ROWS.items()}
    n = len(docs)
    avgdl = sum(sum(c.values()) for c in docs.values()) / n
    out: dict[int, float] = {}
    for pk, tf in docs.items():
        dl = sum(tf.values())
        score, shared = 0.0, False
        for term, qtf in Counter(query_tokens).items():
            if term not in tf:
                continue
            shared = True
            df = sum(1 for c in docs.values() if term in c)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            f = tf[term]
            score += qtf * idf * f * (K1 + 1) / (f + K1 * (1 - B + B * dl / avgdl))
        if shared:
            out[pk] = score
    return out


def multi_schema(
    client: MilvusClient, *, enable_match: bool = False, params: dict[str, Any] = MULTI
) -> Any:
    s = client.create_schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("lang", DataType.VARCHAR, max_length=32)
    s.add_field(
        "text",
        DataType.VARCHAR,
        max_length=1000,
        enable_analyzer=True,
        enable_match=enable_match,
        multi_analyzer_params=params,
    )
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
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
    c = MilvusClient(str(tmp_path / "multi.db"))
    index = c.prepare_index_params()
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    c.create_collection("docs", schema=multi_schema(c), index_params=index)
    c.insert("docs", [{"id": pk, "text": t, "lang": lang} for pk, (t, lang, _) in ROWS.items()])
    yield c
    c.close()


def search(client: MilvusClient, text: str, analyzer_name: str | None) -> dict[int, float]:
    params: dict[str, Any] = {"metric_type": "BM25"}
    if analyzer_name is not None:
        params["analyzer_name"] = analyzer_name
    hits = client.search("docs", [text], anns_field="sparse", search_params=params, limit=10)
    return {h["id"]: h["distance"] for h in hits[0]}


def assert_scores(got: dict[int, float], want: dict[int, float]) -> None:
    assert set(got) == set(want)
    for pk, score in want.items():
        assert got[pk] == pytest.approx(score, rel=1e-4)


def test_rows_are_analysed_by_the_analyzer_their_lang_picks(client: MilvusClient) -> None:
    for pk, (text, lang, tokens) in ROWS.items():
        got = client.run_analyzer(
            text, collection_name="docs", field_name="text", analyzer_names=lang
        )
        assert got.tokens == tokens.split(), pk


@pytest.mark.parametrize(
    ("text", "analyzer_name", "query_tokens"),
    [
        ("transforming models", "english", ["transform", "model"]),
        ("transforming models", "en", ["transform", "model"]),
        ("transforming models", None, ["transforming", "models"]),
        ("transforming models", "klingon", ["transforming", "models"]),
        ("人工智能", "cn", ["人工", "智能", "人工智能"]),
        ("机器学习", "chinese", ["机器", "学习"]),
    ],
)
def test_bm25_search_analyses_query_text_with_the_named_analyzer(
    client: MilvusClient, text: str, analyzer_name: str | None, query_tokens: list[str]
) -> None:
    assert_scores(search(client, text, analyzer_name), reference_bm25(query_tokens))


def test_english_analyzer_matches_stemmed_rows_only(client: MilvusClient) -> None:
    # The stemmed query reaches the English rows; unstemmed, only the default-analysed row.
    assert set(search(client, "transforming models", "en")) == {1, 2}
    assert set(search(client, "transforming models", None)) == {5}


def test_hybrid_leg_takes_its_own_analyzer_name(client: MilvusClient) -> None:
    legs = [
        AnnSearchRequest(
            ["transforming"], "sparse", {"metric_type": "BM25", "analyzer_name": "en"}, 10
        ),
        AnnSearchRequest(["智能"], "sparse", {"metric_type": "BM25", "analyzer_name": "cn"}, 10),
    ]
    hits = client.hybrid_search("docs", legs, RRFRanker(60), limit=10)
    assert sorted(h["id"] for h in hits[0]) == [1, 3]
    # RRF: each row is first in exactly one leg.
    assert [h["distance"] for h in hits[0]] == pytest.approx([1 / 61, 1 / 61])


def test_analyzer_name_must_be_a_string(client: MilvusClient) -> None:
    with pytest.raises(ElanusError, match="analyzer_name must be a string"):
        search(client, "transforming", 3)  # type: ignore[arg-type]


def test_text_match_is_refused_on_a_multi_analyzer_field(tmp_path: Path) -> None:
    c = MilvusClient(str(tmp_path / "match.db"))
    try:
        with pytest.raises(ElanusError, match="multi analyzer now only support for bm25"):
            c.create_collection("docs", schema=multi_schema(c, enable_match=True))
        assert not c.has_collection("docs")
    finally:
        c.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"by_field": "missing"}, "dependent field"),
        ({"by_field": "id"}, "only support by string field"),
        ({"analyzers": {"english": {"type": "english"}}}, "must set default analyzer"),
    ],
)
def test_multi_analyzer_params_checked_at_create(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    c = MilvusClient(str(tmp_path / "bad.db"))
    try:
        s = multi_schema(c, params={**MULTI, **change})
        with pytest.raises(ElanusError, match=message):
            c.create_collection("docs", schema=s)
    finally:
        c.close()
