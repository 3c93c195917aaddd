"""Multi-language analyzers through pymilvus over gRPC against ``elanus serve``: the
``analyzer_name`` search param reaches the engine, and the hits and scores equal
the embedded client's on the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymilvus import DataType, Function, FunctionType, MilvusClient, MilvusException

import elanus

MULTI = {
    "analyzers": {
        "english": {"type": "english"},
        "chinese": {"type": "chinese"},
        "default": {"tokenizer": "standard", "filter": ["lowercase"]},
    },
    "by_field": "lang",
    "alias": {"en": "english", "cn": "chinese"},
}
ROWS = [
    {"id": 1, "text": "Artificial intelligence is transforming technology", "lang": "en"},
    {"id": 2, "text": "Machine learning models require large datasets", "lang": "english"},
    {"id": 3, "text": "人工智能正在改变技术领域", "lang": "cn"},
    {"id": 4, "text": "机器学习模型需要大型数据集", "lang": "chinese"},
    {"id": 5, "text": "Transforming models", "lang": "fr"},
]


def build(client: Any, name: str, *, enable_match: bool = False) -> None:
    s = client.create_schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("lang", DataType.VARCHAR, max_length=32)
    s.add_field(
        "text",
        DataType.VARCHAR,
        max_length=1000,
        enable_analyzer=True,
        enable_match=enable_match,
        multi_analyzer_params=MULTI,
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
    index = client.prepare_index_params()
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection(name, schema=s, index_params=index, consistency_level="Strong")


@pytest.fixture(scope="module")
def remote(client: MilvusClient) -> MilvusClient:
    build(client, "multi_lang")
    client.insert("multi_lang", ROWS)
    return client


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[elanus.MilvusClient]:
    c = elanus.MilvusClient(str(Path(tmp_path_factory.mktemp("embedded")) / "m.db"))
    build(c, "multi_lang")
    c.insert("multi_lang", ROWS)
    yield c
    c.close()


def hits(c: Any, text: str, analyzer_name: str | None) -> list[tuple[int, float]]:
    params: dict[str, Any] = {"metric_type": "BM25"}
    if analyzer_name is not None:
        params["analyzer_name"] = analyzer_name
    res = c.search("multi_lang", [text], anns_field="sparse", search_params=params, limit=10)
    return sorted((int(h["id"]), float(h["distance"])) for h in res[0])


@pytest.mark.parametrize(
    ("text", "analyzer_name", "ids"),
    [
        ("transforming models", "en", [1, 2]),
        ("transforming models", None, [5]),
        ("transforming models", "klingon", [5]),
        ("人工智能", "cn", [3]),
        ("机器学习", "chinese", [4]),
    ],
)
def test_analyzer_name_over_grpc_matches_embedded(
    remote: MilvusClient,
    local: elanus.MilvusClient,
    text: str,
    analyzer_name: str | None,
    ids: list[int],
) -> None:
    got = hits(remote, text, analyzer_name)
    want = hits(local, text, analyzer_name)
    assert [pk for pk, _ in got] == ids
    assert [pk for pk, _ in want] == ids
    assert [d for _, d in got] == pytest.approx([d for _, d in want], rel=1e-6)


def test_enable_match_on_multi_analyzer_field_refused_over_grpc(client: MilvusClient) -> None:
    with pytest.raises(MilvusException, match="multi analyzer now only support for bm25"):
        build(client, "multi_match", enable_match=True)
    assert not client.has_collection("multi_match")
