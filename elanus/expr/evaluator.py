"""Run a checked predicate over one segment's columns, vectorised.

Every predicate yields two row masks, ``(match, valid)``, as Milvus's executor does:
a leaf on a null value has ``match = valid = False``; ``and``/``or`` combine matches
and OR their validity; ``not`` gives ``~match & valid``. So a comparison never
matches a null — ``!=`` and ``not (a == 1)`` included — while a JSON value of another
type, or a missing key, is valid and simply does not match (and its negation does).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from elanus.errors import DataError, NotSupportedError
from elanus.expr import ir
from elanus.expr.jsonvalues import JsonValues, column_cache, json_path_values
from elanus.expr.source import ColumnSource, ScalarIndex, index_key
from elanus.expr.temporal import IntervalValue, add_interval

__all__ = ["evaluate"]

Mask = np.ndarray
Result = tuple[Mask, Mask]

_NP_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_PC_CMP = {
    "==": pc.equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}
_EARTH_RADIUS_M = 6_371_008.8


@dataclass
class _Vec:
    """A column of values: ``num``/``bool``/``ts`` as NumPy, ``str``/``array`` as Arrow,
    ``json`` as JsonValues, ``geo`` as an array of shapely geometries."""

    kind: str
    data: Any
    valid: Mask


def _bool_np(arr: pa.Array | pa.ChunkedArray) -> Mask:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, False)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool)


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int):
        return np.int64(value)
    if isinstance(value, float):
        return np.float64(value)
    return value


def _as_column_type(data: Any, value: Any) -> Any:
    """A number compared with a FLOAT column is first rounded to float32, as Milvus
    casts a literal to the field's type: a float32 value equals its own literal."""
    if (
        getattr(data, "dtype", None) == np.float32
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        return np.float32(value)
    return _scalar(value)


class _Evaluator:
    def __init__(self, source: ColumnSource) -> None:
        self.src = source
        self.n = int(source.num_rows)
        self.ones = np.ones(self.n, dtype=bool)
        self.arrays: dict[str, pa.Array] = {}

    # -- columns -------------------------------------------------------------------

    def array(self, name: str) -> pa.Array:
        arr = self.arrays.get(name)
        if arr is None:
            arr = self.src.column(name)
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            if len(arr) != self.n:
                raise ValueError(f"column {name} has {len(arr)} rows, expected {self.n}")
            self.arrays[name] = arr
        return arr

    def validity(self, arr: pa.Array) -> Mask:
        if arr.null_count == 0:
            return self.ones
        return _bool_np(arr.is_valid())

    def column(self, ref: ir.ColumnValue) -> _Vec:
        arr = self.array(ref.column)
        valid = self.validity(arr)
        kind = ref.kind
        if kind == "json":
            return _Vec("json", json_path_values(arr, ref.path), valid)
        if ref.element is not None and ref.path:
            return self.element(arr, int(ref.path[0]), ref.element, valid)
        return self.plain(arr, kind, valid)

    def plain(self, arr: pa.Array, kind: str, valid: Mask) -> _Vec:
        if kind in ("int", "float", "bool"):
            filled = pc.fill_null(arr, False if kind == "bool" else 0) if arr.null_count else arr
            return _Vec(
                "bool" if kind == "bool" else "num", filled.to_numpy(zero_copy_only=False), valid
            )
        if kind == "ts":
            ints = arr.cast(pa.int64())
            if ints.null_count:
                ints = pc.fill_null(ints, 0)
            return _Vec("ts", ints.to_numpy(zero_copy_only=False), valid)
        if kind == "str":
            return _Vec("str", arr, valid)
        if kind == "array":
            return _Vec("array", arr, valid)
        if kind == "geo":
            geoms = column_cache.get(arr, ("geometry",), lambda: _parse_geometries(arr))
            return _Vec("geo", geoms, valid & ~shapely.is_missing(geoms))
        raise ValueError(f"cannot read a {kind} column")

    def element(self, arr: pa.Array, index: int, kind: str, valid: Mask) -> _Vec:
        lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
        inside = valid & (lengths > index)
        offsets = arr.offsets.to_numpy(zero_copy_only=False)[:-1].astype(np.int64)
        positions = np.where(inside, offsets + index, 0)
        values = arr.values
        if len(values) == 0:
            values = pa.nulls(1, type=arr.type.value_type)
        picked = values.take(pa.array(positions))
        return self.plain(picked, kind, inside)

    def value(self, node: ir.Value) -> _Vec:
        if isinstance(node, ir.ColumnValue):
            vec = self.column(node)
            return vec
        if isinstance(node, ir.Const):
            raise ValueError("constants are handled by their consumer")
        if isinstance(node, ir.Length):
            return self.length(node)
        return self.arith(node)

    def numeric(self, vec: _Vec) -> _Vec:
        if vec.kind == "json":
            mask, data = vec.data.numbers()
            return _Vec("num", data, vec.valid & mask)
        if vec.kind == "num":
            return vec
        raise ValueError(f"{vec.kind} is not numeric")

    def operand(self, node: ir.Value) -> tuple[Any, Mask]:
        if isinstance(node, ir.Const):
            return _scalar(node.value), self.ones
        vec = self.value(node)
        if vec.kind == "ts":
            return vec.data, vec.valid
        vec = self.numeric(vec)
        return vec.data, vec.valid

    def arith(self, node: ir.ArithValue) -> _Vec:
        if node.kind == "ts":
            base = self.value(node.left)
            interval = node.right.value  # type: ignore[union-attr]
            assert isinstance(interval, IntervalValue)
            if node.op == "-":
                interval = interval.negated()
            return _Vec("ts", add_interval(base.data, interval), base.valid)
        a, va = self.operand(node.left)
        b, vb = self.operand(node.right)
        valid = va & vb
        with np.errstate(all="ignore"):
            if node.kind == "int":
                a = np.asarray(a).astype(np.int64, copy=False)
                b = np.asarray(b).astype(np.int64, copy=False)
                if node.op in ("/", "%"):
                    nonzero = b != 0
                    valid = valid & nonzero
                    safe = np.where(nonzero, b, 1)
                    if node.op == "%":
                        out = np.fmod(a, safe)
                    else:
                        q = np.abs(a) // np.abs(safe)
                        out = np.where((a < 0) != (safe < 0), -q, q)
                else:
                    out = {"+": np.add, "-": np.subtract, "*": np.multiply}[node.op](a, b)
            else:
                a = np.asarray(a, dtype=np.float64)
                b = np.asarray(b, dtype=np.float64)
                if node.op == "/":
                    valid = valid & (b != 0)
                    out = a / np.where(b != 0, b, 1.0)
                elif node.op == "**":
                    out = np.power(a, b)
                    valid = valid & np.isfinite(out)
                elif node.op == "%":
                    valid = valid & (b != 0)
                    out = np.fmod(a, np.where(b != 0, b, 1.0))
                else:
                    out = {"+": np.add, "-": np.subtract, "*": np.multiply}[node.op](a, b)
        out = np.broadcast_to(out, (self.n,))
        valid = np.broadcast_to(valid, (self.n,))
        return _Vec("num", out, valid)

    def length(self, node: ir.Length) -> _Vec:
        vec = self.column(node.of)
        if vec.kind == "array":
            lengths = pc.fill_null(pc.list_value_length(vec.data), 0)
            return _Vec("num", lengths.to_numpy(zero_copy_only=False).astype(np.int64), vec.valid)
        mask, lengths, _ = vec.data.lists()
        return _Vec("num", lengths, vec.valid & mask)

    # -- predicates ------------------------------------------------------------------

    def pred(self, node: ir.Predicate) -> Result:
        if isinstance(node, ir.AllOf):
            match, valid = self.pred(node.children[0])
            match = match.copy()
            valid = valid.copy()
            falsified = valid & ~match
            for child in node.children[1:]:
                m, v = self.pred(child)
                match &= m
                valid &= v
                falsified |= v & ~m
            # Kleene logic: one known false decides an AND, whatever else is unknown.
            return match, valid | falsified
        if isinstance(node, ir.AnyOf):
            match, valid = self.pred(node.children[0])
            match = match.copy()
            valid = valid.copy()
            for child in node.children[1:]:
                m, v = self.pred(child)
                match |= m
                valid &= v
            # One known true decides an OR.
            return match, valid | match
        if isinstance(node, ir.Negate):
            match, valid = self.pred(node.child)
            return ~match & valid, valid
        if isinstance(node, ir.ConstPredicate):
            return np.full(self.n, node.value, dtype=bool), self.ones
        indexed = self.by_index(node)
        if indexed is not None:
            return indexed
        if isinstance(node, ir.Compare):
            return self.compare(node)
        if isinstance(node, ir.InSet):
            return self.in_set(node)
        if isinstance(node, ir.LikeMatch):
            return self.like(node)
        if isinstance(node, ir.IsNull):
            return self.is_null(node)
        if isinstance(node, ir.Exists):
            vec = self.column(node.value)
            found = vec.data.present & ~vec.data.is_null
            return found & vec.valid, vec.valid
        if isinstance(node, ir.Contains):
            return self.contains(node)
        if isinstance(node, ir.TextMatch):
            return self.text_match(node)
        if isinstance(node, ir.Geo):
            return self.geo(node)
        raise TypeError(f"unknown predicate {type(node).__name__}")

    def by_index(self, node: ir.Predicate) -> Result | None:
        if isinstance(node, ir.Geo):
            return self.geo_by_index(node)
        target = getattr(node, "value", None) if not isinstance(node, ir.Compare) else node.left
        if not isinstance(target, ir.ColumnValue):
            return None
        if isinstance(node, ir.Contains) or target.kind == "json":
            return self.path_by_index(node, target)
        if target.path or target.column == "$meta":
            return None
        if target.kind not in ("int", "float", "str", "bool", "ts"):
            return None
        if isinstance(node, ir.Compare) and not isinstance(node.right, ir.Const):
            return None
        if not isinstance(node, (ir.Compare, ir.InSet, ir.LikeMatch, ir.IsNull)):
            return None
        index = self.src.scalar_index(target.column)
        if index is None:
            return None
        mask = _ask_index(index, node)
        if mask is None:
            return None
        nulls = np.asarray(index.is_null(), dtype=bool)
        if isinstance(node, ir.IsNull):
            return nulls.copy(), self.ones
        return np.asarray(mask, dtype=bool), ~nulls

    def path_by_index(self, node: ir.Predicate, target: ir.ColumnValue) -> Result | None:
        """A leaf on a JSON path or on ARRAY elements, from an index over that path.

        Validity stays the column's (a JSON path absent from a row is valid and simply
        does not match), so only the match mask comes from the index."""
        if target.element is not None or target.kind not in ("json", "array"):
            return None
        if isinstance(node, ir.Compare) and not isinstance(node.right, ir.Const):
            return None
        if not isinstance(node, (ir.Compare, ir.InSet, ir.LikeMatch, ir.Contains)):
            return None
        index = self.src.scalar_index(index_key(target.column, target.path))
        if index is None:
            return None
        if isinstance(node, ir.Contains):
            ask = getattr(index, "contains", None)
            mask = None if ask is None else ask(list(node.items), node.mode)
        else:
            mask = _ask_index(index, node)
        if mask is None:
            return None
        valid = self.validity(self.array(target.column))
        if not isinstance(node, ir.Contains):
            # a path index answers only literals of its cast type, so a row without a
            # value of that type at the path is unknown to the leaf, as in a scan
            valid = valid & ~np.asarray(index.is_null(), dtype=bool)
        return np.asarray(mask, dtype=bool) & valid, valid

    def geo_by_index(self, node: ir.Geo) -> Result | None:
        """A spatial leaf tested exactly on the rows an RTREE leaves as candidates,
        parsing only their geometries."""
        if node.wkt is None:
            return None
        index = self.src.scalar_index(node.field)
        ask = getattr(index, "spatial_candidates", None)
        if ask is None:
            return None
        candidates = ask(node.op, node.wkt, node.distance)
        if candidates is None:
            return None
        valid = ~np.asarray(index.is_null(), dtype=bool)  # type: ignore[union-attr]
        rows = np.nonzero(np.asarray(candidates, dtype=bool) & valid)[0]
        match = np.zeros(self.n, dtype=bool)
        if len(rows):
            try:
                geoms = _parse_geometries(self.array(node.field).take(pa.array(rows)))
                query = shapely.from_wkt(node.wkt)
                if node.op == "dwithin":
                    assert node.distance is not None
                    hit = _dwithin(geoms, query, node.distance)
                else:
                    hit = np.asarray(getattr(shapely, node.op)(geoms, query), dtype=bool)
            except shapely.errors.GEOSException as err:
                raise DataError(
                    f"cannot evaluate ST_{node.op.upper()} on field {node.field}: {err}"
                ) from None
            match[rows[hit]] = True
        return match, valid

    def compare(self, node: ir.Compare) -> Result:
        left = self.value(node.left)
        op = node.op
        if isinstance(node.right, ir.Const):
            value = node.right.value
            if left.kind == "json":
                return self.json_compare(left, op, value)
            if left.kind == "str":
                hit = _PC_CMP[op](left.data, pa.scalar(value, type=pa.string()))
                return _bool_np(hit) & left.valid, left.valid
            hit = _NP_CMP[op](left.data, _as_column_type(left.data, value))
            return np.asarray(hit, dtype=bool) & left.valid, left.valid
        right = self.value(node.right)
        valid = left.valid & right.valid
        if left.kind == "str":
            return _bool_np(_PC_CMP[op](left.data, right.data)) & valid, valid
        return np.asarray(_NP_CMP[op](left.data, right.data), dtype=bool) & valid, valid

    def json_compare(self, vec: _Vec, op: str, value: Any) -> Result:
        """A JSON value compares only with a literal of its kind: a missing path, a JSON
        null or a value of another kind is unknown (neither it nor its negation matches)."""
        values: JsonValues = vec.data
        if isinstance(value, bool):
            mask, data = values.bools()
            known = mask & vec.valid
            return known & _NP_CMP[op](data, value), known
        if isinstance(value, (int, float)):
            mask, nums = values.numbers()
            known = mask & vec.valid
            if isinstance(value, int):
                exact, ints = values.integers()
                inexact = mask & ~exact
                hit = (exact & _NP_CMP[op](ints, np.int64(value))) | (
                    inexact & _NP_CMP[op](nums, np.float64(value))
                )
                return hit & known, known
            return known & _NP_CMP[op](nums, np.float64(value)), known
        scalar = pa.scalar(value, type=pa.string())
        known = values.strings()[0] & vec.valid
        return values.string_test(lambda d: _PC_CMP[op](d, scalar)) & known, known

    def in_set(self, node: ir.InSet) -> Result:
        vec = self.value(node.value)
        if vec.kind == "json":
            known = _json_kinds(vec.data, node.values) & vec.valid
            return _json_in(vec.data, node.values) & known, known
        if not node.values:
            return np.zeros(self.n, dtype=bool), vec.valid
        if vec.kind == "str":
            hit = pc.is_in(vec.data, value_set=pa.array(node.values, type=pa.string()))
            return _bool_np(hit) & vec.valid, vec.valid
        items = np.asarray(node.values)
        if vec.data.dtype == np.float32 and items.dtype.kind in "if":
            items = items.astype(np.float32)
        return np.isin(vec.data, items) & vec.valid, vec.valid

    def like(self, node: ir.LikeMatch) -> Result:
        vec = self.value(node.value)
        if vec.kind == "json":
            known = vec.data.strings()[0] & vec.valid
            hit = vec.data.string_test(lambda d: pc.match_like(d, node.pattern))
            return hit & known, known
        return _bool_np(pc.match_like(vec.data, node.pattern)) & vec.valid, vec.valid

    def is_null(self, node: ir.IsNull) -> Result:
        vec = self.column(node.value)
        return ~vec.valid, self.ones

    def contains(self, node: ir.Contains) -> Result:
        vec = self.column(node.value)
        if vec.kind == "array":
            arr = vec.data
            flat = arr.flatten()
            parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False)
            is_list = vec.valid

            def element_hits(item: Any) -> Mask:
                if pa.types.is_string(flat.type) or pa.types.is_large_string(flat.type):
                    return _bool_np(pc.equal(flat, pa.scalar(item, type=pa.string())))
                return np.asarray(flat.to_numpy(zero_copy_only=False) == _scalar(item), dtype=bool)

        else:
            is_list, _, elements = vec.data.lists()
            parents = elements.parents

            def element_hits(item: Any) -> Mask:
                return _json_equal(elements, item)

        def rows(hits: Mask) -> Mask:
            out = np.zeros(self.n, dtype=bool)
            out[parents[hits]] = True
            return out

        if node.mode == "all":
            match = is_list & vec.valid
            for item in node.items:
                match = match & rows(element_hits(item))
        else:
            match = np.zeros(self.n, dtype=bool)
            for item in node.items:
                match |= rows(element_hits(item))
        return match & vec.valid, vec.valid

    def text_match(self, node: ir.TextMatch) -> Result:
        if node.slop is None:
            mask = self.src.text_match(node.field, node.query)
            name = "text_match"
        else:
            mask = self.src.phrase_match(node.field, node.query, node.slop)
            name = "phrase_match"
        if mask is None:
            raise NotSupportedError(
                f"{name} on field {node.field} requires an analyzer-enabled field with a "
                "match index, which this segment does not have"
            )
        valid = self.validity(self.array(node.field))
        return np.asarray(mask, dtype=bool) & valid, valid

    def geo(self, node: ir.Geo) -> Result:
        try:
            return self._geo(node)
        except shapely.errors.GEOSException as err:
            raise DataError(
                f"cannot evaluate ST_{node.op.upper()} on field {node.field}: {err}"
            ) from None

    def _geo(self, node: ir.Geo) -> Result:
        arr = self.array(node.field)
        vec = self.plain(arr, "geo", self.validity(arr))
        geoms = vec.data
        if node.op == "isvalid":
            return shapely.is_valid(geoms) & vec.valid, vec.valid
        query = shapely.from_wkt(node.wkt)
        if node.op == "dwithin":
            assert node.distance is not None
            return _dwithin(geoms, query, node.distance) & vec.valid, vec.valid
        fn = getattr(shapely, node.op)
        return np.asarray(fn(geoms, query), dtype=bool) & vec.valid, vec.valid


def _ask_index(index: ScalarIndex, node: ir.Predicate) -> Mask | None:
    if isinstance(node, ir.IsNull):
        return np.asarray(index.is_null(), dtype=bool)
    if isinstance(node, ir.InSet):
        return index.equal(list(node.values))
    if isinstance(node, ir.LikeMatch):
        return index.like(node.pattern)
    assert isinstance(node, ir.Compare) and isinstance(node.right, ir.Const)
    v = node.right.value
    if node.op == "==":
        return index.equal([v])
    if node.op == "<":
        return index.range(None, False, v, False)
    if node.op == "<=":
        return index.range(None, False, v, True)
    if node.op == ">":
        return index.range(v, False, None, False)
    return index.range(v, True, None, False)


def _json_kinds(values: JsonValues, items: Sequence[Any]) -> Mask:
    """Rows whose JSON value is of a kind some item has: only those are known."""
    out = np.zeros(values.n, dtype=bool)
    if any(isinstance(v, bool) for v in items):
        out |= values.bools()[0]
    if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        out |= values.numbers()[0]
    if any(isinstance(v, str) for v in items):
        out |= values.strings()[0]
    return out


def _json_in(values: JsonValues, items: Sequence[Any]) -> Mask:
    out = np.zeros(values.n, dtype=bool)
    bools = [v for v in items if isinstance(v, bool)]
    nums = [v for v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]
    strs = [v for v in items if isinstance(v, str)]
    if bools:
        mask, data = values.bools()
        out |= mask & np.isin(data, np.asarray(bools, dtype=bool))
    if nums:
        mask, data = values.numbers()
        ints = [v for v in nums if isinstance(v, int)]
        floats = [v for v in nums if isinstance(v, float)]
        exact, int_data = values.integers()
        if ints:
            out |= exact & np.isin(int_data, np.asarray(ints, dtype=np.int64))
            out |= mask & ~exact & np.isin(data, np.asarray(ints, dtype=np.float64))
        if floats:
            out |= mask & np.isin(data, np.asarray(floats, dtype=np.float64))
    if strs:
        value_set = pa.array(strs, type=pa.string())
        out |= values.string_test(lambda d: pc.is_in(d, value_set=value_set))
    return out


def _json_equal(values: JsonValues, item: Any) -> Mask:
    """Values equal to ``item``: a scalar as in ``_json_in``; a list when it is a JSON
    array of the same length whose elements are equal position by position."""
    if not isinstance(item, list):
        return _json_in(values, (item,))
    is_list, lengths, elements = values.lists()
    out = is_list & (lengths == len(item))
    # Each list's elements sit at [start, start + length) of ``elements``.
    starts = np.cumsum(lengths) - lengths
    for j, part in enumerate(item):
        rows = np.flatnonzero(out)
        if len(rows) == 0:
            break
        out[rows] = _json_equal(elements, part)[starts[rows] + j]
    return out


def _parse_geometries(arr: pa.Array) -> np.ndarray:
    texts = np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)
    return shapely.from_wkt(texts, on_invalid="ignore")  # type: ignore[no-any-return]


def _dwithin(geoms: np.ndarray, query: Any, meters: float) -> Mask:
    """Great-circle distance in meters between each geometry's nearest point to the
    query and the query (coordinates are longitude, latitude in degrees)."""
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    out = np.zeros(len(geoms), dtype=bool)
    if not present.any() or shapely.is_empty(query):
        return out
    lines = shapely.shortest_line(geoms, query)
    present &= ~shapely.is_missing(lines)
    coords = shapely.get_coordinates(lines[present]).reshape(-1, 2, 2)
    lon1, lat1 = np.radians(coords[:, 0, 0]), np.radians(coords[:, 0, 1])
    lon2, lat2 = np.radians(coords[:, 1, 0]), np.radians(coords[:, 1, 1])
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    dist = 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    out[present] = dist <= meters
    return out


def evaluate(predicate: ir.Predicate, source: ColumnSource) -> np.ndarray:
    """The rows of ``source`` that ``predicate`` selects, as a bool array."""
    match, _ = _Evaluator(source).pred(predicate)
    return np.ascontiguousarray(match, dtype=bool)
