"""Schema rules for text fields analysed by ``multi_analyzer_params``.

A multi-analyzer field picks each row's analyzer from the value of another
VARCHAR field (``by_field``), falling back to a ``default`` analyzer. Milvus
allows it only as a BM25 input: ``text_match``/``phrase_match`` need one
analyzer for the whole field (the query is analysed once against every row), so
``enable_match`` on such a field is refused when the collection is created, as
is mixing ``analyzer_params`` with ``multi_analyzer_params``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from elanus.errors import SchemaError
from elanus.schema.field import FieldSchema
from elanus.schema.types import DataType

__all__ = ["check_multi_analyzer_fields", "multi_analyzer_params"]


def multi_analyzer_params(field: FieldSchema) -> Any:
    """The field's ``multi_analyzer_params`` as given (JSON text decoded), or ``None``."""
    raw = field.params.get("multi_analyzer_params")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SchemaError(
                f"invalid multi analyzer params of field {field.name}: {raw}"
            ) from exc
    return raw


def _check_params(field: FieldSchema, params: Any, by_name: Mapping[str, FieldSchema]) -> None:
    if not isinstance(params, Mapping):
        raise SchemaError(f"multi analyzer params of field {field.name} must be a json object")
    if "by_field" not in params:
        raise SchemaError(
            "multi analyzer params now must set by_field to specify with field decide analyzer"
        )
    by_field = params["by_field"]
    if not isinstance(by_field, str):
        raise SchemaError(f"multi analyzer params by_field must be string but now: {by_field!r}")
    source = by_name.get(by_field)
    if source is None:
        raise SchemaError(f'multi analyzer dependent field "{by_field}" not exist in collection')
    if source.dtype != DataType.VARCHAR:
        raise SchemaError(
            "multi analyzer params now only support by string field, "
            f"but field {by_field} is not string"
        )
    alias = params.get("alias", {})
    if not isinstance(alias, Mapping) or not all(isinstance(v, str) for v in alias.values()):
        raise SchemaError(f"multi analyzer alias must be string map but now: {alias!r}")
    analyzers = params.get("analyzers")
    if analyzers is None:
        raise SchemaError("multi analyzer params must set analyzers")
    if not isinstance(analyzers, Mapping):
        raise SchemaError(f"multi analyzer analyzers must be a json object, got {analyzers!r}")
    if "default" not in analyzers:
        raise SchemaError("multi analyzer must set default analyzer for all unknown value")


def check_multi_analyzer_fields(
    fields: Sequence[FieldSchema], bm25_inputs: set[str] | frozenset[str] = frozenset()
) -> None:
    """Refuse what Milvus refuses about multi-analyzer fields (``SchemaError``).

    Checked on fields with ``enable_match`` or fed to a BM25 function (the ones
    Milvus analyses): no ``enable_match``, no ``analyzer_params`` beside the
    multi params, and a ``by_field`` that is an existing VARCHAR field.
    """
    by_name = {f.name: f for f in fields}
    for f in fields:
        params = multi_analyzer_params(f)
        if params is None or not (f.enable_match or f.name in bm25_inputs):
            continue
        if f.enable_match:
            raise SchemaError(
                f"multi analyzer now only support for bm25, but now field {f.name} enable match"
            )
        if f.params.get("analyzer_params"):
            raise SchemaError(
                f"field {f.name} analyzer params should be none if has multi analyzer params"
            )
        _check_params(f, params, by_name)
