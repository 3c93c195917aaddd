"""Analyzers: a tokenizer followed by filters, configured by Milvus's ``analyzer_params``.

Accepted forms, as in Milvus:

* ``None`` or ``{}`` -- the ``standard`` built-in analyzer;
* ``{"type": "standard" | "english" | "chinese", "stop_words": [...]}`` -- a built-in;
* ``{"tokenizer": <name or {"type": ...}>, "filter": [<name or {"type": ...}>, ...]}``.

Built-ins (as Milvus assembles them):

* ``standard``: standard tokenizer, lowercase, then the given stop words;
* ``english``: standard tokenizer, lowercase, English stemmer, ``_english_`` stop
  words, then the given stop words (stemming runs before the stop list);
* ``chinese``: jieba tokenizer, ``cnalphanumonly``, then the given stop words.

``multi_analyzer_params`` (``by_field``, ``analyzers`` with a ``default``, ``alias``)
build a :class:`MultiAnalyzer` that picks an analyzer by another field's value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from elanus.errors import ParameterError
from elanus.text.filters import TokenFilter, create_filter
from elanus.text.stopwords import ENGLISH_STOP_WORDS, expand_stop_words
from elanus.text.tokenizers import Tokenizer, create_tokenizer
from elanus.text.tokens import Token

__all__ = [
    "Analyzer",
    "MultiAnalyzer",
    "create_analyzer",
    "create_multi_analyzer",
    "normalize_analyzer_params",
]

_BUILT_IN_TYPES = ("standard", "english", "chinese")


class Analyzer:
    """A tokenizer and its filters. Safe to share between threads (holds no state per call)."""

    def __init__(
        self, tokenizer: Tokenizer, filters: Sequence[TokenFilter], params: Mapping[str, Any]
    ) -> None:
        self._tokenizer = tokenizer
        self._filters = tuple(filters)
        self.params: dict[str, Any] = dict(params)

    def tokenize(self, text: str) -> list[Token]:
        tokens = self._tokenizer.tokenize(text)
        for apply in self._filters:
            if not tokens:
                break
            tokens = apply(tokens)
        return tokens

    def terms(self, text: str) -> list[str]:
        """The token texts only: what BM25 and text_match index."""
        return [t.text for t in self.tokenize(text)]

    def __repr__(self) -> str:
        return f"Analyzer({json.dumps(self.params, ensure_ascii=False)})"


def normalize_analyzer_params(params: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """Accept the dict, its JSON text (as pymilvus may send it) or None."""
    if params is None:
        return {}
    if isinstance(params, str):
        if not params.strip():
            return {}
        try:
            decoded = json.loads(params)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"analyzer params should be json format: {exc}") from exc
        params = decoded
    if not isinstance(params, Mapping):
        raise ParameterError("analyzer params should be a json object")
    return dict(params)


def _stop_words_param(params: Mapping[str, Any]) -> list[str]:
    words = params.get("stop_words", [])
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise ParameterError("stop_words should be list of string")
    return expand_stop_words(words)


def _stop(words: Sequence[str]) -> list[TokenFilter]:
    if not words:
        return []
    return [create_filter({"type": "stop", "stop_words": list(words)})]


def _built_in(kind: str, params: Mapping[str, Any]) -> Analyzer:
    extra = _stop_words_param(params)
    if kind == "standard":
        tokenizer = create_tokenizer("standard")
        filters = [create_filter("lowercase"), *_stop(extra)]
    elif kind == "english":
        tokenizer = create_tokenizer("standard")
        filters = [
            create_filter("lowercase"),
            create_filter({"type": "stemmer", "language": "english"}),
            *_stop(ENGLISH_STOP_WORDS),
            *_stop(extra),
        ]
    else:
        tokenizer = create_tokenizer("jieba")
        filters = [create_filter("cnalphanumonly"), *_stop(extra)]
    return Analyzer(tokenizer, filters, params)


def create_analyzer(params: Mapping[str, Any] | str | None = None) -> Analyzer:
    """Build an analyzer from Milvus ``analyzer_params``; bad params raise ParameterError."""
    conf = normalize_analyzer_params(params)
    if not conf:
        return _built_in("standard", {})
    if "type" in conf:
        kind = conf["type"]
        if not isinstance(kind, str):
            raise ParameterError("analyzer type should be string")
        if kind not in _BUILT_IN_TYPES:
            raise ParameterError(f"unsupported analyzer type: {kind}")
        return _built_in(kind, conf)
    if "tokenizer" not in conf:
        raise ParameterError("tokenizer name or type must be set")
    tokenizer = create_tokenizer(conf["tokenizer"])
    specs = conf.get("filter", [])
    if not isinstance(specs, list):
        raise ParameterError("filter params should be array")
    return Analyzer(tokenizer, [create_filter(s) for s in specs], conf)


class MultiAnalyzer:
    """Analyzers chosen per row by the value of the ``by_field`` field.

    A value is looked up through ``alias`` first, then among ``analyzers``; a value
    that names no analyzer (or a null) uses ``default``.
    """

    def __init__(
        self,
        by_field: str,
        analyzers: Mapping[str, Analyzer],
        alias: Mapping[str, str],
        params: Mapping[str, Any],
    ) -> None:
        self.by_field = by_field
        self.analyzers = dict(analyzers)
        self.alias = dict(alias)
        self.params: dict[str, Any] = dict(params)

    def resolve(self, value: str | None) -> str:
        """The name of the analyzer used for a row whose ``by_field`` value is ``value``."""
        if value is None:
            return "default"
        name = self.alias.get(value, value)
        return name if name in self.analyzers else "default"

    def select(self, value: str | None) -> Analyzer:
        return self.analyzers[self.resolve(value)]

    def tokenize(self, text: str, value: str | None) -> list[Token]:
        return self.select(value).tokenize(text)


def create_multi_analyzer(params: Mapping[str, Any] | str) -> MultiAnalyzer:
    """Build a :class:`MultiAnalyzer` from Milvus ``multi_analyzer_params``."""
    conf = normalize_analyzer_params(params)
    by_field = conf.get("by_field")
    if not isinstance(by_field, str) or not by_field:
        raise ParameterError("by_field of multi analyzer params must be a field name")
    raw = conf.get("analyzers")
    if not isinstance(raw, Mapping) or not raw:
        raise ParameterError("analyzers of multi analyzer params must be a non-empty dict")
    if "default" not in raw:
        raise ParameterError("multi analyzer params must set a default analyzer")
    analyzers = {}
    for name, sub in raw.items():
        if not isinstance(sub, Mapping):
            raise ParameterError(f"analyzer params of {name!r} should be a json object")
        analyzers[str(name)] = create_analyzer(sub)
    alias = conf.get("alias", {})
    if not isinstance(alias, Mapping):
        raise ParameterError("alias of multi analyzer params must be a dict")
    for key, target in alias.items():
        # An alias to an analyzer that is not defined is accepted, as Milvus does:
        # its rows fall back to ``default`` (see ``resolve``).
        if not isinstance(target, str):
            raise ParameterError(f"alias {key!r} must name an analyzer, got {target!r}")
    return MultiAnalyzer(by_field, analyzers, {str(k): v for k, v in alias.items()}, conf)
