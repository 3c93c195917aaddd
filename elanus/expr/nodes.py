"""The syntax tree of a filter expression: frozen values that keep their source position.

``pos`` is the 0-based offset of the node's first character in the expression text.
The tree says what was written; ``elanus.expr.checker`` says what it means.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Arith",
    "Call",
    "Comparison",
    "Exists",
    "Interval",
    "IsNull",
    "Iso",
    "Like",
    "ListLit",
    "Literal",
    "Logical",
    "Node",
    "Not",
    "Path",
    "Template",
    "Term",
    "Unary",
]

Scalar = bool | int | float | str


@dataclass(frozen=True)
class Literal:
    value: Scalar
    pos: int


@dataclass(frozen=True)
class ListLit:
    items: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Template:
    """``{name}``: a value supplied through ``filter_params``."""

    name: str
    pos: int


@dataclass(frozen=True)
class Iso:
    """``ISO '2025-01-01T00:00:00Z'``: a TIMESTAMPTZ literal."""

    text: str
    pos: int


@dataclass(frozen=True)
class Interval:
    """``INTERVAL 'P1DT2H'``: an ISO-8601 duration."""

    text: str
    pos: int


@dataclass(frozen=True)
class Path:
    """A field, a dynamic key or ``$meta``, with optional ``["key"]`` / ``[0]`` steps."""

    name: str
    keys: tuple[str | int, ...]
    pos: int


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "+"
    operand: Node
    pos: int


@dataclass(frozen=True)
class Arith:
    op: str  # + - * / % **
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Comparison:
    """``a < b`` or a chained range ``1 < a <= 5``: len(ops) == len(operands) - 1."""

    ops: tuple[str, ...]
    operands: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Term:
    value: Node
    items: Node  # a ListLit or a Template
    negate: bool
    pos: int


@dataclass(frozen=True)
class Like:
    value: Node
    pattern: str
    pos: int


@dataclass(frozen=True)
class IsNull:
    value: Node
    negate: bool
    pos: int


@dataclass(frozen=True)
class Exists:
    value: Node
    pos: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...]
    pos: int


@dataclass(frozen=True)
class Not:
    operand: Node
    pos: int


@dataclass(frozen=True)
class Logical:
    """``a and b and c``: a flat run of operands, so long filters do not nest deeply."""

    op: str  # "and" / "or"
    operands: tuple[Node, ...]
    pos: int


Node = (
    Literal
    | ListLit
    | Template
    | Iso
    | Interval
    | Path
    | Unary
    | Arith
    | Comparison
    | Term
    | Like
    | IsNull
    | Exists
    | Call
    | Not
    | Logical
)
