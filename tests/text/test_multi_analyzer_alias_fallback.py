"""A multi-analyzer alias naming an analyzer that is not defined falls back to default."""

from __future__ import annotations

import pytest

from elanus.errors import ParameterError
from elanus.text.analyzer import create_multi_analyzer

PARAMS = {
    "by_field": "language",
    "analyzers": {"en": {"type": "english"}, "default": {"tokenizer": "whitespace"}},
    "alias": {"eng": "en", "fr": "fr"},
}


def test_alias_to_a_missing_analyzer_uses_default() -> None:
    multi = create_multi_analyzer(PARAMS)
    assert multi.resolve("eng") == "en"
    assert multi.resolve("fr") == "default"
    # The default analyzer keeps stop words and case; English drops and folds them.
    assert [t.text for t in multi.tokenize("The Cats", "fr")] == ["The", "Cats"]
    assert [t.text for t in multi.tokenize("The Cats", "eng")] == ["cat"]


def test_alias_must_be_a_name() -> None:
    with pytest.raises(ParameterError, match="must name an analyzer"):
        create_multi_analyzer({**PARAMS, "alias": {"fr": 3}})
