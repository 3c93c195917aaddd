"""Tokenizers named as Milvus names them: ``standard``, ``whitespace``, ``jieba``, ``icu``.

``standard`` is tantivy's simple tokenizer, which Milvus uses under that name: a
token is a maximal run of alphanumeric characters (any script), everything else
separates. ``whitespace`` splits on Unicode whitespace only. ``jieba`` segments
Chinese with the PyPI ``jieba`` package in the mode Milvus exposes (``search`` by
default, or ``exact``), keeping punctuation and spaces as tokens as Milvus does.
``icu`` segments any script at Unicode word boundaries (``elanus.text.icu_tokenizer``).
``lindera`` and Milvus's other tokenizers have no well-kept PyPI counterpart that
gives the same output, so they are refused by name.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from elanus.errors import NotSupportedError, ParameterError
from elanus.text.tokens import Token, byte_offsets

__all__ = [
    "Tokenizer",
    "create_tokenizer",
]

# Python's \w is "alphanumeric or underscore"; tantivy's simple tokenizer splits on
# anything that is not char::is_alphanumeric, so the underscore separates too.
_ALNUM_RUN = re.compile(r"[^\W_]+")
_NON_SPACE_RUN = re.compile(r"\S+")

_UNSUPPORTED_TOKENIZERS = frozenset(
    {"lindera", "language_identifier", "char_group", "grpc", "ngram", "keyword"}
)


class Tokenizer(Protocol):
    """Splits a text into tokens, positions ascending in emission order.

    Most tokenizers number tokens 0, 1, 2...; ``icu`` numbers them by character
    offset, as Milvus does. Phrase matching uses only the differences.
    """

    def tokenize(self, text: str) -> list[Token]: ...


def _regex_tokens(pattern: re.Pattern[str], text: str) -> list[Token]:
    matches = list(pattern.finditer(text))
    if text.isascii():
        return [Token(m.group(), m.start(), m.end(), i) for i, m in enumerate(matches)]
    offsets = byte_offsets(text)
    return [
        Token(m.group(), offsets[m.start()], offsets[m.end()], i) for i, m in enumerate(matches)
    ]


class StandardTokenizer:
    def tokenize(self, text: str) -> list[Token]:
        return _regex_tokens(_ALNUM_RUN, text)


class WhitespaceTokenizer:
    def tokenize(self, text: str) -> list[Token]:
        return _regex_tokens(_NON_SPACE_RUN, text)


_JIEBA_LOCK = threading.Lock()
_JIEBA_DEFAULT: Any = None


def _jieba_module() -> Any:
    try:
        import jieba
    except ImportError as exc:  # pragma: no cover - jieba is a declared dependency
        raise NotSupportedError("tokenizer jieba needs the jieba package") from exc
    jieba.setLogLevel(logging.WARNING)
    return jieba


def _default_jieba() -> Any:
    global _JIEBA_DEFAULT
    with _JIEBA_LOCK:
        if _JIEBA_DEFAULT is None:
            jieba = _jieba_module()
            instance = jieba.Tokenizer()
            instance.initialize()
            _JIEBA_DEFAULT = instance
        return _JIEBA_DEFAULT


class JiebaTokenizer:
    """Chinese segmentation; ``search`` mode also emits the sub-words of long words."""

    def __init__(self, *, mode: str, hmm: bool, dict_words: list[str]) -> None:
        self._mode = "search" if mode == "search" else "default"
        self._hmm = hmm
        custom = [w for w in dict_words if w != "_default_"]
        if custom == [] and "_default_" in dict_words:
            self._jieba = _default_jieba()
        else:
            self._jieba = self._custom(custom, with_default="_default_" in dict_words)

    @staticmethod
    def _custom(words: list[str], *, with_default: bool) -> Any:
        jieba = _jieba_module()
        if with_default:
            instance = jieba.Tokenizer()
            instance.initialize()
            for word in words:
                instance.add_word(word)
            return instance
        # Without "_default_" Milvus segments with the given words alone; jieba
        # loads a dictionary only from a file, so write one.
        fd, path = tempfile.mkstemp(suffix=".txt", prefix="elanus-jieba-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for word in words:
                fh.write(f"{word} 1\n")
        instance = jieba.Tokenizer(dictionary=path)
        instance.tmp_dir = tempfile.gettempdir()
        instance.initialize()
        os.unlink(path)
        return instance

    def tokenize(self, text: str) -> list[Token]:
        pieces = list(self._jieba.tokenize(text, mode=self._mode, HMM=self._hmm))
        offsets = None if text.isascii() else byte_offsets(text)
        out: list[Token] = []
        for i, (word, start, end) in enumerate(pieces):
            if offsets is not None:
                start, end = offsets[start], offsets[end]
            out.append(Token(word, start, end, i))
        return out


def _jieba_from_params(params: Mapping[str, Any]) -> Tokenizer:
    allowed = {"type", "mode", "hmm", "dict"}
    for key in params:
        if key not in allowed:
            raise ParameterError(f"invalid jieba tokenizer param: {key}")
    mode = params.get("mode", "search")
    if mode not in ("search", "exact"):
        raise ParameterError(f"jieba tokenizer mode must be search or exact, got: {mode!r}")
    hmm = params.get("hmm", True)
    if not isinstance(hmm, bool):
        raise ParameterError(f"jieba tokenizer hmm must be bool, got: {hmm!r}")
    words = params.get("dict", ["_default_"])
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise ParameterError("jieba tokenizer dict must be a list of strings")
    if "_extend_default_" in words:
        raise NotSupportedError(
            "jieba dict _extend_default_ (traditional Chinese dictionary) is not supported by Elanus"
        )
    return JiebaTokenizer(mode=mode, hmm=hmm, dict_words=list(words))


def _icu_from_params(params: Mapping[str, Any]) -> Tokenizer:
    # Imported here so that loading ICU's data waits for the first icu analyzer.
    from elanus.text.icu_tokenizer import icu_from_params

    return icu_from_params(params)


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Tokenizer]] = {
    "standard": lambda _p: StandardTokenizer(),
    "whitespace": lambda _p: WhitespaceTokenizer(),
    "jieba": _jieba_from_params,
    "icu": _icu_from_params,
}


def create_tokenizer(spec: str | Mapping[str, Any]) -> Tokenizer:
    """Build a tokenizer from Milvus's ``tokenizer`` value: a name or ``{"type": name, ...}``."""
    params: Mapping[str, Any]
    if isinstance(spec, str):
        name, params = spec, {"type": spec}
    elif isinstance(spec, Mapping):
        raw = spec.get("type")
        if not isinstance(raw, str):
            raise ParameterError("tokenizer type should be string")
        name, params = raw, spec
    else:
        raise ParameterError("tokenizer should be string or dict")
    builder = _BUILDERS.get(name)
    if builder is not None:
        return builder(params)
    if name in _UNSUPPORTED_TOKENIZERS:
        raise NotSupportedError(f"tokenizer {name} is not supported by Elanus")
    raise ParameterError(f"unsupported tokenizer: {name}")
