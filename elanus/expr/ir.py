"""The checked form of a filter: what the evaluator runs. Frozen plain values.

Value nodes produce a column of values; predicate nodes produce a row mask. Every
name is resolved against the schema and every constant has its final Python value,
so evaluation never looks at the schema or the text again.

Kinds: ``int float bool str json array geo ts`` for values read from columns,
plus ``interval`` and ``list`` for constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "AllOf",
    "AnyOf",
    "ArithValue",
    "ColumnValue",
    "Compare",
    "Const",
    "ConstPredicate",
    "Contains",
    "Exists",
    "Geo",
    "InSet",
    "IsNull",
    "Length",
    "LikeMatch",
    "Negate",
    "Predicate",
    "TextMatch",
    "Value",
]


@dataclass(frozen=True)
class ColumnValue:
    """A column read: ``column`` is a schema field or ``$meta``; ``path`` walks into JSON
    (or is ``(i,)`` for an ARRAY element, with ``kind`` the element's kind)."""

    column: str
    kind: str
    path: tuple[str | int, ...] = ()
    element: str | None = None  # element kind of an ARRAY column
    nullable: bool = False


@dataclass(frozen=True)
class Const:
    value: Any
    kind: str


@dataclass(frozen=True)
class ArithValue:
    op: str
    left: Value
    right: Value
    kind: str


@dataclass(frozen=True)
class Length:
    """``array_length(x)`` of an ARRAY column or a JSON list."""

    of: ColumnValue
    kind: str = "int"


Value = ColumnValue | Const | ArithValue | Length


@dataclass(frozen=True)
class Compare:
    op: str  # == < <= > >= (!= is Negate(Compare("==")))
    left: Value
    right: Value


@dataclass(frozen=True)
class InSet:
    value: Value
    values: tuple[Any, ...]


@dataclass(frozen=True)
class LikeMatch:
    value: Value
    pattern: str


@dataclass(frozen=True)
class IsNull:
    value: ColumnValue


@dataclass(frozen=True)
class Exists:
    value: ColumnValue


@dataclass(frozen=True)
class Contains:
    """json_contains / array_contains (mode "one"), _all ("all"), _any ("any")."""

    mode: str
    value: ColumnValue
    items: tuple[Any, ...]


@dataclass(frozen=True)
class TextMatch:
    field: str
    query: str
    slop: int | None  # None: text_match; an int: phrase_match


@dataclass(frozen=True)
class Geo:
    op: str  # equals touches overlaps crosses contains intersects within dwithin isvalid
    field: str
    wkt: str | None
    distance: float | None = None


@dataclass(frozen=True)
class AllOf:
    children: tuple[Predicate, ...]


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Predicate, ...]


@dataclass(frozen=True)
class Negate:
    child: Predicate


@dataclass(frozen=True)
class ConstPredicate:
    value: bool


Predicate = (
    Compare
    | InSet
    | LikeMatch
    | IsNull
    | Exists
    | Contains
    | TextMatch
    | Geo
    | AllOf
    | AnyOf
    | Negate
    | ConstPredicate
)
