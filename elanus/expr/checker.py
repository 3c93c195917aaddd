"""Syntax tree → checked plan: resolve names against the schema, bind template
parameters, check types, fold constants. Every error quotes the expression and
points at the offending node."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, NoReturn

import numpy as np
import shapely

from elanus.errors import ExpressionError
from elanus.expr import ir
from elanus.expr import nodes as n
from elanus.expr.kinds import (
    CONTAINS,
    FLIP,
    FUNCTIONS,
    GEO_OPS,
    KIND,
    NUMERIC,
    describe,
    kind_of_literal,
    merge_equalities,
)
from elanus.expr.limits import MAX_DEPTH, too_deep
from elanus.expr.temporal import IntervalValue, parse_instant, parse_interval
from elanus.schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType, FieldSchema

__all__ = ["check"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Checker:
    def __init__(self, text: str, schema: CollectionSchema, params: Mapping[str, Any]) -> None:
        self.text = text
        self.schema = schema
        self.params = params
        self.columns: set[str] = set()

    # -- errors --------------------------------------------------------------------

    def fail(self, detail: str, node: Any, hint: str | None = None) -> NoReturn:
        raise ExpressionError(
            f"cannot parse expression: {detail}",
            expression=self.text,
            position=getattr(node, "pos", None),
            hint=hint,
        )

    # -- values --------------------------------------------------------------------

    def column(self, node: n.Path) -> ir.ColumnValue:
        name, keys = node.name, node.keys
        if name == DYNAMIC_FIELD_NAME:
            if not self.schema.enable_dynamic_field:
                self.fail("the dynamic field is not enabled for this collection", node)
            if not keys:
                self.fail('$meta must be followed by a key, as in $meta["key"]', node)
            self.columns.add(DYNAMIC_FIELD_NAME)
            return ir.ColumnValue(DYNAMIC_FIELD_NAME, "json", keys)
        field = self.schema.get(name)
        if field is None:
            if self.schema.enable_dynamic_field:
                self.columns.add(DYNAMIC_FIELD_NAME)
                return ir.ColumnValue(DYNAMIC_FIELD_NAME, "json", (name, *keys))
            self.fail(f"field {name} not exist", node)
        return self.field_column(field, keys, node)

    def field_column(
        self, field: FieldSchema, keys: tuple[str | int, ...], node: n.Path
    ) -> ir.ColumnValue:
        if field.dtype.is_vector:
            self.fail(f"vector field {field.name} cannot be used in a filter expression", node)
        kind = KIND.get(field.dtype)
        if kind is None:
            self.fail(f"field {field.name} of type {field.dtype.name} cannot be filtered", node)
        self.columns.add(field.name)
        element = None
        if kind == "array":
            element = KIND.get(field.element_type or DataType.NONE)
            if element is None:
                self.fail(f"array field {field.name} has no usable element type", node)
        if not keys:
            return ir.ColumnValue(field.name, kind, (), element, field.nullable)
        if kind == "json":
            return ir.ColumnValue(field.name, "json", keys, None, field.nullable)
        if kind == "array":
            if len(keys) == 1 and isinstance(keys[0], int) and keys[0] >= 2**31:
                self.fail(f"array index {keys[0]} is out of range", node)
            if len(keys) != 1 or not isinstance(keys[0], int):
                self.fail(
                    f"array field {field.name} takes one integer index, as in {field.name}[0]", node
                )
            assert element is not None
            return ir.ColumnValue(field.name, element, keys, element, field.nullable)
        self.fail(f"field {field.name} of type {field.dtype.name} cannot be indexed", node)

    def constant(self, node: n.Node) -> Any:
        """Evaluate a constant sub-tree, or return None when it reads a column."""
        if isinstance(node, n.Literal):
            return self.int64(node.value, node)
        if isinstance(node, n.ListLit):
            items = []
            for item in node.items:
                value = self.constant(item)
                if value is None:
                    self.fail("list elements must be constants", item)
                items.append(value)
            return items
        if isinstance(node, n.Template):
            return self.template(node)
        if isinstance(node, n.Iso):
            try:
                return _Instant(parse_instant(node.text))
            except ValueError:
                self.fail(f"invalid ISO-8601 timestamp {node.text!r}", node)
        if isinstance(node, n.Interval):
            try:
                return parse_interval(node.text)
            except ValueError as err:
                self.fail(str(err), node)
        if isinstance(node, n.Unary):
            operand = node.operand
            if (
                node.op == "-"
                and isinstance(operand, n.Literal)
                and type(operand.value) is int
                and operand.value == -_INT64_MIN
            ):
                # int64's minimum is written as minus a literal one past int64's maximum.
                return _INT64_MIN
            inner = self.constant(operand)
            if inner is None:
                return None
            if isinstance(inner, bool) or not isinstance(inner, (int, float, IntervalValue)):
                self.fail(f"unary {node.op} applies to numbers only", node)
            if node.op == "+":
                return inner
            if isinstance(inner, IntervalValue):
                return inner.negated()
            return self.int64(-inner, node)
        if isinstance(node, n.Arith):
            left, right = self.constant(node.left), self.constant(node.right)
            if left is None or right is None:
                return None
            return self.int64(self.fold(node, left, right), node)
        return None

    def int64(self, value: Any, node: n.Node) -> Any:
        """A constant as the filter may hold it: an integer must fit int64, as in Milvus,
        where every integer literal and template value is an int64."""
        if type(value) is int and not _INT64_MIN <= value <= _INT64_MAX:
            self.fail(f"integer {value} is out of the int64 range", node)
        return value

    def template(self, node: n.Template) -> Any:
        if node.name not in self.params:
            self.fail(
                f"the value of expression template variable name {{{node.name}}} is not found", node
            )
        value = self.params[node.name]
        return self.param_value(value, node, 0)

    def param_value(self, value: Any, node: n.Template, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise too_deep(self.text, node.pos, f"template value {{{node.name}}}")
        if value is None:
            self.fail("template parameters cannot be null", node)
        if isinstance(value, str):
            if _SURROGATE.search(value):
                self.fail(
                    f"template value {{{node.name}}} holds a lone surrogate, which is not a "
                    "character",
                    node,
                )
            return value
        if isinstance(value, (bool, int, float)):
            if isinstance(value, float) and not math.isfinite(value):
                self.fail("template parameter is not a finite number", node)
            return self.int64(value, node)
        if isinstance(value, np.generic):  # a NumPy scalar: its Python value
            return self.param_value(value.item(), node, depth + 1)
        if isinstance(value, (list, tuple)):
            return [self.param_value(v, node, depth + 1) for v in value]
        self.fail(f"unsupported template parameter type {type(value).__name__}", node)

    def fold(self, node: n.Arith, left: Any, right: Any) -> Any:
        if isinstance(left, _Instant) and isinstance(right, IntervalValue):
            self.fail(
                "adding an INTERVAL to an ISO constant is not supported; compute it first", node
            )
        for v in (left, right):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                self.fail(f"arithmetic operator {node.op} applies to numbers only", node)
        op = node.op
        if op in ("/", "%") and right == 0:
            self.fail("division by zero", node)
        if op == "%" and not (isinstance(left, int) and isinstance(right, int)):
            self.fail("modulo can only apply on integers", node)
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if op == "/":
            if isinstance(left, int) and isinstance(right, int):
                q = abs(left) // abs(right)
                return q if (left >= 0) == (right >= 0) else -q
            return left / right
        if op == "%":
            return int(math.fmod(left, right))
        try:
            power = float(left) ** float(right)
        except (OverflowError, ZeroDivisionError):
            self.fail("arithmetic overflow", node)
        if isinstance(power, complex):  # a negative base with a fractional exponent
            self.fail(f"{left} ** {right} is not a real number", node)
        return power

    def value(self, node: n.Node) -> ir.Value:
        const = self.constant(node)
        if const is not None:
            if isinstance(const, _Instant):
                return ir.Const(const.micros, "ts")
            return ir.Const(const, kind_of_literal(const))
        if isinstance(node, n.Path):
            return self.column(node)
        if isinstance(node, n.Unary):
            inner = self.value(node.operand)
            if node.op == "+":
                return inner
            return self.arith("*", inner, ir.Const(-1, "int"), node)
        if isinstance(node, n.Arith):
            return self.arith(node.op, self.value(node.left), self.value(node.right), node)
        if isinstance(node, n.Call) and node.name.lower() == "array_length":
            self.arity(node, 1)
            target = self.value(node.args[0])
            if not isinstance(target, ir.ColumnValue) or target.kind not in ("array", "json"):
                self.fail("array_length takes an ARRAY field or a JSON path", node)
            return ir.Length(target)
        if isinstance(node, n.Call):
            self.call_name(node)
            self.fail(f"function {node.name} does not return a value", node)
        self.fail("expected a value here", node)

    def arith(self, op: str, left: ir.Value, right: ir.Value, node: n.Node) -> ir.Value:
        lk, rk = left.kind, right.kind
        if lk == "ts" or rk == "ts":
            if lk == "ts" and rk == "interval" and op in ("+", "-"):
                return ir.ArithValue(op, left, right, "ts")
            if rk == "ts" and lk == "interval" and op == "+":
                return ir.ArithValue(op, right, left, "ts")
            self.fail("a TIMESTAMPTZ value takes only + or - INTERVAL '...'", node)
        ok = {"int", "float", "json"}
        if lk not in ok or rk not in ok:
            bad = left if lk not in ok else right
            self.fail(f"arithmetic operator {op} does not apply to {describe(bad)}", node)
        if _reads_a_field(left) and _reads_a_field(right):
            # Milvus evaluates arithmetic only between one field and constants.
            self.fail("arithmetic between two fields is not supported", node)
        if isinstance(right, ir.Const) and op in ("/", "%") and right.value == 0:
            self.fail("division by zero", node)
        if op == "%" and ("float" in (lk, rk)):
            self.fail("modulo can only apply on integers", node)
        if op in ("/", "%") and isinstance(left, ir.Const) and not isinstance(right, ir.Const):
            pass
        kind = "int" if lk == rk == "int" and op != "**" else "float"
        return ir.ArithValue(op, left, right, kind)

    # -- predicates ------------------------------------------------------------------

    def predicate(self, node: n.Node) -> ir.Predicate:
        if isinstance(node, n.Logical):
            cls = ir.AllOf if node.op == "and" else ir.AnyOf
            children: list[ir.Predicate] = []
            if any(_is_bare_value(o) for o in node.operands):
                self.fail(f"'{node.op}' can only be used between boolean expressions", node)
            for child in map(self.predicate, node.operands):
                children.extend(child.children if isinstance(child, cls) else (child,))
            if cls is ir.AnyOf:
                children = merge_equalities(children)
                if len(children) == 1:
                    return children[0]
            return cls(tuple(children))
        if isinstance(node, n.Not):
            if _is_bare_value(node.operand):
                self.fail("not op can only be applied on boolean expression", node)
            child = self.predicate(node.operand)
            if isinstance(child, ir.ConstPredicate):
                return ir.ConstPredicate(not child.value)
            return ir.Negate(child)
        if isinstance(node, n.Comparison):
            return self.comparison(node)
        if isinstance(node, n.Term):
            return self.term(node)
        if isinstance(node, n.Like):
            target = self.value(node.value)
            if target.kind not in ("str", "json") or not isinstance(target, ir.ColumnValue):
                self.fail(
                    f"like applies to VARCHAR fields and JSON values, not {describe(target)}", node
                )
            trailing = len(node.pattern) - len(node.pattern.rstrip("\\"))
            if trailing % 2:
                # An escape with nothing after it: Milvus's matcher refuses it.
                self.fail(f"invalid LIKE pattern {node.pattern!r}: it ends in a lone escape", node)
            return ir.LikeMatch(target, node.pattern)
        if isinstance(node, n.IsNull):
            if not isinstance(node.value, n.Path):
                self.fail("is null applies to a field", node)
            named = self.schema.get(node.value.name)
            if named is not None and named.dtype.is_vector:
                self.fail("IsNull/IsNotNull operations are not supported on vector fields", node)
            if named is not None and named.dtype == DataType.ARRAY and node.value.keys:
                self.fail(
                    "IsNull/IsNotNull operations are not supported on array element access", node
                )
            target = self.column(node.value)
            if target.kind == "json" and target.path:
                # as Milvus plans it: a JSON key is null when it does not exist
                found: ir.Predicate = ir.Exists(target)
                return found if node.negate else ir.Negate(found)
            pred: ir.Predicate = ir.IsNull(target)
            return ir.Negate(pred) if node.negate else pred
        if isinstance(node, n.Exists):
            target_value = self.value(node.value)
            if not (
                isinstance(target_value, ir.ColumnValue)
                and target_value.kind == "json"
                and target_value.path
            ):
                self.fail('exists applies to a JSON key, as in exists meta["key"]', node)
            return ir.Exists(target_value)
        if isinstance(node, n.Call):
            return self.call(node)
        if isinstance(node, n.Literal) and isinstance(node.value, bool):
            return ir.ConstPredicate(node.value)
        if isinstance(node, n.Path):
            target = self.column(node)
            if target.kind in ("bool", "json"):
                return ir.Compare("==", target, ir.Const(True, "bool"))
            self.fail(f"{describe(target)} is not a boolean expression", node)
        self.fail("expected a boolean expression", node)

    def comparison(self, node: n.Comparison) -> ir.Predicate:
        if len(node.ops) == 2:
            lo, hi = node.ops
            if not ({lo, hi} <= {"<", "<="} or {lo, hi} <= {">", ">="}):
                self.fail("a range must use < / <= twice or > / >= twice, as in 1 < a < 5", node)
            middle = node.operands[1]
            parts = (
                self.compare(lo, node.operands[0], middle, node),
                self.compare(hi, middle, node.operands[2], node),
            )
            return ir.AllOf(parts)
        return self.compare(node.ops[0], node.operands[0], node.operands[1], node)

    def compare(self, op: str, left_node: n.Node, right_node: n.Node, node: n.Node) -> ir.Predicate:
        left, right = self.value(left_node), self.value(right_node)
        if isinstance(left, ir.Const) and not isinstance(right, ir.Const):
            left, right, op = right, left, FLIP[op]
        if isinstance(left, ir.Const) and isinstance(right, ir.Const):
            self.fail("a comparison needs at least one field", node)
        lk, rk = left.kind, right.kind
        if isinstance(right, ir.Const):
            right = self.coerce_const(left, right, op, node)
        elif "json" in (lk, rk):
            self.fail("two column comparison with JSON type is not supported", node)
        elif not (lk == rk or (lk in NUMERIC and rk in NUMERIC)):
            self.fail(
                f"comparisons between {describe(left)} and {describe(right)} are not supported",
                node,
            )
        elif lk in ("array", "geo"):
            self.fail(f"comparisons between {describe(left)} values are not supported", node)
        if lk == "bool" and op not in ("==", "!="):
            self.fail("bool values support only == and !=", node)
        if op == "!=":
            return ir.Negate(ir.Compare("==", left, right))
        return ir.Compare(op, left, right)

    def coerce_const(self, left: ir.Value, right: ir.Const, op: str, node: n.Node) -> ir.Const:
        lk, rk, value = left.kind, right.kind, right.value
        if lk == "ts":
            if rk == "str":
                try:
                    return ir.Const(parse_instant(value), "ts")
                except ValueError:
                    self.fail(f"invalid ISO-8601 timestamp {value!r}", node)
            if rk == "ts":
                return right
        elif lk == "json":
            if rk in ("int", "float", "str", "bool"):
                if rk == "bool" and op not in ("==", "!="):
                    self.fail("bool values support only == and !=", node)
                return right
            self.fail(f"comparing a JSON value with {describe(right)} is not supported", node)
        elif lk in NUMERIC and rk in NUMERIC:
            rounded = self.as_float32(left, value)
            return right if rounded is value else ir.Const(rounded, "float")
        elif lk == rk and lk in ("str", "bool"):
            return right
        # Milvus names the two types only, not the field.
        self.fail(
            f"comparisons between {describe(ir.Const(None, lk))} and {describe(right)} "
            "are not supported",
            node,
        )

    def as_float32(self, target: ir.Value, value: Any) -> Any:
        """A number compared with a FLOAT field, rounded to float32 as Milvus casts a
        literal to the field's type (so a stored value equals its own literal, and an
        index and a scan agree)."""
        if not isinstance(target, ir.ColumnValue) or isinstance(value, bool):
            return value
        field = self.schema.get(target.column)
        if field is None:
            return value
        # An ARRAY of FLOAT stores float32 elements, reached by contains or by index.
        float_field = field.dtype == DataType.FLOAT and not target.path
        float_elements = field.dtype == DataType.ARRAY and field.element_type == DataType.FLOAT
        if not (float_field or float_elements):
            return value
        with np.errstate(over="ignore"):
            # beyond float32's range the literal rounds to an infinity, as a cast does
            return float(np.float32(value))

    def term(self, node: n.Term) -> ir.Predicate:
        target = self.value(node.value)
        items = self.constant(node.items)
        if not isinstance(items, list):
            self.fail("in / not in takes a list, as in a in [1, 2]", node.items)
        if not isinstance(target, ir.ColumnValue) and not isinstance(
            target, (ir.ArithValue, ir.Length)
        ):
            self.fail("in / not in applies to a field", node)
        values = tuple(self.term_item(target, item, node) for item in items)
        pred = ir.InSet(target, values)
        return ir.Negate(pred) if node.negate else pred

    def term_item(self, target: ir.Value, item: Any, node: n.Node) -> Any:
        kind = target.kind
        if isinstance(item, list):
            self.fail("in / not in takes a list of scalars", node)
        ik = kind_of_literal(item)
        if kind == "json":
            return item
        if kind in NUMERIC and ik in NUMERIC:
            return self.as_float32(target, item)
        if kind == "ts" and ik == "str":
            try:
                return parse_instant(item)
            except ValueError:
                self.fail(f"invalid ISO-8601 timestamp {item!r}", node)
        if kind == ik:
            return item
        self.fail(f"value {item!r} does not match {describe(target)}", node)

    def call_name(self, node: n.Call) -> str:
        name = node.name
        if name != name.lower() and name != name.upper():
            self.fail(f"function names are all lowercase or all uppercase: {name}", node)
        lower = name.lower()
        if lower not in FUNCTIONS:
            self.fail(f"function {name} is not supported", node)
        return lower

    def arity(self, node: n.Call, *counts: int) -> None:
        if len(node.args) not in counts:
            want = " or ".join(str(c) for c in counts)
            self.fail(f"function {node.name} takes {want} arguments, got {len(node.args)}", node)

    def call(self, node: n.Call) -> ir.Predicate:
        name = self.call_name(node)
        if node.kwargs and name != "text_match":
            self.fail(f"function {node.name} takes no keyword arguments", node)
        if name in CONTAINS:
            return self.contains(node, CONTAINS[name])
        if name in GEO_OPS:
            return self.geo(node, name)
        if name in ("text_match", "phrase_match"):
            return self.text_match(node, name)
        self.fail(f"function {node.name} is not a boolean expression", node)

    def contains(self, node: n.Call, mode: str) -> ir.Predicate:
        self.arity(node, 2)
        target = self.value(node.args[0])
        if not isinstance(target, ir.ColumnValue) or target.kind not in ("array", "json"):
            self.fail(f"{node.name} takes an ARRAY field or a JSON path first", node)
        items = self.constant(node.args[1])
        if items is None:
            self.fail(f"{node.name} takes a constant second argument", node.args[1])
        if mode == "one":
            items = [items]
        elif not isinstance(items, list):
            self.fail(f"{node.name} takes a list second argument", node.args[1])
        checked = []
        for item in items:
            # A JSON array may hold arrays, so a JSON target takes array items (matched
            # against equal elements); an ARRAY field's elements are scalars.
            nested_ok = target.kind == "json" and _scalar_tree(item)
            if isinstance(item, (_Instant, IntervalValue)) or (
                isinstance(item, list) and not nested_ok
            ):
                self.fail(f"{node.name} takes scalar values", node.args[1])
            if target.kind == "array":
                element = ir.ColumnValue(target.column, target.element or "", ())
                checked.append(self.term_item(element, item, node))
            else:
                checked.append(item)
        return ir.Contains(mode, target, tuple(checked))

    def geo(self, node: n.Call, name: str) -> ir.Predicate:
        count = GEO_OPS[name]
        self.arity(node, count)
        first = node.args[0]
        if not isinstance(first, n.Path) or first.keys:
            self.fail(f"{node.name} takes a GEOMETRY field first", node)
        target = self.column(first)
        if target.kind != "geo":
            self.fail(
                f"{node.name} takes a GEOMETRY field, {first.name} is {describe(target)}", node
            )
        op = name[3:]
        if count == 1:
            return ir.Geo(op, target.column, None)
        wkt = self.constant(node.args[1])
        if not isinstance(wkt, str):
            self.fail(f"{node.name} takes a WKT string second", node.args[1])
        with np.errstate(all="ignore"):
            try:
                geometry = shapely.from_wkt(wkt)
            except shapely.errors.GEOSException:
                self.fail(f"invalid WKT {wkt!r}", node.args[1])
            finite = bool(np.isfinite(shapely.get_coordinates(geometry)).all())
        if geometry is None or not finite:
            self.fail(f"invalid WKT {wkt!r}: coordinates must be finite numbers", node.args[1])
        distance = None
        if count == 3:
            distance = self.constant(node.args[2])
            if isinstance(distance, bool) or not isinstance(distance, (int, float)) or distance < 0:
                self.fail("ST_DWITHIN takes a non-negative distance in meters", node.args[2])
            distance = float(distance)
        return ir.Geo(op, target.column, wkt, distance)

    def text_match(self, node: n.Call, name: str) -> ir.Predicate:
        if name == "text_match":
            self.arity(node, 2)
            if node.kwargs:
                self.fail("text_match options are not supported", node)
        else:
            self.arity(node, 2, 3)
        first = node.args[0]
        if not isinstance(first, n.Path) or first.keys or self.schema.get(first.name) is None:
            if isinstance(first, n.Path) and self.schema.get(first.name) is None:
                self.fail(f"field {first.name} not exist", first)
            self.fail(f"{node.name} takes a VARCHAR field first", node)
        field = self.schema.field(first.name)
        if field.dtype not in (DataType.VARCHAR, DataType.TEXT, DataType.STRING):
            self.fail(
                f"{node.name} takes a VARCHAR field, {field.name} is {field.dtype.name}", node
            )
        if not (field.enable_analyzer and field.enable_match):
            self.fail(
                f"field {field.name} does not enable match",
                node,
                hint=f"{node.name} requires an analyzer-enabled field with enable_match=True",
            )
        query = self.constant(node.args[1])
        if not isinstance(query, str):
            self.fail(f"{node.name} takes a string query", node.args[1])
        self.columns.add(field.name)
        slop: int | None = None
        if name == "phrase_match":
            slop = 0
            if len(node.args) == 3:
                raw = self.constant(node.args[2])
                if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
                    self.fail("phrase_match slop must be a non-negative integer", node.args[2])
                slop = raw
        return ir.TextMatch(field.name, query, slop)


class _Instant:
    """An ISO literal during folding (kept apart from plain integers)."""

    __slots__ = ("micros",)

    def __init__(self, micros: int) -> None:
        self.micros = micros


def check(
    tree: n.Node, text: str, schema: CollectionSchema, params: Mapping[str, Any]
) -> tuple[ir.Predicate, frozenset[str]]:
    """Check a parsed expression; returns the predicate and the columns it reads."""
    checker = _Checker(text, schema, params)
    if _is_bare_value(tree):
        label = describe(ir.Const(None, checker.value(tree).kind))
        # Milvus words this one without the parse-error frame.
        raise ExpressionError(f"predicate is not a boolean expression: {text}, data type: {label}")
    predicate = checker.predicate(tree)
    return predicate, frozenset(checker.columns)


def _is_bare_value(node: n.Node) -> bool:
    """A field, key or arithmetic where a predicate belongs (Milvus refuses even a bare
    BOOL field: it wants ``b == true``)."""
    if isinstance(node, n.Literal):
        return not isinstance(node.value, bool)
    return isinstance(node, (n.Path, n.Arith, n.Unary))


def _scalar_tree(value: Any) -> bool:
    """A bool, number or string, or a list of such (nested to any depth)."""
    if isinstance(value, list):
        return all(_scalar_tree(v) for v in value)
    return isinstance(value, (bool, int, float, str))


def _reads_a_field(value: ir.Value) -> bool:
    if isinstance(value, ir.ColumnValue):
        return True
    if isinstance(value, ir.ArithValue):
        return _reads_a_field(value.left) or _reads_a_field(value.right)
    return isinstance(value, ir.Length)
