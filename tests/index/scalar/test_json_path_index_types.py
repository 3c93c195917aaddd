"""A JSON path index of each type Milvus takes on a path (INVERTED, STL_SORT, BITMAP;
cast JSON) answers as INVERTED does, before and after save and load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from elanus.errors import ParameterError
from elanus.index.scalar import JsonPathIndex, create_scalar_index, load_scalar_index
from elanus.schema import DataType, FieldSchema

JSON = FieldSchema("j", DataType.JSON, nullable=True)
VALUES = {
    "DOUBLE": pa.array([1.5, None, -2.0, 1.5, 9.0, 0.0] * 3, pa.float64()),
    "VARCHAR": pa.array(["ab", None, "b", "ab", "abc", ""] * 3),
    "BOOL": pa.array([True, None, False, True, False, True] * 3),
}
QUESTIONS: dict[str, list[tuple[str, tuple[Any, ...]]]] = {
    "DOUBLE": [
        ("equal", ([1.5, 9],)),
        ("range", (0, True, 2, False)),
        ("range", (None, False, 0, True)),
    ],
    "VARCHAR": [("equal", (["ab"],)), ("range", ("ab", False, None, False)), ("like", ("ab%",))],
    "BOOL": [("equal", ([True],)), ("equal", ([False],))],
}


def _answers(index: JsonPathIndex, cast: str) -> list[Any]:
    out = [index.is_null().tolist()]
    for name, args in QUESTIONS[cast]:
        mask = getattr(index, name)(*args)
        out.append(None if mask is None else np.asarray(mask).tolist())
    return out


@pytest.mark.parametrize(
    ("index_type", "cast"),
    [("STL_SORT", "DOUBLE"), ("STL_SORT", "VARCHAR"), ("BITMAP", "BOOL"), ("BITMAP", "VARCHAR")],
)
def test_path_index_types_answer_as_inverted(tmp_path: Path, index_type: str, cast: str) -> None:
    params = {"json_cast_type": cast, "json_path": "j['a']"}
    reference = create_scalar_index("INVERTED", JSON, VALUES[cast], params)
    index = create_scalar_index(index_type, JSON, VALUES[cast], params)
    assert isinstance(index, JsonPathIndex) and index.index_type == index_type
    assert _answers(index, cast) == _answers(reference, cast)
    index.save(str(tmp_path / "idx"))
    loaded = load_scalar_index(str(tmp_path / "idx"))
    assert isinstance(loaded, JsonPathIndex) and loaded.index_type == index_type
    assert _answers(loaded, cast) == _answers(reference, cast)


def test_json_cast_index_leaves_every_question_to_the_scan() -> None:
    index = create_scalar_index(
        "INVERTED", JSON, pa.array(["1", None, "x"]), {"json_cast_type": "json"}
    )
    assert isinstance(index, JsonPathIndex)
    assert index.equal([1]) is None and index.equal(["x"]) is None
    assert index.range(0, True, None, False) is None and index.like("x%") is None


@pytest.mark.parametrize(
    ("index_type", "cast"), [("STL_SORT", "BOOL"), ("BITMAP", "DOUBLE"), ("STL_SORT", "JSON")]
)
def test_path_index_types_refuse_other_casts(index_type: str, cast: str) -> None:
    with pytest.raises(ParameterError, match="on a JSON path takes json_cast_type"):
        create_scalar_index(
            index_type, JSON, VALUES.get(cast, VALUES["DOUBLE"]), {"json_cast_type": cast}
        )
