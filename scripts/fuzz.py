#!/usr/bin/env python3
"""Long-run fuzzing of Elanus's three input doors: the filter language, gRPC request
decoding and REST v2 bodies (the test suite runs a short version of each:
tests/expr/test_filter_fuzz.py, tests/server/test_request_fuzz_grpc.py,
tests/server/test_rest_body_fuzz.py, with the same generators).

Every input must end in a result or an Elanus error (a Milvus status / envelope);
anything else is a finding, recorded with the input that caused it.

    scripts/fuzz.py filter --count 1000000            # atheris, coverage-guided
    scripts/fuzz.py grpc --budget 300 --engine random # seeded random, no atheris
    scripts/fuzz.py all --budget 1200 --report fuzz-report.json

``--engine atheris`` (the default when it is installed: ``pip install -e .[fuzz]``)
lets libFuzzer mutate the bytes that drive the generators' random choices, keeping
inputs that reach new code; ``--engine random`` draws the choices from a seeded
``random.Random``. Each target runs in its own process (atheris fuzzes one function
per process); ``--count`` bounds the inputs per target, ``--budget`` the seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ("filter", "grpc", "rest")


class ByteRandom(random.Random):
    """A ``random.Random`` whose choices are read from fuzzer-given bytes, so that
    mutating the bytes mutates the choices. Once the bytes run out the choices come
    from a generator seeded with them: constant zeros would loop forever in
    ``sample``, which redraws until it meets an index it has not drawn."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0
        self._rest = random.Random(data)
        super().__init__(0)

    def seed(self, *args: Any, **kwargs: Any) -> None:
        pass  # every choice comes from the bytes

    def getrandbits(self, k: int) -> int:
        count = (k + 7) // 8
        if self._pos + count > len(self._data):
            return self._rest.getrandbits(k)
        chunk = self._data[self._pos : self._pos + count]
        self._pos += count
        return int.from_bytes(chunk, "little") >> (count * 8 - k)

    def random(self) -> float:
        return self.getrandbits(53) / (1 << 53)

    def randbytes(self, n: int) -> bytes:
        return self.getrandbits(n * 8).to_bytes(n, "little") if n else b""


class Tally:
    """Counts of outcomes and the distinct findings, written to ``report`` as JSON."""

    def __init__(self, target: str, report: Path, stop_after: int) -> None:
        self.target = target
        self.report = report
        self.stop_after = stop_after
        self.started = time.monotonic()
        self.outcomes: dict[str, int] = {}
        self.findings: dict[str, dict[str, Any]] = {}

    @property
    def inputs(self) -> int:
        return sum(self.outcomes.values())

    def record(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if self.inputs % 5000 == 0:
            self.write()

    def finding(self, exc: BaseException, example: str) -> None:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        key = f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}: {first_line}"
        entry = self.findings.setdefault(key[:300], {"count": 0, "example": example[:4000]})
        entry["count"] += 1
        self.record("finding")

    def write(self) -> None:
        seconds = time.monotonic() - self.started
        summary = {
            "target": self.target,
            "inputs": self.inputs,
            "seconds": round(seconds, 1),
            "inputs_per_second": round(self.inputs / seconds, 1) if seconds else None,
            "outcomes": self.outcomes,
            "findings": self.findings,
        }
        self.report.write_text(json.dumps(summary, indent=2, ensure_ascii=True))

    def done(self) -> bool:
        return self.inputs >= self.stop_after


def _filter_target() -> tuple[Callable[[random.Random, bytes], str], Callable[[], None]]:
    from filter_fuzz_inputs import check_filter, filter_text, mutate, template_values

    def one(rng: random.Random, data: bytes) -> str:
        if data[:1] == b"\x00":  # some inputs are the bytes themselves, as text
            text = data[1:].decode("utf-16-le", "surrogatepass") if len(data) % 2 else ""
            example = repr(text)
            params = None
        else:
            text = filter_text(rng)
            if rng.random() < 0.2:
                text = mutate(rng, text)
            params = template_values(rng) if rng.random() < 0.8 else None
            example = repr((text, params))
        try:
            return check_filter(text, params)
        except Exception as exc:
            exc.add_note(example)
            raise

    return one, lambda: None


def _grpc_target() -> tuple[Callable[[random.Random, bytes], str], Callable[[], None]]:
    from request_fuzz_inputs import Fuzzer, record_seeds

    workdir = Path(tempfile.mkdtemp(prefix="elanus-fuzz-grpc-"))
    seeds = record_seeds(workdir)
    state = {"fuzzer": Fuzzer(seeds, workdir / "0"), "served": 0, "round": 0}

    def one(rng: random.Random, data: bytes) -> str:
        # A fresh engine now and then: inserts pile up, and mutants may drop things.
        if state["served"] >= 20_000:
            state["fuzzer"].close()
            state["round"] += 1
            state["fuzzer"] = Fuzzer(seeds, workdir / str(state["round"]))
            state["served"] = 0
        state["served"] += 1
        fuzzer = state["fuzzer"]
        method, request = fuzzer.mutant(rng)
        if request is None:
            return "undecodable"
        try:
            return str(fuzzer.check(method, request))
        except Exception as exc:
            exc.add_note(f"{method}: {str(request)[:3000]}")
            raise

    return one, lambda: state["fuzzer"].close()


def _rest_target() -> tuple[Callable[[random.Random, bytes], str], Callable[[], None]]:
    from rest_fuzz_inputs import RestFuzzer

    workdir = Path(tempfile.mkdtemp(prefix="elanus-fuzz-rest-"))
    state = {"fuzzer": RestFuzzer(workdir / "0"), "served": 0, "round": 0}

    def one(rng: random.Random, data: bytes) -> str:
        if state["served"] >= 20_000:
            state["fuzzer"].close()
            state["round"] += 1
            state["fuzzer"] = RestFuzzer(workdir / str(state["round"]))
            state["served"] = 0
        state["served"] += 1
        fuzzer = state["fuzzer"]
        path, raw, headers = fuzzer.mutant(rng)
        try:
            return str(fuzzer.check(path, raw, headers))
        except Exception as exc:
            exc.add_note(f"{path} {headers}: {raw[:3000]!r}")
            raise

    return one, lambda: state["fuzzer"].close()


_FACTORIES = {"filter": _filter_target, "grpc": _grpc_target, "rest": _rest_target}


def _quiet() -> None:
    # Findings are reported through the tally; the servers' own logging and NumPy's
    # overflow warnings would only bury them.
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")


def run_target(
    target: str, engine: str, count: int, budget: float, seed: int, report: Path
) -> None:
    """Fuzz one target in this process."""
    sys.path[:0] = [str(ROOT / "tests" / "expr"), str(ROOT / "tests" / "server")]
    _quiet()
    tally = Tally(target, report, count)
    if engine == "atheris":
        import atheris

        with atheris.instrument_imports(include=["elanus", "lark"]):
            one, close = _FACTORIES[target]()

        def test_one_input(data: bytes) -> None:
            if tally.done():
                return
            try:
                tally.record(one(ByteRandom(data), data))
            except Exception as exc:
                tally.finding(exc, "\n".join(getattr(exc, "__notes__", [])))
            if tally.done():
                tally.write()

        args = [sys.argv[0], f"-runs={count}", f"-max_total_time={int(budget)}", f"-seed={seed}"]
        args += ["-max_len=4096", "-rss_limit_mb=8192", "-print_final_stats=1"]
        atheris.Setup(args, test_one_input)
        try:
            atheris.Fuzz()
        finally:
            tally.write()
        return
    one, close = _FACTORIES[target]()
    rng = random.Random(seed)
    deadline = time.monotonic() + budget
    while not tally.done() and time.monotonic() < deadline:
        data = rng.randbytes(rng.randrange(8, 512))
        try:
            tally.record(one(random.Random(data), data))
        except Exception as exc:
            tally.finding(exc, "\n".join(getattr(exc, "__notes__", [])))
    close()
    tally.write()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=[*TARGETS, "all"])
    parser.add_argument("--count", type=int, default=1_000_000, help="inputs per target")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", choices=["atheris", "random"], default=None)
    parser.add_argument("--report", type=Path, default=Path("fuzz-report.json"))
    args = parser.parse_args()
    engine = args.engine
    if engine is None:
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "random"
    targets = TARGETS if args.target == "all" else (args.target,)
    summaries = []
    for target in targets:
        part = args.report.with_suffix(f".{target}.json")
        # Its own process: atheris fuzzes one function per process, and a crash
        # inside a library stays with its target.
        command = [
            sys.executable,
            __file__,
            "--one",
            target,
            engine,
            str(args.count),
            str(args.budget),
            str(args.seed),
            str(part),
        ]
        subprocess.run(command, cwd=ROOT, check=False, env=dict(os.environ, PYTHONHASHSEED="0"))
        summary = json.loads(part.read_text()) if part.exists() else {"target": target}
        summary["engine"] = engine
        summaries.append(summary)
        found = sum(f["count"] for f in summary.get("findings", {}).values())
        print(
            f"{target}: {summary.get('inputs', 0)} inputs in {summary.get('seconds')} s, "
            f"outcomes {summary.get('outcomes')}, findings {found}",
            flush=True,
        )
    args.report.write_text(json.dumps(summaries, indent=2, ensure_ascii=True))
    return 1 if any(s.get("findings") for s in summaries) else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        _, _, name, how, count, budget, seed, out = sys.argv
        run_target(name, how, int(count), float(budget), int(seed), Path(out))
        sys.exit(0)
    sys.exit(main())
