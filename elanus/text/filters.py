"""Token filters named and configured as Milvus configures them.

Each filter maps a token list to a token list and never renumbers positions, so
a removed token leaves a gap that phrase matching respects (as tantivy does).

The matching filters follow Milvus's definitions exactly, including two that are
easy to get wrong: ``cnalphanumonly``/``cncharonly`` keep a token that *contains*
a Han (or ASCII alphanumeric) character, and ``removepunct`` drops a token that
*contains* punctuation or whitespace. ``length`` compares UTF-8 byte lengths.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from elanus.errors import NotSupportedError, ParameterError
from elanus.text.stopwords import expand_stop_words
from elanus.text.tokens import Token

__all__ = ["TokenFilter", "create_filter", "STEMMER_LANGUAGES"]

TokenFilter = Callable[[list[Token]], list[Token]]

# The Han script, as \p{Han} covers it (Python's re has no script classes).
_HAN = (
    "\u2e80-\u2e99\u2e9b-\u2ef3\u2f00-\u2fd5\u3005\u3007\u3021-\u3029\u3038-\u303b"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufa6d\ufa70-\ufad9"
    "\U00016fe2\U00016fe3\U00016ff0\U00016ff1\U00020000-\U0002a6df\U0002a700-\U0002ebef"
    "\U0002f800-\U0002fa1f\U00030000-\U0003134f"
)
_HAS_HAN = re.compile(f"[{_HAN}]")
_HAS_HAN_OR_ASCII_ALNUM = re.compile(f"[{_HAN}a-zA-Z0-9]")
_ASCII_ALNUM_ONLY = re.compile(r"[a-zA-Z0-9]*")

# Letters that Unicode decomposition does not fold but Lucene's ASCII folding does.
_FOLD_EXTRA = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "ı": "i",
        "ħ": "h",
        "Ħ": "H",
        "ŧ": "t",
        "Ŧ": "T",
        "ŋ": "n",
        "Ŋ": "N",
        "ĸ": "q",
        "ſ": "s",
    }
)

# Milvus's stemmer language names; "arabig" is how older Milvus spelled Arabic.
STEMMER_LANGUAGES: dict[str, str] = {
    "arabic": "arabic",
    "arabig": "arabic",
    "danish": "danish",
    "dutch": "dutch",
    "english": "english",
    "finnish": "finnish",
    "french": "french",
    "german": "german",
    "greek": "greek",
    "hungarian": "hungarian",
    "italian": "italian",
    "norwegian": "norwegian",
    "portuguese": "portuguese",
    "romanian": "romanian",
    "russian": "russian",
    "spanish": "spanish",
    "swedish": "swedish",
    "tamil": "tamil",
    "turkish": "turkish",
}


def _is_punct_or_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch).startswith("P")


def _lowercase(tokens: list[Token]) -> list[Token]:
    return [t if t.text.islower() else t.with_text(t.text.lower()) for t in tokens]


def _fold_char(ch: str) -> str:
    extra = ch.translate(_FOLD_EXTRA)
    if extra != ch:
        return extra
    bare = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    # Only Latin-like letters fold; anything without an ASCII form (CJK, Cyrillic,
    # kana...) is kept as it is, as Lucene's ASCII folding does.
    return bare if bare and bare.isascii() else ch


def _fold(text: str) -> str:
    if text.isascii():
        return text
    return "".join(ch if ch.isascii() else _fold_char(ch) for ch in text)


def _asciifolding(tokens: list[Token]) -> list[Token]:
    return [t.with_text(_fold(t.text)) for t in tokens]


def _alphanumonly(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if _ASCII_ALNUM_ONLY.fullmatch(t.text)]


def _cncharonly(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if _HAS_HAN.search(t.text)]


def _cnalphanumonly(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if _HAS_HAN_OR_ASCII_ALNUM.search(t.text)]


def _removepunct(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if not any(_is_punct_or_space(ch) for ch in t.text)]


def _length_filter(params: Mapping[str, Any]) -> TokenFilter:
    limit = params.get("max")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ParameterError("length max param was none or not uint")

    def apply(tokens: list[Token]) -> list[Token]:
        return [t for t in tokens if len(t.text.encode("utf-8")) <= limit]

    return apply


def _stop_filter(params: Mapping[str, Any]) -> TokenFilter:
    if "stop_words" not in params:
        raise ParameterError("stop filter stop_words can't be empty")
    words = frozenset(expand_stop_words(_string_list(params["stop_words"], "stop_words filter")))

    def apply(tokens: list[Token]) -> list[Token]:
        return [t for t in tokens if t.text not in words]

    return apply


def _decompounder_filter(params: Mapping[str, Any]) -> TokenFilter:
    words = params.get("word_list")
    if not isinstance(words, list):
        raise ParameterError("decompounder word list should be array")
    vocabulary = _string_list(words, "decompounder word list")
    if not vocabulary:
        raise ParameterError("decompounder word list should not be empty")
    # Leftmost-longest alternation: a compound splits only when it is wholly covered
    # by dictionary words; otherwise it is kept as it is.
    alternation = "|".join(re.escape(w) for w in sorted(set(vocabulary), key=len, reverse=True))
    whole = re.compile(f"(?:{alternation})+")
    part = re.compile(alternation)

    def apply(tokens: list[Token]) -> list[Token]:
        out: list[Token] = []
        for t in tokens:
            if whole.fullmatch(t.text):
                out.extend(t.with_text(p) for p in part.findall(t.text))
            else:
                out.append(t)
        return out

    return apply


def _stemmer_filter(params: Mapping[str, Any]) -> TokenFilter:
    language = params.get("language")
    if not isinstance(language, str):
        raise ParameterError("stemmer language field should be string")
    algorithm = STEMMER_LANGUAGES.get(language.lower())
    if algorithm is None:
        raise ParameterError(f"create stemmer failed : unsupport language: {language}")
    import Stemmer

    stemmer = Stemmer.Stemmer(algorithm)

    def apply(tokens: list[Token]) -> list[Token]:
        stems = stemmer.stemWords([t.text for t in tokens])
        return [t if s == t.text else t.with_text(s) for t, s in zip(tokens, stems, strict=True)]

    return apply


def _regex_filter(params: Mapping[str, Any]) -> TokenFilter:
    expr = params.get("expr")
    if not isinstance(expr, str):
        raise ParameterError("regex filter expr should be string")
    try:
        pattern = re.compile(expr)
    except re.error as exc:
        raise ParameterError(f"regex filter expr is invalid: {exc}") from exc

    def apply(tokens: list[Token]) -> list[Token]:
        return [t for t in tokens if pattern.search(t.text)]

    return apply


def _string_list(value: Any, label: str) -> list[str]:
    if not isinstance(value, list):
        raise ParameterError(f"{label} should be array")
    if not all(isinstance(v, str) for v in value):
        raise ParameterError(f"{label} list item should be string")
    return list(value)


_SIMPLE: dict[str, TokenFilter] = {
    "lowercase": _lowercase,
    "asciifolding": _asciifolding,
    "alphanumonly": _alphanumonly,
    "cncharonly": _cncharonly,
    "cnalphanumonly": _cnalphanumonly,
    "removepunct": _removepunct,
}

_CONFIGURED: dict[str, Callable[[Mapping[str, Any]], TokenFilter]] = {
    "length": _length_filter,
    "stop": _stop_filter,
    "decompounder": _decompounder_filter,
    "stemmer": _stemmer_filter,
    "regex": _regex_filter,
}

_UNSUPPORTED = frozenset({"pinyin", "synonym"})


def create_filter(spec: str | Mapping[str, Any]) -> TokenFilter:
    """Build one filter from an entry of Milvus's ``filter`` list."""
    if isinstance(spec, str):
        simple = _SIMPLE.get(spec)
        if simple is not None:
            return simple
        if spec in _UNSUPPORTED:
            raise NotSupportedError(f"filter {spec} is not supported by Elanus")
        raise ParameterError(f"unsupport filter type: {spec}")
    if not isinstance(spec, Mapping):
        raise ParameterError("filter params should be string or dict")
    kind = spec.get("type")
    if kind is None:
        raise ParameterError("no type field in filter params")
    if not isinstance(kind, str):
        raise ParameterError("filter type should be string")
    builder = _CONFIGURED.get(kind)
    if builder is not None:
        return builder(spec)
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind in _UNSUPPORTED:
        raise NotSupportedError(f"filter {kind} is not supported by Elanus")
    raise ParameterError(f"unsupport filter type: {kind}")


def create_filters(specs: Sequence[str | Mapping[str, Any]]) -> list[TokenFilter]:
    return [create_filter(s) for s in specs]
