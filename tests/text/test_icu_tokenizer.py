"""The ``icu`` tokenizer: every word-boundary segment is a token, case kept, positions
in characters; and the same tokenizer through run_analyzer, BM25 and text match."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pymilvus import Function, FunctionType

from elanus import DataType, MilvusClient
from elanus.text import create_analyzer
from elanus.text.icu_tokenizer import IcuTokenizer

ICU = {"tokenizer": "icu"}


def detail(text: str, params: dict[str, Any] = ICU) -> list[tuple[str, int, int, int, int]]:
    return [
        (t.text, t.start_offset, t.end_offset, t.position, t.position_length)
        for t in create_analyzer(params).tokenize(text)
    ]


def terms(text: str, params: dict[str, Any] = ICU) -> list[str]:
    return create_analyzer(params).terms(text)


def test_english_keeps_case_spaces_and_punctuation() -> None:
    assert detail("Hello, World! It's 2024.") == [
        ("Hello", 0, 5, 0, 5),
        (",", 5, 6, 5, 1),
        (" ", 6, 7, 6, 1),
        ("World", 7, 12, 7, 5),
        ("!", 12, 13, 12, 1),
        (" ", 13, 14, 13, 1),
        ("It's", 14, 18, 14, 4),
        (" ", 18, 19, 18, 1),
        ("2024", 19, 23, 19, 4),
        (".", 23, 24, 23, 1),
    ]


def test_chinese_is_segmented_by_dictionary() -> None:
    # Offsets are UTF-8 bytes, positions and lengths are characters.
    assert detail("我爱北京天安门") == [
        ("我", 0, 3, 0, 1),
        ("爱", 3, 6, 1, 1),
        ("北京", 6, 12, 2, 2),
        ("天安门", 12, 21, 4, 3),
    ]


def test_japanese_mixes_kanji_kana_and_katakana() -> None:
    assert terms("東京スカイツリーの最寄り駅") == ["東京", "スカイ", "ツリー", "の", "最寄り駅"]


def test_numbers_symbols_and_characters_outside_the_bmp() -> None:
    tokens = detail("Price: 3.14 USD, v2 😊🚀 ok")
    assert "|".join(t[0] for t in tokens) == "Price|:| |3.14| |USD|,| |v2| |😊|🚀| |ok"
    # Each emoji is one character (position step 1) and four UTF-8 bytes.
    assert tokens[10:] == [
        ("😊", 20, 24, 20, 1),
        ("🚀", 24, 28, 21, 1),
        (" ", 28, 29, 22, 1),
        ("ok", 29, 31, 23, 2),
    ]


def test_segments_cover_the_whole_text() -> None:
    text = "tokenizer for global doc, 中文分词测试, 東京スカイツリーの最寄り駅です 안녕하세요 🐍\n\n#@$"
    tokens = create_analyzer(ICU).tokenize(text)
    assert "".join(t.text for t in tokens) == text
    encoded = text.encode()
    for t in tokens:
        assert encoded[t.start_offset : t.end_offset].decode() == t.text
        assert text[t.position : t.position + t.position_length] == t.text


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_and_blank_texts(text: str) -> None:
    assert terms(text) == ([text] if text else [])


def test_dict_form_and_filters_after_icu() -> None:
    params = {"tokenizer": {"type": "icu"}, "filter": ["lowercase"]}
    assert terms("Straße ÉCOLE", params) == ["straße", " ", "école"]


def test_one_tokenizer_from_many_threads() -> None:
    texts = [f"第{i}个 sample number {i}, 東京{i}" for i in range(64)]
    want = [IcuTokenizer().tokenize(t) for t in texts]
    analyzer = create_analyzer(ICU)
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(analyzer.tokenize, texts))
    assert got == want


# --- through the embedded client ---------------------------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[MilvusClient]:
    c = MilvusClient(str(tmp_path / "icu.db"))
    yield c
    c.close()


def test_run_analyzer_with_icu(client: MilvusClient) -> None:
    result = client.run_analyzer(["Hi 世界"], ICU, with_detail=True)
    assert result[0].tokens == [
        {"token": "Hi", "start_offset": 0, "end_offset": 2, "position": 0, "position_length": 2},
        {"token": " ", "start_offset": 2, "end_offset": 3, "position": 2, "position_length": 1},
        {"token": "世界", "start_offset": 3, "end_offset": 9, "position": 3, "position_length": 2},
    ]


DOCS = {
    0: "東京スカイツリーの最寄り駅",
    1: "我爱北京天安门",
    2: "The quick brown fox",
    3: "北京 is the capital, 東京 too",
    4: "Quick, quick!",
}


def make_icu_collection(client: MilvusClient) -> None:
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field(
        "text",
        DataType.VARCHAR,
        max_length=500,
        enable_analyzer=True,
        enable_match=True,
        analyzer_params=ICU,
    )
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    ip = client.prepare_index_params()
    ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection("icu_docs", schema=schema, index_params=ip)
    rows = [{"id": pk, "text": text} for pk, text in DOCS.items()]
    client.insert("icu_docs", rows[:3])
    client.flush("icu_docs")
    client.insert("icu_docs", rows[3:])


def hit_ids(client: MilvusClient, query: str) -> set[int]:
    hits = client.search("icu_docs", data=[query], anns_field="sparse", limit=10)[0]
    return {h["id"] for h in hits}


def test_bm25_search_over_an_icu_field(client: MilvusClient) -> None:
    make_icu_collection(client)
    assert hit_ids(client, "北京") == {1, 3}
    assert hit_ids(client, "東京") == {0, 3}
    assert hit_ids(client, "スカイツリー") == {0}
    # Case is kept: "quick" and "Quick" are different terms.
    assert hit_ids(client, "quick") == {2, 4}
    assert hit_ids(client, "Quick") == {4}
    top = client.search("icu_docs", data=["quick"], anns_field="sparse", limit=1)[0]
    assert top[0]["id"] == 4


def test_text_and_phrase_match_over_an_icu_field(client: MilvusClient) -> None:
    make_icu_collection(client)

    def ids(expr: str) -> set[int]:
        return {r["id"] for r in client.query("icu_docs", filter=expr, output_fields=["id"])}

    assert ids("text_match(text, '天安门')") == {1}
    # The space between the words is a token too, so every text with a space matches.
    assert ids("text_match(text, '東京 fox')") == {0, 2, 3, 4}
    assert ids("text_match(text, '東京')") == {0, 3}
    assert ids("phrase_match(text, 'quick brown')") == {2}
    assert ids("phrase_match(text, 'brown quick')") == set()
    assert ids("phrase_match(text, '北京天安门')") == {1}
