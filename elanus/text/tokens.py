"""The token: the unit every tokenizer emits and every filter consumes."""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["Token", "byte_offsets"]


@dataclass(frozen=True)
class Token:
    """One token of an analysed text.

    ``start_offset``/``end_offset`` are UTF-8 byte offsets into the analysed text, as
    Milvus (tantivy) reports them; ``position`` is the token's place in the
    tokenizer's output (an ordinal for most tokenizers, the character offset for
    ``icu``, as in Milvus). Filters that drop tokens keep the positions of the others,
    so phrase matching sees the gaps.
    """

    text: str
    start_offset: int
    end_offset: int
    position: int
    position_length: int = 1

    def with_text(self, text: str) -> Token:
        return replace(self, text=text)


def byte_offsets(text: str) -> list[int]:
    """Map each character index (0..len) of ``text`` to its UTF-8 byte offset."""
    out = [0] * (len(text) + 1)
    total = 0
    for i, ch in enumerate(text):
        out[i] = total
        code = ord(ch)
        total += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    out[len(text)] = total
    return out
