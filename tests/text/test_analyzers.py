"""Analyzers configured by Milvus analyzer_params: expected tokens in English and Chinese."""

from __future__ import annotations

from typing import Any

import pytest

from elanus.errors import NotSupportedError, ParameterError
from elanus.text import create_analyzer, create_multi_analyzer, run_analyzer, term_hash


def terms(text: str, params: dict[str, Any] | None) -> list[str]:
    return create_analyzer(params).terms(text)


# --- built-in analyzers -------------------------------------------------------------


def test_default_params_are_the_standard_analyzer() -> None:
    assert terms("The Quick-Brown fox_2", None) == ["the", "quick", "brown", "fox", "2"]
    assert terms("The Quick", {}) == ["the", "quick"]


def test_standard_analyzer_lowercases_and_applies_given_stop_words() -> None:
    assert terms("The Running Dogs", {"type": "standard", "stop_words": ["the"]}) == [
        "running",
        "dogs",
    ]


def test_standard_analyzer_keeps_a_run_of_han_characters_as_one_token() -> None:
    assert terms("你好 世界", {"type": "standard"}) == ["你好", "世界"]


def test_english_analyzer_stems_then_removes_english_stop_words() -> None:
    params = {"type": "english"}
    assert terms("The Milvus vector database is built for scale!", params) == [
        "milvus",
        "vector",
        "databas",
        "built",
        "scale",
    ]


def test_english_analyzer_extra_stop_words() -> None:
    assert terms("Milvus vector database", {"type": "english", "stop_words": ["vector"]}) == [
        "milvus",
        "databas",
    ]


def test_chinese_analyzer_segments_with_jieba_and_drops_punctuation() -> None:
    assert terms("Milvus 是一个高性能、可扩展的向量数据库！", {"type": "chinese"}) == [
        "Milvus",
        "是",
        "一个",
        "高性",
        "性能",
        "高性能",
        "可",
        "扩展",
        "的",
        "向量",
        "数据",
        "据库",
        "数据库",
    ]


# --- tokenizers ---------------------------------------------------------------------


def test_standard_tokenizer_splits_on_everything_not_alphanumeric() -> None:
    assert terms("Hello, World! foo_bar 3.14", {"tokenizer": "standard"}) == [
        "Hello",
        "World",
        "foo",
        "bar",
        "3",
        "14",
    ]


def test_whitespace_tokenizer_keeps_case_and_punctuation() -> None:
    assert terms("Hello, World!  x", {"tokenizer": "whitespace"}) == ["Hello,", "World!", "x"]


def test_jieba_modes() -> None:
    exact = {"tokenizer": {"type": "jieba", "mode": "exact"}}
    search = {"tokenizer": {"type": "jieba", "mode": "search"}}
    assert terms("我爱北京天安门", exact) == ["我", "爱", "北京", "天安门"]
    assert terms("我爱北京天安门", search) == ["我", "爱", "北京", "天安", "天安门"]


def test_jieba_keeps_spaces_and_punctuation_as_tokens() -> None:
    assert terms("北京，你好", {"tokenizer": "jieba"}) == ["北京", "，", "你好"]


def test_jieba_custom_dictionary_words() -> None:
    with_default = {
        "tokenizer": {"type": "jieba", "dict": ["_default_", "北京天安门"], "mode": "exact"}
    }
    assert terms("我爱北京天安门", with_default) == ["我", "爱", "北京天安门"]
    only_custom = {
        "tokenizer": {"type": "jieba", "dict": ["北京天安门"], "mode": "exact", "hmm": False}
    }
    assert terms("我爱北京天安门", only_custom) == ["我", "爱", "北京天安门"]


@pytest.mark.parametrize("name", ["lindera", "language_identifier"])
def test_tokenizers_without_a_library_are_refused_by_name(name: str) -> None:
    with pytest.raises(NotSupportedError, match=f"tokenizer {name} is not supported by Elanus"):
        create_analyzer({"tokenizer": name})


# --- filters ------------------------------------------------------------------------


def _with(filters: list[Any], tokenizer: str = "standard") -> dict[str, Any]:
    return {"tokenizer": tokenizer, "filter": filters}


def test_lowercase_filter() -> None:
    assert terms("MiLvUs ÉTÉ", _with(["lowercase"])) == ["milvus", "été"]


def test_asciifolding_filter() -> None:
    assert terms("Ünïcödé ÆON façade Straße 北京", _with(["lowercase", "asciifolding"])) == [
        "unicode",
        "aeon",
        "facade",
        "strasse",
        "北京",
    ]


def test_alphanumonly_filter_keeps_ascii_alphanumeric_tokens_only() -> None:
    assert terms("ab12 Ab-12 ñu 北京 x", _with(["alphanumonly"], "whitespace")) == ["ab12", "x"]


def test_cnalphanumonly_keeps_tokens_holding_han_or_ascii_alphanumerics() -> None:
    assert terms("中文 abc 中a ！ 123 ...", _with(["cnalphanumonly"], "whitespace")) == [
        "中文",
        "abc",
        "中a",
        "123",
    ]


def test_cncharonly_keeps_tokens_holding_han() -> None:
    assert terms("中文 abc 中a ！ 123", _with(["cncharonly"], "whitespace")) == ["中文", "中a"]


def test_length_filter_drops_tokens_longer_than_max_bytes() -> None:
    # "中文" is 6 UTF-8 bytes.
    assert terms("a abc abcd 中文 中", _with([{"type": "length", "max": 3}])) == ["a", "abc", "中"]


def test_stop_filter_with_built_in_list_and_custom_words() -> None:
    params = _with([{"type": "stop", "stop_words": ["_english_", "quick"]}])
    assert terms("the quick fox and a dog", params) == ["fox", "dog"]
    cn = _with([{"type": "stop", "stop_words": ["的"]}], "jieba")
    assert terms("我的书", cn) == ["我", "书"]


def test_stemmer_filter_english_and_german() -> None:
    english = _with([{"type": "stemmer", "language": "english"}])
    assert terms("running runs easily", english) == ["run", "run", "easili"]
    german = _with([{"type": "stemmer", "language": "German"}])
    assert terms("laufen häuser", german) == ["lauf", "haus"]


def test_decompounder_splits_covered_compounds_at_the_same_position() -> None:
    params = _with(
        [{"type": "decompounder", "word_list": ["dampf", "schiff", "fahrt", "gesellschaft"]}]
    )
    tokens = create_analyzer(params).tokenize("dampfschifffahrt gesellschaft foox")
    assert [(t.text, t.position) for t in tokens] == [
        ("dampf", 0),
        ("schiff", 0),
        ("fahrt", 0),
        ("gesellschaft", 1),
        ("foox", 2),
    ]


def test_regex_filter_keeps_matching_tokens() -> None:
    params = _with([{"type": "regex", "expr": "^a"}])
    assert terms("apple banana avocado", params) == ["apple", "avocado"]


def test_removepunct_drops_tokens_holding_punctuation_or_space() -> None:
    assert terms("北京，你好 世界", _with(["removepunct"], "jieba")) == ["北京", "你好", "世界"]
    assert terms("Hello, World ok", _with(["removepunct"], "whitespace")) == ["World", "ok"]


def test_stop_filter_keeps_positions_of_remaining_tokens() -> None:
    tokens = create_analyzer({"type": "english"}).tokenize("the cat is on the mat")
    assert [(t.text, t.position) for t in tokens] == [("cat", 1), ("mat", 5)]


# --- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"type": "klingon"}, "unsupported analyzer type: klingon"),
        ({"filter": ["lowercase"]}, "tokenizer name or type must be set"),
        ({"tokenizer": "standard", "filter": ["nope"]}, "unsupport filter type: nope"),
        ({"tokenizer": "standard", "filter": [{"max": 3}]}, "no type field in filter params"),
        (
            {"tokenizer": "standard", "filter": [{"type": "length"}]},
            "length max param was none or not uint",
        ),
        ({"tokenizer": "standard", "filter": [{"type": "stop"}]}, "stop_words can't be empty"),
        (
            {"tokenizer": "standard", "filter": [{"type": "stemmer", "language": "elvish"}]},
            "unsupport language: elvish",
        ),
        ({"tokenizer": "nope"}, "unsupported tokenizer: nope"),
        ({"tokenizer": {"type": "jieba", "mode": "fast"}}, "mode must be search or exact"),
        ("{not json", "analyzer params should be json format"),
    ],
)
def test_invalid_params_raise_parameter_error(params: Any, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        create_analyzer(params)


def test_analyzer_params_may_be_json_text() -> None:
    assert create_analyzer('{"type": "english"}').terms("Running") == ["run"]


def test_other_language_stop_lists_are_refused_not_taken_literally() -> None:
    with pytest.raises(NotSupportedError, match="_french_"):
        create_analyzer(
            {"tokenizer": "standard", "filter": [{"type": "stop", "stop_words": ["_french_"]}]}
        )


# --- multi-language analyzers --------------------------------------------------------

MULTI = {
    "by_field": "language",
    "analyzers": {
        "en": {"type": "english"},
        "zh": {"type": "chinese"},
        "default": {"tokenizer": "whitespace"},
    },
    "alias": {"chinese": "zh", "english": "en"},
}


def test_multi_analyzer_selects_by_field_value_alias_and_default() -> None:
    multi = create_multi_analyzer(MULTI)
    assert multi.by_field == "language"
    assert [t.text for t in multi.tokenize("Running dogs", "en")] == ["run", "dog"]
    assert [t.text for t in multi.tokenize("我爱北京", "chinese")] == ["我", "爱", "北京"]
    assert [t.text for t in multi.tokenize("Running dogs", "fr")] == ["Running", "dogs"]
    assert [t.text for t in multi.tokenize("Running dogs", None)] == ["Running", "dogs"]


def test_multi_analyzer_requires_default() -> None:
    with pytest.raises(ParameterError, match="default"):
        create_multi_analyzer({"by_field": "lang", "analyzers": {"en": {"type": "english"}}})


# --- run_analyzer ---------------------------------------------------------------------


def test_run_analyzer_plain_tokens_for_a_string_and_for_a_list() -> None:
    single = run_analyzer("Hello World", {"type": "standard"})
    assert not isinstance(single, list)
    assert single.tokens == ["hello", "world"]
    many = run_analyzer(["a b", "c"], None)
    assert isinstance(many, list)
    assert [r.tokens for r in many] == [["a", "b"], ["c"]]


def test_run_analyzer_detail_has_utf8_byte_offsets_and_positions() -> None:
    result = run_analyzer("Milvus 是一个", {"tokenizer": "jieba"}, with_detail=True, with_hash=True)
    assert not isinstance(result, list)
    assert result.tokens == [
        {
            "token": "Milvus",
            "start_offset": 0,
            "end_offset": 6,
            "position": 0,
            "position_length": 1,
            "hash": term_hash("Milvus"),
        },
        {
            "token": " ",
            "start_offset": 6,
            "end_offset": 7,
            "position": 1,
            "position_length": 1,
            "hash": term_hash(" "),
        },
        {
            "token": "是",
            "start_offset": 7,
            "end_offset": 10,
            "position": 2,
            "position_length": 1,
            "hash": term_hash("是"),
        },
        {
            "token": "一个",
            "start_offset": 10,
            "end_offset": 16,
            "position": 3,
            "position_length": 1,
            "hash": term_hash("一个"),
        },
    ]


def test_run_analyzer_hash_only() -> None:
    result = run_analyzer("milvus", None, with_hash=True)
    assert not isinstance(result, list)
    assert result.tokens == [{"token": "milvus", "hash": term_hash("milvus")}]


def test_run_analyzer_with_multi_analyzer_names() -> None:
    results = run_analyzer(["Running", "Running"], MULTI, analyzer_names=["en", "other"])
    assert isinstance(results, list)
    assert [r.tokens for r in results] == [["run"], ["Running"]]
