"""Fuzzing the filter language: any text with any template values compiles and
evaluates to a row mask, or is refused with an ElanusError; nothing else escapes.
``scripts/fuzz.py filter`` runs the same check over millions of inputs."""

from __future__ import annotations

import random

from filter_fuzz_inputs import check_filter, filter_text, mutate, template_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FAST = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@FAST
@given(st.randoms(use_true_random=False))
def test_generated_filters_with_template_values_never_leak(rng: random.Random) -> None:
    text = filter_text(rng)
    params = template_values(rng) if rng.random() < 0.8 else None
    assert check_filter(text, params) in ("ok", "refused")


# Every code point, lone surrogates included (hypothesis leaves those out by default).
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=80)


@FAST
@given(ANY_TEXT)
def test_arbitrary_text_never_leaks(text: str) -> None:
    assert check_filter(text, None) in ("ok", "refused")


@FAST
@given(
    st.randoms(use_true_random=False), st.text(st.characters(exclude_categories=()), max_size=12)
)
def test_mutated_filters_never_leak(rng: random.Random, noise: str) -> None:
    text = mutate(rng, filter_text(rng))
    pos = rng.randrange(len(text) + 1)
    text = text[:pos] + noise + text[pos:]
    assert check_filter(text, template_values(rng)) in ("ok", "refused")
