"""Fuzzing the filter language: any text with any template values compiles and
evaluates to a row mask, or is refused with an ElanusError; nothing else escapes.
``scripts/fuzz.py filter`` runs the same check over millions of inputs."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

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


def test_the_long_run_fuzzer_runs_a_short_session(tmp_path: Path) -> None:
    report = tmp_path / "fuzz.json"
    script = Path(__file__).resolve().parents[2] / "scripts" / "fuzz.py"
    command = [sys.executable, str(script), "filter", "--count", "300", "--engine", "random"]
    done = subprocess.run(
        [*command, "--report", str(report)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (summary,) = json.loads(report.read_text())
    assert summary["inputs"] == 300 and not summary["findings"]
    assert set(summary["outcomes"]) <= {"ok", "refused"}
