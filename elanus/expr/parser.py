"""Text → syntax tree, with lark (LALR) over ``grammar.lark``."""

from __future__ import annotations

import functools
import re
from pathlib import Path as FsPath
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from elanus.errors import ExpressionError
from elanus.expr import nodes as n

__all__ = ["parse", "unescape"]

_GRAMMAR = FsPath(__file__).with_name("grammar.lark")
_MAX_LENGTH = 16 * 1024 * 1024


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
    )


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", '"': '"', "'": "'"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)


def unescape(body: str) -> str:
    """Decode a string literal's body. Unknown escapes keep their backslash, so that
    ``like`` patterns such as ``"100\\%"`` reach the matcher intact."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if len(code) == 5 and code[0] == "u":
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, "\\" + code)

    return _ESCAPE_RE.sub(one, body)


_ITEM = r"""(?:[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|"[^"\\\n]*"|'[^'\\\n]*')"""
_LONG_LIST = re.compile(rf"\[\s*{_ITEM}(?:\s*,\s*{_ITEM}){{15,}}\s*,?\s*\]")
_ITEMS = re.compile(_ITEM)
_STRING = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""", re.S)


def _literal(token: str) -> bool | int | float | str:
    if token[0] in "\"'":
        return token[1:-1]
    try:
        return int(token)
    except ValueError:
        return float(token)


def _lift_long_lists(text: str) -> tuple[str, dict[int, n.ListLit]]:
    """Long constant lists (``id in [1, 2, ...]`` with thousands of keys) are read with
    one regular expression instead of the grammar, which is orders of magnitude faster.
    Each is replaced by a same-length ``{...}`` placeholder so positions do not move."""
    if len(text) < 256:
        return text, {}
    strings = [m.span() for m in _STRING.finditer(text)]
    lifted: dict[int, n.ListLit] = {}
    pieces: list[str] = []
    last = 0
    for match in _LONG_LIST.finditer(text):
        start, end = match.span()
        if any(a < end and start < b for a, b in strings if not (start <= a and b <= end)):
            continue
        items = tuple(
            n.Literal(_literal(m.group(0)), m.start())
            for m in _ITEMS.finditer(text, start + 1, end - 1)
        )
        lifted[start] = n.ListLit(items, start)
        placeholder = "{" + "_" * (end - start - 2) + "}"
        pieces.append(text[last:start])
        pieces.append(placeholder)
        last = end
    if not lifted:
        return text, {}
    pieces.append(text[last:])
    return "".join(pieces), lifted


def _pos(item: Any) -> int:
    if isinstance(item, Token):
        return int(item.start_pos or 0)
    return int(getattr(item, "pos", 0))


@v_args(meta=True)
class _Build(Transformer):  # type: ignore[type-arg]
    def __init__(self, text: str, lifted: dict[int, n.ListLit]) -> None:
        super().__init__()
        self.text = text
        self.lifted = lifted

    def _start(self, meta: Any, children: list[Any]) -> int:
        if getattr(meta, "empty", False):
            return _pos(children[0]) if children else 0
        return int(meta.start_pos)

    def string(self, meta: Any, c: list[Token]) -> n.Literal:
        if c[0].type == "RAW_STRING":
            return n.Literal(str(c[0])[2:-1], _pos(c[0]))
        return n.Literal(unescape(str(c[0])[1:-1]), _pos(c[0]))

    def integer(self, meta: Any, c: list[Token]) -> n.Literal:
        return n.Literal(int(str(c[0]), 0), _pos(c[0]))

    def floating(self, meta: Any, c: list[Token]) -> n.Literal:
        return n.Literal(float(str(c[0])), _pos(c[0]))

    def true(self, meta: Any, c: list[Token]) -> n.Literal:
        return n.Literal(True, _pos(c[0]))

    def false(self, meta: Any, c: list[Token]) -> n.Literal:
        return n.Literal(False, _pos(c[0]))

    def list_lit(self, meta: Any, c: list[Any]) -> n.ListLit:
        return n.ListLit(tuple(x for x in c if x is not None), self._start(meta, c))

    def template(self, meta: Any, c: list[Token]) -> n.Template | n.ListLit:
        start = self._start(meta, c)
        if start in self.lifted:
            return self.lifted[start]
        return n.Template(str(c[0]), start)

    def iso(self, meta: Any, c: list[Any]) -> n.Iso:
        return n.Iso(str(c[1].value), _pos(c[0]))

    def interval(self, meta: Any, c: list[Any]) -> n.Interval:
        return n.Interval(str(c[1].value), _pos(c[0]))

    def path(self, meta: Any, c: list[Any]) -> n.Path:
        keys: list[str | int] = []
        for key in c[1:]:
            if isinstance(key, Token):
                keys.append(int(str(key), 0))
            else:
                keys.append(str(key.value))
        return n.Path(str(c[0]), tuple(keys), _pos(c[0]))

    def call(self, meta: Any, c: list[Any]) -> n.Call:
        args: list[n.Node] = []
        kwargs: list[tuple[str, n.Node]] = []
        for a in c[1:]:
            if a is None:
                continue
            if isinstance(a, tuple):
                kwargs.append(a)
            else:
                args.append(a)
        return n.Call(str(c[0]), tuple(args), tuple(kwargs), _pos(c[0]))

    def kwarg(self, meta: Any, c: list[Any]) -> tuple[str, n.Node]:
        return (str(c[0]), c[1])

    def unary(self, meta: Any, c: list[Any]) -> n.Node:
        return n.Unary(str(c[0]), c[1], _pos(c[0]))

    def arith(self, meta: Any, c: list[Any]) -> n.Arith:
        return n.Arith(str(c[1]), c[0], c[2], _pos(c[0]))

    def comparison(self, meta: Any, c: list[Any]) -> n.Comparison:
        operands = tuple(c[0::2])
        ops = tuple(str(t) for t in c[1::2])
        if len(ops) > 2:
            raise ExpressionError(
                "cannot parse expression: a comparison chains at most two operators",
                expression=self.text,
                position=_pos(c[5]),
            )
        return n.Comparison(ops, operands, _pos(c[0]))

    def term(self, meta: Any, c: list[Any]) -> n.Term:
        return n.Term(c[0], c[2], False, _pos(c[0]))

    def not_term(self, meta: Any, c: list[Any]) -> n.Term:
        return n.Term(c[0], c[2], True, _pos(c[0]))

    def like(self, meta: Any, c: list[Any]) -> n.Like:
        return n.Like(c[0], str(c[2].value), _pos(c[0]))

    def is_null(self, meta: Any, c: list[Any]) -> n.IsNull:
        return n.IsNull(c[0], False, _pos(c[0]))

    def is_not_null(self, meta: Any, c: list[Any]) -> n.IsNull:
        return n.IsNull(c[0], True, _pos(c[0]))

    def exists(self, meta: Any, c: list[Any]) -> n.Exists:
        return n.Exists(c[1], _pos(c[0]))

    def logical_not(self, meta: Any, c: list[Any]) -> n.Not:
        return n.Not(c[1], _pos(c[0]))

    def logical_and(self, meta: Any, c: list[Any]) -> n.Logical:
        return n.Logical("and", tuple(c[0::2]), _pos(c[0]))

    def logical_or(self, meta: Any, c: list[Any]) -> n.Logical:
        return n.Logical("or", tuple(c[0::2]), _pos(c[0]))


def _syntax_error(text: str, err: LarkError) -> ExpressionError:
    if isinstance(err, UnexpectedCharacters):
        pos = int(err.pos_in_stream or 0)
        char = text[pos] if pos < len(text) else ""
        if char in "\"'":
            detail = "unterminated string literal"
        else:
            detail = f"unexpected character {char!r}"
        return ExpressionError(f"cannot parse expression: {detail}", expression=text, position=pos)
    if isinstance(err, UnexpectedEOF):
        return ExpressionError(
            "cannot parse expression: unexpected end of expression",
            expression=text,
            position=len(text),
        )
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            return ExpressionError(
                "cannot parse expression: unexpected end of expression",
                expression=text,
                position=len(text),
            )
        return ExpressionError(
            f"cannot parse expression: unexpected {str(tok)!r}",
            expression=text,
            position=int(tok.start_pos or 0),
        )
    return ExpressionError(f"cannot parse expression: {err}", expression=text)


def parse(text: str) -> n.Node:
    """Parse a filter expression into its syntax tree; raise ExpressionError when it is not one."""
    if not isinstance(text, str):
        raise ExpressionError(f"cannot parse expression: expected a string, got {type(text)}")
    if not text.strip():
        raise ExpressionError("cannot parse expression: empty expression", expression=text)
    if len(text) > _MAX_LENGTH:
        raise ExpressionError(
            f"cannot parse expression: longer than {_MAX_LENGTH} characters", expression=text[:64]
        )
    source, lifted = _lift_long_lists(text)
    try:
        tree = _parser().parse(source)
    except LarkError as err:
        raise _syntax_error(text, err) from None
    try:
        node: n.Node = _Build(text, lifted).transform(tree)
    except ExpressionError:
        raise
    except LarkError as err:
        inner = getattr(err, "orig_exc", None)
        if isinstance(inner, ExpressionError):
            raise inner from None
        if isinstance(inner, ValueError):
            raise ExpressionError(
                f"cannot parse expression: {inner}", expression=text, position=0
            ) from None
        raise _syntax_error(text, err) from None
    except RecursionError:
        raise ExpressionError(
            "cannot parse expression: nested too deeply", expression=text
        ) from None
    return node
