"""How large and how deeply nested a filter may be, and the errors past those bounds.

Milvus's parser sets no such bounds (its plan's protobuf recursion limit is set to
int32's maximum), so a filter there is limited only by the request size. Here every
bound is checked while the text is read, before work proportional to it is done, so
parsing and checking take time linear in what was written and bounded by these
numbers (docs/expr.md, "Limits"):

- ``MAX_EXPRESSION_LENGTH`` characters of text;
- ``MAX_NODES`` syntax-tree nodes built by the grammar, a parenthesised group
  counting as one; a long constant list (16 plain literals or more, as in
  ``pk in [...]`` with thousands of keys) is read by a fast path and counts as one,
  its size bounded by the character limit alone;
- ``MAX_DEPTH`` levels of nesting, one rule for every construct: each operator,
  ``not``, sign, comparison, call, list and pair of parentheses is a level around
  what it encloses. A run of ``and`` / ``or`` is one level, however long.
  Template values nested in lists obey the same depth.
"""

from __future__ import annotations

from elanus.errors import ExpressionError

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "MAX_NODES",
    "too_deep",
    "too_long",
    "too_many_nodes",
]

MAX_EXPRESSION_LENGTH = 16 * 1024 * 1024
MAX_NODES = 100_000
# Python's own parser stops at 200 nested parentheses; 100 levels is far beyond any
# filter written by hand or generated from a list of conditions (those are flat).
MAX_DEPTH = 100


def too_long(text: str) -> ExpressionError:
    return ExpressionError(
        f"cannot parse expression: the expression has {len(text)} characters, which exceeds "
        f"the maximum allowed length {MAX_EXPRESSION_LENGTH}",
        expression=text[:64] + "...",
    )


def too_many_nodes(text: str, position: int | None) -> ExpressionError:
    return ExpressionError(
        f"cannot parse expression: the expression exceeds the maximum allowed {MAX_NODES} "
        "syntax-tree nodes",
        expression=_excerpt(text),
        position=_near_start(position),
    )


def too_deep(text: str, position: int | None, what: str = "the expression") -> ExpressionError:
    return ExpressionError(
        f"cannot parse expression: the nesting of {what} exceeds the maximum allowed "
        f"depth {MAX_DEPTH}",
        expression=_excerpt(text),
        position=_near_start(position),
    )


def _near_start(position: int | None) -> int | None:
    return position if position is not None and position <= 256 else None


def _excerpt(text: str) -> str:
    """A long expression is quoted by its start only: the error is for a person."""
    return text if len(text) <= 256 else text[:256] + "..."
