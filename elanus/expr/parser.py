"""Text → syntax tree, with lark (LALR) over ``grammar.lark``.

The tree is built while the text is read (lark calls ``_Build`` on each reduction),
so the size and nesting bounds of ``limits`` stop a parse as soon as they are passed,
before work proportional to the rest of the text is done.
"""

from __future__ import annotations

import functools
import re
import threading
from pathlib import Path as FsPath
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from elanus.errors import ExpressionError
from elanus.expr import nodes as n
from elanus.expr.limits import (
    MAX_DEPTH,
    MAX_EXPRESSION_LENGTH,
    MAX_NODES,
    too_deep,
    too_long,
    too_many_nodes,
)

__all__ = ["parse", "unescape"]

_GRAMMAR = FsPath(__file__).with_name("grammar.lark")
# The parser's stack holds the unfinished constructs around the token being read, a
# few entries for each level (``f(x, `` is four); past this many the text nests more
# than MAX_DEPTH levels whatever the construct, and reading on would only pile up work.
_MAX_STACK = 4 * MAX_DEPTH + 32
_SURROGATE = re.compile("[\ud800-\udfff]")


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        maybe_placeholders=True,
        transformer=_Build(),
    )


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", '"': '"', "'": "'"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)


def unescape(body: str) -> str:
    """Decode a string literal's body. Unknown escapes keep their backslash, so that
    ``like`` patterns such as ``"100\\%"`` reach the matcher intact."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if len(code) == 5 and code[0] == "u":
            # A surrogate is half of a UTF-16 pair, not a character: it cannot be
            # stored or compared as UTF-8 text (Milvus's unquoting refuses it too).
            point = int(code[1:], 16)
            if 0xD800 <= point <= 0xDFFF:
                raise ValueError(f"invalid escape \\{code}: a lone surrogate is not a character")
            return chr(point)
        return _ESCAPES.get(code, "\\" + code)

    return _ESCAPE_RE.sub(one, body)


_ITEM = r"""(?:[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|"[^"\\\n]*"|'[^'\\\n]*')"""
_LONG_LIST = re.compile(rf"\[\s*{_ITEM}(?:\s*,\s*{_ITEM}){{15,}}\s*,?\s*\]")
_ITEMS = re.compile(_ITEM)
_STRING = re.compile(r""""[^"\\]*(?:\\.[^"\\]*)*"|'[^'\\]*(?:\\.[^'\\]*)*'""", re.S)


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


class _Parse:
    """What one parse tracks: the text, its lifted lists, the nodes built so far and
    the nesting depth of each (by node identity, while the tree is being built)."""

    def __init__(self, text: str, lifted: dict[int, n.ListLit]) -> None:
        self.text = text
        self.lifted = lifted
        self.nodes = 0
        self.depth: dict[int, int] = {}


_current = threading.local()


def _depth_of(state: _Parse, item: Any) -> int:
    if isinstance(item, Token) or item is None:
        return 0
    if isinstance(item, tuple):  # a keyword argument: (name, value)
        return state.depth.get(id(item[1]), 0)
    return state.depth.get(id(item), 0)


class _Build(Transformer):  # type: ignore[type-arg]
    """Builds the syntax tree; one instance serves every parse (lark holds it), the
    parse in progress on this thread is ``_current.state``."""

    @property
    def state(self) -> _Parse:
        return _current.state  # type: ignore[no-any-return]

    def _made(self, node: Any, children: list[Any], count: int = 1) -> Any:
        """Record a node built from ``children``: count it, measure its depth."""
        state = self.state
        state.nodes += count
        depth = 1 + max((_depth_of(state, c) for c in children), default=0)
        if state.nodes > MAX_NODES:
            raise too_many_nodes(state.text, _pos(node))
        if depth > MAX_DEPTH:
            raise too_deep(state.text, _pos(node))
        state.depth[id(node)] = depth
        return node

    def string(self, c: list[Token]) -> n.Literal:
        if c[0].type == "RAW_STRING":
            return self._made(n.Literal(str(c[0])[2:-1], _pos(c[0])), c)
        try:
            body = unescape(str(c[0])[1:-1])
        except ValueError as err:
            raise ExpressionError(
                f"cannot parse expression: {err}", expression=self.state.text, position=_pos(c[0])
            ) from None
        return self._made(n.Literal(body, _pos(c[0])), c)

    def _int(self, token: Token) -> int:
        try:
            return int(str(token), 0)
        except ValueError:  # a leading zero, as in 01
            raise ExpressionError(
                f"cannot parse expression: invalid integer literal {str(token)!r}",
                expression=self.state.text,
                position=_pos(token),
            ) from None

    def integer(self, c: list[Token]) -> n.Literal:
        return self._made(n.Literal(self._int(c[0]), _pos(c[0])), c)

    def floating(self, c: list[Token]) -> n.Literal:
        return self._made(n.Literal(float(str(c[0])), _pos(c[0])), c)

    def true(self, c: list[Token]) -> n.Literal:
        return self._made(n.Literal(True, _pos(c[0])), c)

    def false(self, c: list[Token]) -> n.Literal:
        return self._made(n.Literal(False, _pos(c[0])), c)

    def list_lit(self, c: list[Any]) -> n.ListLit:
        items = tuple(x for x in c[1:] if x is not None)
        return self._made(n.ListLit(items, _pos(c[0])), c)

    def template(self, c: list[Token]) -> n.Template | n.ListLit:
        start = _pos(c[0])
        if start in self.state.lifted:
            return self._made(self.state.lifted[start], [])
        return self._made(n.Template(str(c[1]), start), c)

    def group(self, c: list[Any]) -> n.Node:
        # Parentheses add no node to the tree, but a level and a node to the limits.
        inner = c[1]
        state = self.state
        state.nodes += 1
        depth = 1 + _depth_of(state, inner)
        if depth > MAX_DEPTH:
            raise too_deep(state.text, _pos(c[0]))
        state.depth[id(inner)] = depth
        return inner  # type: ignore[no-any-return]

    def iso(self, c: list[Any]) -> n.Iso:
        return self._made(n.Iso(str(c[1].value), _pos(c[0])), c)

    def interval(self, c: list[Any]) -> n.Interval:
        return self._made(n.Interval(str(c[1].value), _pos(c[0])), c)

    def path(self, c: list[Any]) -> n.Path:
        keys: list[str | int] = []
        for key in c[1:]:
            if isinstance(key, Token):
                keys.append(self._int(key))
            else:
                keys.append(str(key.value))
        # Each key is a step the evaluator takes: it counts as a node.
        return self._made(n.Path(str(c[0]), tuple(keys), _pos(c[0])), [], 1 + len(keys))

    def call(self, c: list[Any]) -> n.Call:
        args: list[n.Node] = []
        kwargs: list[tuple[str, n.Node]] = []
        for a in c[1:]:
            if a is None:
                continue
            if isinstance(a, tuple):
                kwargs.append(a)
            else:
                args.append(a)
        return self._made(n.Call(str(c[0]), tuple(args), tuple(kwargs), _pos(c[0])), c)

    def kwarg(self, c: list[Any]) -> tuple[str, n.Node]:
        return (str(c[0]), c[1])

    def unary(self, c: list[Any]) -> n.Node:
        return self._made(n.Unary(str(c[0]), c[1], _pos(c[0])), c)

    def arith(self, c: list[Any]) -> n.Arith:
        return self._made(n.Arith(str(c[1]), c[0], c[2], _pos(c[0])), c)

    def comparison(self, c: list[Any]) -> n.Comparison:
        operands = tuple(c[0::2])
        ops = tuple(str(t) for t in c[1::2])
        if len(ops) > 2:
            raise ExpressionError(
                "cannot parse expression: a comparison chains at most two operators",
                expression=self.state.text,
                position=_pos(c[5]),
            )
        return self._made(n.Comparison(ops, operands, _pos(c[0])), c)

    def term(self, c: list[Any]) -> n.Term:
        return self._made(n.Term(c[0], c[2], False, _pos(c[0])), c)

    def not_term(self, c: list[Any]) -> n.Term:
        return self._made(n.Term(c[0], c[2], True, _pos(c[0])), c)

    def like(self, c: list[Any]) -> n.Like:
        return self._made(n.Like(c[0], str(c[2].value), _pos(c[0])), c)

    def is_null(self, c: list[Any]) -> n.IsNull:
        return self._made(n.IsNull(c[0], False, _pos(c[0])), c)

    def is_not_null(self, c: list[Any]) -> n.IsNull:
        return self._made(n.IsNull(c[0], True, _pos(c[0])), c)

    def exists(self, c: list[Any]) -> n.Exists:
        return self._made(n.Exists(c[1], _pos(c[0])), c)

    def logical_not(self, c: list[Any]) -> n.Not:
        return self._made(n.Not(c[1], _pos(c[0])), c)

    def logical_and(self, c: list[Any]) -> n.Logical:
        return self._made(n.Logical("and", tuple(c[0::2]), _pos(c[0])), c)

    def logical_or(self, c: list[Any]) -> n.Logical:
        return self._made(n.Logical("or", tuple(c[0::2]), _pos(c[0])), c)


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
    """Parse a filter expression into its syntax tree; raise ExpressionError when it is
    not one, or when it passes a bound of ``limits``."""
    if not isinstance(text, str):
        raise ExpressionError(f"cannot parse expression: expected a string, got {type(text)}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise too_long(text)
    if not text.strip():
        raise ExpressionError("cannot parse expression: empty expression", expression=text)
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        raise ExpressionError(
            f"cannot parse expression: invalid character {surrogate.group()!r}: a lone "
            "surrogate is not a character",
            expression=text,
            position=surrogate.start(),
        )
    source, lifted = _lift_long_lists(text)
    state = _Parse(text, lifted)
    outer = getattr(_current, "state", None)
    _current.state = state
    try:
        interactive = _parser().parse_interactive(source)
        stack = interactive.parser_state.state_stack
        for token in interactive.iter_parse():
            if len(stack) > _MAX_STACK:
                raise too_deep(text, int(token.start_pos or 0))
        node: n.Node = interactive.feed_eof()
    except LarkError as err:
        raise _syntax_error(text, err) from None
    finally:
        _current.state = outer
    return node
