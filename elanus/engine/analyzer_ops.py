"""``run_analyzer``: the tokens an analyzer makes, for ad-hoc params or a field's own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from elanus.engine.api import DEFAULT_DATABASE
from elanus.engine.state import EngineState
from elanus.errors import ParameterError
from elanus.text import AnalyzeResult, run_analyzer

__all__ = ["AnalyzerOperations"]


class AnalyzerOperations(EngineState):
    def run_analyzer(
        self,
        texts: str | Sequence[str],
        analyzer_params: Mapping[str, Any] | str | None = None,
        *,
        with_detail: bool = False,
        with_hash: bool = False,
        db: str = DEFAULT_DATABASE,
        collection: str | None = None,
        field: str | None = None,
        analyzer_names: str | Sequence[str] | None = None,
    ) -> AnalyzeResult | list[AnalyzeResult]:
        """Analyse ``texts`` with ``analyzer_params``, or with the analyzer of
        ``collection``.``field`` when both are given (as Milvus's RunAnalyzer does)."""
        params: Mapping[str, Any] | str | None = analyzer_params
        if collection:
            if not field:
                raise ParameterError("run_analyzer with a collection needs a field name")
            _, data = self._data(db or DEFAULT_DATABASE, collection)
            fs = data.schema.get(field)
            if fs is None:
                raise ParameterError(f"field {field} not found in collection {collection}")
            if not fs.enable_analyzer:
                raise ParameterError(f"field {field} does not enable analyzer")
            multi = fs.params.get("multi_analyzer_params")
            params = multi if multi else (fs.analyzer_params or {})
        return run_analyzer(
            texts,
            params,
            with_detail=with_detail,
            with_hash=with_hash,
            analyzer_names=analyzer_names,
        )
