"""Each benchmark workload runs end to end on a tiny size (no timing is checked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import run


@pytest.fixture(autouse=True)
def _results_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELANUS_BENCH_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("ELANUS_BENCH_CACHE", str(tmp_path / "cache"))
    import benchmarks.datasets
    import benchmarks.report

    monkeypatch.setattr(benchmarks.report, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(benchmarks.datasets, "CACHE", tmp_path / "cache")


TINY = ["--rows", "600", "--budget", "0.2", "--batch", "200", "--peers", "faiss,elanus"]


@pytest.mark.parametrize(
    "argv",
    [
        ["search", *TINY, "--indexes", "FLAT,HNSW"],
        ["filtered", *TINY],
        ["ingest", *TINY, "--quick"],
    ],
    ids=lambda a: a[0],
)
def test_workload_runs_on_tiny_data(argv: list[str], tmp_path: Path) -> None:
    assert run.main(argv) == 0
    reports = list((tmp_path / "results").glob("*.json"))
    assert reports, "the workload wrote no report"
    rows = json.loads(reports[0].read_text())["rows"]
    assert {row["peer"] for row in rows} >= {"elanus"}, "Elanus produced no figures"
