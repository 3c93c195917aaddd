"""``run_analyzer``: the tokens an analyzer makes, in pymilvus's result shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from elanus.errors import ParameterError
from elanus.text.analyzer import (
    Analyzer,
    create_analyzer,
    create_multi_analyzer,
    normalize_analyzer_params,
)
from elanus.text.bm25 import term_hash

__all__ = ["AnalyzeResult", "run_analyzer"]


@dataclass(frozen=True)
class AnalyzeResult:
    """One text's tokens, shaped as pymilvus's ``AnalyzeResult.tokens``.

    Without detail or hash: a list of token strings. Otherwise a list of dicts with
    ``token`` and, as asked, ``start_offset``, ``end_offset``, ``position``,
    ``position_length`` (offsets in UTF-8 bytes) and ``hash`` (the BM25 dim).
    """

    tokens: list[Any]

    def __str__(self) -> str:
        return str(self.tokens)


def _one(analyzer: Analyzer, text: str, with_detail: bool, with_hash: bool) -> AnalyzeResult:
    tokens = analyzer.tokenize(text)
    if not with_detail and not with_hash:
        return AnalyzeResult([t.text for t in tokens])
    out: list[Any] = []
    for t in tokens:
        item: dict[str, Any] = {"token": t.text}
        if with_detail:
            item["start_offset"] = t.start_offset
            item["end_offset"] = t.end_offset
            item["position"] = t.position
            item["position_length"] = t.position_length
        if with_hash:
            item["hash"] = term_hash(t.text)
        out.append(item)
    return AnalyzeResult(out)


def run_analyzer(
    texts: str | Sequence[str],
    analyzer_params: Mapping[str, Any] | str | None = None,
    *,
    with_detail: bool = False,
    with_hash: bool = False,
    analyzer_names: str | Sequence[str] | None = None,
) -> AnalyzeResult | list[AnalyzeResult]:
    """Analyse ``texts``: one result for a string, a list of results for a list.

    ``analyzer_params`` may be multi-analyzer params (``by_field``/``analyzers``);
    then ``analyzer_names`` picks the analyzer (one name for all texts, or one per
    text; unknown names fall back to ``default``).
    """
    conf = normalize_analyzer_params(analyzer_params)
    batch = [texts] if isinstance(texts, str) else list(texts)
    if not all(isinstance(t, str) for t in batch):
        raise ParameterError("run_analyzer texts must be strings")
    if "analyzers" in conf:
        multi = create_multi_analyzer(conf)
        if analyzer_names is None or isinstance(analyzer_names, str):
            names = [analyzer_names] * len(batch)
        else:
            names = list(analyzer_names)
            if len(names) != len(batch):
                raise ParameterError(
                    "analyzer_names must be one name or one name per text, "
                    f"got {len(names)} names for {len(batch)} texts"
                )
        results = [
            _one(multi.select(n), t, with_detail, with_hash)
            for t, n in zip(batch, names, strict=True)
        ]
    else:
        analyzer = create_analyzer(conf)
        results = [_one(analyzer, t, with_detail, with_hash) for t in batch]
    return results[0] if isinstance(texts, str) else results
