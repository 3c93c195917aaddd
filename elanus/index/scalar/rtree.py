"""RTREE on a GEOMETRY field: an STRtree (shapely 2, GEOS) over each row's bounding box.

The index answers with *candidates*: every row whose geometry could satisfy a spatial
predicate (its box meets the query's box, or for ST_DWITHIN the query's box grown by
the distance on the sphere). The filter then tests the predicate exactly on those
rows only, so results equal a full scan's while the scan's parse and test of every
geometry is skipped. Only the boxes are saved; the tree is rebuilt from them on load,
which is a bulk GEOS call.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

from elanus.index.scalar.indexes import SavedIndex

__all__ = ["RTreeIndex"]

_EARTH_RADIUS_M = 6_371_008.8
# ops whose matches all have boxes meeting the query's box (for a non-empty query)
_BOX_OPS = frozenset(
    {"equals", "touches", "overlaps", "crosses", "contains", "intersects", "within"}
)
_SLACK_DEG = 1e-9


class RTreeIndex(SavedIndex):
    """Bounding boxes (``bounds``: rows × [xmin, ymin, xmax, ymax], NaN for null,
    unparsable or empty geometries) in an STRtree."""

    index_type = "RTREE"

    def __init__(self, column: pa.Array) -> None:
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        texts = np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
        geoms = shapely.from_wkt(texts, on_invalid="ignore")
        self._attach(
            np.asarray(shapely.bounds(geoms), dtype=np.float64),
            np.asarray(shapely.is_missing(geoms), dtype=bool),
        )

    def _attach(self, bounds: np.ndarray, missing: np.ndarray) -> None:
        self.bounds, self.missing = bounds, missing
        self.num_rows = len(missing)
        self.rows = np.nonzero(~np.isnan(bounds[:, 0]))[0]
        b = bounds[self.rows]
        self.tree = shapely.STRtree(shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3]))
        self.extent = (
            (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))
            if len(b)
            else None
        )

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray | pa.Array]]:
        return {}, {"bounds": self.bounds, "missing": self.missing}

    @classmethod
    def restore(cls, meta: dict[str, Any], arrays: dict[str, Any]) -> RTreeIndex:
        index = cls.__new__(cls)
        index._attach(arrays["bounds"], arrays["missing"])
        return index

    def is_null(self) -> np.ndarray:
        """Rows with no geometry to test (null or unparsable WKT)."""
        return self.missing.copy()

    def spatial_candidates(
        self, op: str, wkt: str, distance: float | None = None
    ) -> np.ndarray | None:
        """A superset of the rows where ``ST_<op>(field, wkt[, distance])`` holds, or
        None when the boxes cannot narrow the question."""
        try:
            query = shapely.from_wkt(wkt)
        except shapely.errors.GEOSException:
            return None
        if query is None or shapely.is_empty(query):
            return None
        qx0, qy0, qx1, qy1 = (float(v) for v in shapely.bounds(query))
        if op in _BOX_OPS:
            boxes = [(qx0, qy0, qx1, qy1)]
        elif op == "dwithin" and distance is not None:
            found = self._distance_boxes((qx0, qy0, qx1, qy1), float(distance))
            if found is None:
                return None
            boxes = found
        else:
            return None
        out = np.zeros(self.num_rows, dtype=bool)
        for x0, y0, x1, y1 in boxes:
            hit = self.tree.query(shapely.box(x0, y0, x1, y1))
            out[self.rows[hit]] = True
        return out

    def _distance_boxes(
        self, q: tuple[float, float, float, float], meters: float
    ) -> list[tuple[float, float, float, float]] | None:
        """Boxes holding every point within ``meters`` (great circle, lon/lat degrees)
        of the query box: latitude grows by the distance's angle; longitude by the
        widest angle that distance spans at the highest latitude reached, repeated
        every 360° because the haversine distance wraps around."""
        if self.extent is None:
            return [q]
        x0, y0, x1, y1 = q
        ex0, ey0, ex1, ey1 = self.extent
        if min(y0, ey0) < -90 or max(y1, ey1) > 90 or meters < 0 or not math.isfinite(meters):
            return None
        angle = meters / _EARTH_RADIUS_M
        if angle >= math.pi / 2:
            return None
        dlat = math.degrees(angle) + _SLACK_DEG
        lo, hi = y0 - dlat, y1 + dlat
        top = max(abs(lo), abs(hi))
        if top >= 90:
            return [(ex0, max(lo, -90.0), ex1, min(hi, 90.0))]
        s = math.sin(angle / 2) / math.cos(math.radians(top))
        if s >= 1:
            return [(ex0, lo, ex1, hi)]
        dlon = math.degrees(2 * math.asin(s)) + _SLACK_DEG
        first = math.floor((ex0 - (x1 + dlon)) / 360)
        last = math.ceil((ex1 - (x0 - dlon)) / 360)
        return [(x0 - dlon + 360 * k, lo, x1 + dlon + 360 * k, hi) for k in range(first, last + 1)]
