"""Built-in stop word lists that Milvus's ``stop`` filter and analyzers accept."""

from __future__ import annotations

from collections.abc import Iterable

from elanus.errors import NotSupportedError

__all__ = ["ENGLISH_STOP_WORDS", "expand_stop_words"]

# The list tantivy (and so Milvus) ships as ``_english_``: Lucene's English stop set.
ENGLISH_STOP_WORDS: tuple[str, ...] = (
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
    "is", "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then",
    "there", "these", "they", "this", "to", "was", "will", "with",
)  # fmt: skip

_BUILT_IN: dict[str, tuple[str, ...]] = {"_english_": ENGLISH_STOP_WORDS}

# Names Milvus documents for its other languages; we do not ship their lists, so
# refuse them by name rather than treating them as literal words.
_NOT_SHIPPED = frozenset(
    {
        "_danish_", "_dutch_", "_finnish_", "_french_", "_german_", "_hungarian_",
        "_italian_", "_norwegian_", "_portuguese_", "_russian_", "_spanish_", "_swedish_",
    }
)  # fmt: skip


def expand_stop_words(words: Iterable[str]) -> list[str]:
    """Replace each built-in list name (``_english_``...) by its words."""
    out: list[str] = []
    for word in words:
        built_in = _BUILT_IN.get(word)
        if built_in is not None:
            out.extend(built_in)
        elif word in _NOT_SHIPPED:
            raise NotSupportedError(f"stop words list {word} is not supported by Elanus")
        else:
            out.append(word)
    return out
