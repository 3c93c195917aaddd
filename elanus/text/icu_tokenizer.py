"""Milvus's ``icu`` tokenizer: Unicode word segmentation for any script.

Milvus cuts the text at every ICU word boundary and emits every piece between
two boundaries, words and non-words alike: spaces, punctuation and symbols come
out as tokens too, case is kept. ``position`` is the piece's start counted in
characters (Unicode scalar values) and ``position_length`` its length in
characters, so a phrase spans the same distance in a query and in a document.
Offsets are UTF-8 bytes, as everywhere else.

The boundaries come from ICU4C through PyICU (``pyicu-wheels``), with the root
locale: UAX #29 word rules plus ICU's dictionaries for Chinese, Japanese, Thai
and their neighbours. Milvus uses ICU4X, built on the same rules and data;
dictionary-segmented runs (long katakana words, some Chinese compounds) can be
split differently by the two.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from elanus.errors import NotSupportedError
from elanus.text.tokens import Token, byte_offsets

__all__ = ["IcuTokenizer", "icu_from_params"]

# ICU reports boundaries in UTF-16 code units; they equal Python character
# indices unless the text has characters outside the Basic Multilingual Plane.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _icu_module() -> Any:
    try:
        import icu
    except ImportError as exc:  # pragma: no cover - pyicu-wheels is a declared dependency
        raise NotSupportedError("tokenizer icu needs the pyicu-wheels package") from exc
    return icu


class IcuTokenizer:
    """Word-boundary segmentation; every segment is a token (see the module note)."""

    def __init__(self) -> None:
        self._icu = _icu_module()
        # A BreakIterator holds the text it walks, so each thread gets its own.
        self._local = threading.local()

    def _iterator(self) -> Any:
        it = getattr(self._local, "iterator", None)
        if it is None:
            it = self._icu.BreakIterator.createWordInstance(self._icu.Locale.getRoot())
            self._local.iterator = it
        return it

    def _boundaries(self, text: str) -> list[int]:
        """Character indices of the word boundaries, 0 and len(text) included."""
        it = self._iterator()
        it.setText(text)
        units = [it.first(), *it]
        if _ASTRAL.search(text) is None:
            return units
        # Map UTF-16 unit index -> character index; astral characters take two units.
        char_at_unit: list[int] = []
        for i, ch in enumerate(text):
            char_at_unit.append(i)
            if ord(ch) > 0xFFFF:
                char_at_unit.append(i)
        char_at_unit.append(len(text))
        return [char_at_unit[u] for u in units]

    def tokenize(self, text: str) -> list[Token]:
        if not text:
            return []
        bounds = self._boundaries(text)
        offsets = None if text.isascii() else byte_offsets(text)
        out: list[Token] = []
        for start, end in zip(bounds, bounds[1:], strict=False):
            if end <= start:
                continue
            if offsets is None:
                lo, hi = start, end
            else:
                lo, hi = offsets[start], offsets[end]
            out.append(Token(text[start:end], lo, hi, start, end - start))
        return out


_SHARED: IcuTokenizer | None = None
_SHARED_LOCK = threading.Lock()


def icu_from_params(_params: Mapping[str, Any]) -> IcuTokenizer:
    """Milvus's ``icu`` takes no parameters and ignores any given."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = IcuTokenizer()
        return _SHARED
