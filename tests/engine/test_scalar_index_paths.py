"""JSON path, ARRAY and RTREE indexes through the engine: results identical with and
without them, several path indexes per JSON field, saved beside the segment and
loaded on reopen without a rebuild, and Milvus's rules for what may be indexed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import elanus.engine.scalar_indexes as scalar_builds
from elanus.engine.engine import Engine
from elanus.engine.requests import IndexSpec, QueryRequest
from elanus.errors import FieldNotFound, NotSupportedError, ParameterError
from elanus.index.scalar import ArrayIndex, JsonPathIndex, RTreeIndex
from elanus.schema import CollectionSchema, DataType, FieldSchema

N = 400


def _schema() -> CollectionSchema:
    return CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 2}),
            FieldSchema("meta", DataType.JSON, nullable=True),
            FieldSchema(
                "tags", DataType.ARRAY, element_type=DataType.INT64, params={"max_capacity": 4}
            ),
            FieldSchema("geo", DataType.GEOMETRY, nullable=True),
        ),
        enable_dynamic_field=True,
    )


def _meta(i: int, rng: np.random.Generator) -> str | None:
    if i % 17 == 0:
        return None
    doc: dict[str, Any] = {"k": i % 7}
    kind = i % 5
    a: Any = {0: int(rng.integers(-5, 5)), 1: float(rng.normal()), 2: f"s{i % 9}", 3: i % 2 == 0}
    value = a.get(kind, [int(i % 4), f"s{i % 3}", 2.5])
    # the same mixed-type value under a path per cast type
    doc.update({"a": {"b": value}, "c": value, "d": value, "e": value})
    if i % 11 == 0:
        doc.pop("a")
    return json.dumps(doc)


def _columns() -> dict[str, Any]:
    rng = np.random.default_rng(5)
    ids = list(range(N))
    x, y = rng.uniform(-10, 10, N), rng.uniform(-10, 10, N)
    geo = [
        None
        if i % 13 == 0
        else (
            f"POINT ({x[i]:.4f} {y[i]:.4f})"
            if i % 3
            else f"POLYGON (({x[i]} {y[i]}, {x[i] + 1} {y[i]}, {x[i] + 1} {y[i] + 1}, {x[i]} {y[i]}))"
        )
        for i in ids
    ]
    dynamic = [json.dumps({"color": ["red", "blue", "green"][i % 3], "w": i % 10}) for i in ids]
    return {
        "id": ids,
        "vec": rng.random((N, 2), dtype=np.float32),
        "meta": [_meta(i, rng) for i in ids],
        "tags": [[int(v) for v in rng.integers(0, 6, i % 4)] for i in ids],
        "geo": geo,
        "$meta": dynamic,
    }


INDEXES = [
    IndexSpec(
        "meta",
        "INVERTED",
        "m_ab_num",
        params={"json_path": 'meta["a"]["b"]', "json_cast_type": "double"},
    ),
    IndexSpec(
        "meta",
        "AUTOINDEX",
        "m_ab_str",
        params={"json_path": "meta['c']", "json_cast_type": "VARCHAR"},
    ),
    IndexSpec(
        "meta",
        "INVERTED",
        "m_ab_bool",
        params={"json_path": 'meta["d"]', "json_cast_type": "BOOL"},
    ),
    IndexSpec(
        "meta",
        "INVERTED",
        "m_ab_arr",
        params={"json_path": 'meta["e"]', "json_cast_type": "ARRAY_DOUBLE"},
    ),
    IndexSpec(
        "meta", "INVERTED", "m_k", params={"json_path": 'meta["k"]', "json_cast_type": "DOUBLE"}
    ),
    IndexSpec(
        "color", "INVERTED", "dyn_color", params={"json_path": "color", "json_cast_type": "VARCHAR"}
    ),
    IndexSpec("tags", "INVERTED", "tags_idx"),
    IndexSpec("geo", "RTREE", "geo_idx"),
]
FILTERS = [
    'meta["a"]["b"] == 1',
    'meta["a"]["b"] > 0.5',
    'meta["a"]["b"] <= -2',
    'meta["a"]["b"] in [1, 2, -3, 0.5]',
    'meta["c"] == "s3"',
    'meta["c"] >= "s4"',
    'meta["c"] like "s%"',
    'meta["c"] in ["s1", "s2"]',
    'meta["d"] == true',
    'not (meta["d"] == true)',
    'meta["a"]["b"] != 2',
    'json_contains(meta["e"], 2.5)',
    'json_contains_any(meta["e"], [1, 3])',
    'json_contains_all(meta["e"], [2.5, 0])',
    'json_contains(meta["e"], "s1")',
    'meta["k"] < 3 and meta["a"]["b"] > 0',
    'meta["c"] == 1',
    'meta["e"] == 1',
    'not (meta["k"] == 2)',
    'color == "red"',
    'color in ["red", "green"] or w > 7',
    "array_contains(tags, 3)",
    "array_contains_all(tags, [1, 2])",
    "array_contains_any(tags, [0, 5])",
    "not array_contains(tags, 3)",
    "ST_INTERSECTS(geo, 'POLYGON ((0 0, 5 0, 5 5, 0 5, 0 0))')",
    "ST_WITHIN(geo, 'POLYGON ((-5 -5, 5 -5, 5 5, -5 5, -5 -5))')",
    "ST_CONTAINS(geo, 'POINT (1 1)')",
    "not ST_INTERSECTS(geo, 'POLYGON ((0 0, 5 0, 5 5, 0 5, 0 0))')",
    "ST_DWITHIN(geo, 'POINT (0 0)', 300000)",
    "ST_TOUCHES(geo, 'LINESTRING (0 0, 3 3)')",
]


def _query(e: Engine, expr: str) -> list[int]:
    got = e.query("default", "c", QueryRequest(filter=expr, output_fields=["id"]))
    return sorted(np.asarray(got.columns["id"]).tolist())


def _engine(path: Path) -> Engine:
    e = Engine.open(str(path), background=False)
    e.create_collection("default", "c", _schema())
    cols = _columns()
    e.insert("default", "c", cols, N)
    e.flush("default", "c")
    return e


def test_results_identical_with_and_without_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    for cls, method in (
        (RTreeIndex, "spatial_candidates"),
        (ArrayIndex, "contains"),
        (JsonPathIndex, "equal"),
        (JsonPathIndex, "range"),
    ):
        original = getattr(cls, method)

        def spy(self: Any, *args: Any, _o: Any = original, _n: str = method, **kw: Any) -> Any:
            asked.append(_n)
            return _o(self, *args, **kw)

        monkeypatch.setattr(cls, method, spy)
    with _engine(tmp_path) as e:
        expected = {f: _query(e, f) for f in FILTERS}
        for spec in INDEXES:
            e.create_index("default", "c", spec)
        for spec in INDEXES:
            info = e.describe_index("default", "c", spec.index_name)
            assert (info.indexed_rows, info.state) == (N, "Finished")
        seg = e.collections[e._meta("default", "c").collection_id].snapshot.segments[0].data
        assert seg.scalar_index('meta["a"]["b"]') is not None
        assert seg.scalar_index('$meta["color"]') is not None
        assert seg.scalar_index("geo") is not None
        for f in FILTERS:
            assert _query(e, f) == expected[f], f
        assert any(expected[f] for f in FILTERS)
        assert {"spatial_candidates", "contains", "equal", "range"} <= set(asked)


def test_indexes_load_on_reopen_without_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _engine(tmp_path) as e:
        for spec in INDEXES:
            e.create_index("default", "c", spec)
        expected = {f: _query(e, f) for f in FILTERS}

    def no_build(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an index was rebuilt instead of loaded")

    monkeypatch.setattr(scalar_builds, "create_scalar_index", no_build)
    with Engine.open(str(tmp_path), background=False) as e:
        seg = e.collections[e._meta("default", "c").collection_id].snapshot.segments[0].data
        assert seg.scalar_index("tags") is not None
        for spec in INDEXES:
            info = e.describe_index("default", "c", spec.index_name)
            assert info.indexed_rows == N
        for f in FILTERS:
            assert _query(e, f) == expected[f], f


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        (
            IndexSpec("meta", "INVERTED", "x", params={"json_path": 'meta["a"]'}),
            ParameterError,
            "json_cast_type",
        ),
        (
            IndexSpec(
                "meta", "INVERTED", "x", params={"json_path": 'meta["a"]', "json_cast_type": "INT8"}
            ),
            ParameterError,
            "not supported",
        ),
        (
            IndexSpec(
                "meta", "BITMAP", "x", params={"json_path": 'meta["a"]', "json_cast_type": "DOUBLE"}
            ),
            ParameterError,
            "BITMAP index on a JSON path takes json_cast_type BOOL or VARCHAR",
        ),
        (
            IndexSpec(
                "meta",
                "INVERTED",
                "x",
                params={"json_path": 'other["a"]', "json_cast_type": "DOUBLE"},
            ),
            ParameterError,
            "must start with the field name",
        ),
        (
            IndexSpec(
                "meta", "INVERTED", "x", params={"json_path": "meta[a]", "json_cast_type": "DOUBLE"}
            ),
            ParameterError,
            "invalid json_path",
        ),
        (
            IndexSpec(
                "meta",
                "INVERTED",
                "x",
                params={"json_cast_type": "DOUBLE", "json_cast_function": "STRING_TO_DOUBLE"},
            ),
            NotSupportedError,
            "json_cast_function",
        ),
        (IndexSpec("geo", "INVERTED", "x"), ParameterError, "use RTREE"),
        (IndexSpec("id", "RTREE", "x"), ParameterError, "only be built on a GEOMETRY field"),
        (IndexSpec("tags", "TRIE", "x"), ParameterError, "ARRAY field tags"),
        (
            IndexSpec("id", "INVERTED", "x", params={"json_cast_type": "DOUBLE"}),
            ParameterError,
            "only to JSON fields",
        ),
    ],
)
def test_bad_combinations_are_refused(
    tmp_path: Path, spec: IndexSpec, error: type, message: str
) -> None:
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", _schema())
        with pytest.raises(error, match=message):
            e.create_index("default", "c", spec)
        assert e.list_indexes("default", "c") == []


def test_unknown_field_without_dynamic_field(tmp_path: Path) -> None:
    schema = CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 2}),
        )
    )
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", schema)
        with pytest.raises(FieldNotFound):
            e.create_index("default", "c", IndexSpec("nope", "INVERTED", "x"))


def test_same_path_twice_under_another_name_is_refused(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", _schema())
        e.create_index("default", "c", INDEXES[0])
        e.create_index("default", "c", INDEXES[0])  # the same request again is fine
        with pytest.raises(
            Exception, match="creating multiple indexes on same field is not supported"
        ):
            e.create_index(
                "default",
                "c",
                IndexSpec("meta", "INVERTED", "other", params=dict(INDEXES[0].params)),
            )
        e.drop_index("default", "c", "m_ab_num") if not e._meta("default", "c").loaded else None


def test_index_properties_alter_and_drop(tmp_path: Path) -> None:
    with _engine(tmp_path) as e:
        e.create_index("default", "c", INDEXES[6])
        e.alter_index_properties("default", "c", "tags_idx", {"mmap.enabled": "True"})
        assert e.describe_index("default", "c", "tags_idx").properties == {"mmap.enabled": "true"}
        with pytest.raises(ParameterError, match="mmap.enabled"):
            e.alter_index_properties("default", "c", "tags_idx", {"mmap.enabled": "maybe"})
        e.drop_index_properties("default", "c", "tags_idx", ["mmap.enabled"])
        assert e.describe_index("default", "c", "tags_idx").properties == {}
