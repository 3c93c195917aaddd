"""Crash loop: a writer is SIGKILLed at random points, again and again, and every
acknowledged row must come back.

Each cycle starts a writer on one data directory. The writer first reads every
row back and reports it; the parent checks that read against its model of what
was acknowledged: every acknowledged row present with exactly its values,
deleted keys absent, nothing else. The writer then runs a random mix of inserts,
upserts, deletes (by ids and by filter), flushes, compactions and index
drops/builds on a tiny collection (so that sealing, compaction and background
index builds happen all the time), reporting each call before it starts and
after it returns. The parent SIGKILLs it at a random moment. The call in flight
at the kill may or may not have happened, but only whole: the next read must
show all of it or none of it.

``--mode embedded``: the writer is a forked child using the embedded
``elanus.MilvusClient``; it reports over a pipe. ``--mode server``: the parent
runs ``elanus serve`` and kills that; the writer is a pymilvus client in the
parent and a call counts as acknowledged when it returns.

    .venv/bin/python scripts/crash_loop.py --cycles 1000 --seed 1
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crash_writer import (
    COLLECTION,
    DataState,
    apply_call,
    create_collection,
    embedded_writer,
    read_state,
    row_values,
    run_writer,
)

__all__ = ["CycleReport", "LoopResult", "main", "run_loop"]

# --- the checker ----------------------------------------------------------------------


@dataclass(frozen=True)
class CycleReport:
    cycle: int
    acked: int  # calls acknowledged in this cycle
    rows_checked: int  # rows compared on the read that opened this cycle
    in_flight: str  # the call the kill interrupted ("" when none)
    previous_outcome: str  # what the read found of the previous cycle's call in flight
    problems: tuple[str, ...]
    seconds: tuple[float, float]  # (reopen and read back, whole cycle)


@dataclass
class LoopResult:
    cycles: int = 0
    acked_calls: int = 0
    rows_checked: int = 0
    in_flight_applied: int = 0
    in_flight_dropped: int = 0
    killed_in: dict[str, int] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_read(
    rows: list[dict[str, Any]], model: DataState, in_flight: dict[str, Any] | None
) -> tuple[DataState, list[str], str]:
    """Compare a read with the model; returns the state now true, problems, and what
    became of the call in flight ("applied", "dropped" or "")."""
    problems: list[str] = []
    seen: DataState = {}
    for r in rows:
        if "hit" in r:
            continue
        key = r["id"]
        if key in seen:
            problems.append(f"key {key} returned twice")
            continue
        version = r["val"] - key * 1_000_003
        seen[key] = version
        expected = row_values(key, version)
        if r["tag"] != expected["tag"] or [float(x) for x in r["vec"]] != expected["vec"]:
            problems.append(f"key {key}: row {r} does not match version {version}")
    before = dict(model)
    after = dict(model)
    touched: set[int] = set()
    outcome = ""
    if in_flight is not None and in_flight.get("keys"):
        touched = set(in_flight["keys"])
        apply_call(after, in_flight)
        got = {k: seen.get(k) for k in touched}
        if got == {k: before.get(k) for k in touched}:
            outcome = "dropped"
        elif got == {k: after.get(k) for k in touched}:
            outcome = "applied"
        else:
            problems.append(f"call in flight {in_flight} applied in part: read {got}")
    for key in set(seen) | set(model):
        if key in touched:
            continue
        if key not in seen:
            problems.append(f"acknowledged key {key} (version {model[key]}) is missing")
        elif key not in model:
            problems.append(f"key {key} (version {seen[key]}) was deleted or never written")
        elif seen[key] != model[key]:
            problems.append(f"key {key} has version {seen[key]}, acknowledged {model[key]}")
    for r in rows:
        if "hit" in r and seen.get(r["hit"]) != r["val"] - r["hit"] * 1_000_003:
            problems.append(f"search returned {r}, which is not a live row")
    return seen, problems, outcome


# --- embedded mode ----------------------------------------------------------------------


def _read_lines(fd: int, buf: bytearray, timeout: float) -> list[str]:
    ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
    if not ready:
        return []
    chunk = os.read(fd, 1 << 20)
    if not chunk:
        raise EOFError
    buf.extend(chunk)
    lines = []
    while (nl := buf.find(b"\n")) >= 0:
        lines.append(buf[:nl].decode())
        del buf[: nl + 1]
    return lines


def _embedded_cycle(
    data_dir: str, rng: random.Random, model: DataState, cycle: int, pending: dict[str, Any] | None
) -> tuple[CycleReport, DataState, dict[str, Any] | None]:
    read_fd, write_fd = os.pipe()
    seed = rng.randrange(1 << 30)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            # FAISS warns on stderr about tiny training sets; keep that out of the report.
            log_fd = os.open(
                os.path.join(os.path.dirname(data_dir), "writer.log"),
                os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                0o644,
            )
            os.dup2(log_fd, 2)
            embedded_writer(data_dir, write_fd, seed, (cycle + 1) * 100_000)
        finally:
            os._exit(1)  # never run the parent's code in the child
    os.close(write_fd)
    buf = bytearray()
    problems: list[str] = []
    rows_checked = acked = 0
    in_flight: dict[str, Any] | None = None
    outcome = ""
    # Kill after a random time, or a moment after a random call begins.
    kill_after_begins = rng.randint(1, 20) if rng.random() < 0.5 else None
    kill_delay = rng.uniform(0.0, 0.02)
    deadline: float | None = None
    begins = 0
    started = time.monotonic()
    opened = 0.0

    def handle(line: str) -> None:
        nonlocal model, outcome, rows_checked, opened, deadline, in_flight, begins, acked
        msg = json.loads(line)
        if msg["t"] == "rows":
            model, found, outcome = check_read(msg["rows"], model, pending)
            problems.extend(found)
            rows_checked = sum(1 for r in msg["rows"] if "id" in r)
            opened = time.monotonic() - started
            if kill_after_begins is None:
                deadline = time.monotonic() + rng.uniform(0.0, 0.8)
            if found:
                deadline = time.monotonic()  # stop the writer: keep the evidence
        elif msg["t"] == "begin":
            in_flight = msg["op"]
            begins += 1
            if begins == kill_after_begins:
                deadline = time.monotonic() + kill_delay
        elif msg["t"] == "ack":
            op = msg["op"]
            acked += 1
            apply_call(model, op)
            in_flight = None
        elif msg["t"] == "error":
            problems.append(f"writer failed: {msg['error']}")
            deadline = time.monotonic()

    try:
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            try:
                lines = _read_lines(read_fd, buf, (deadline or now + 60) - now)
            except EOFError:
                problems.append("writer exited by itself")
                break
            if not lines and deadline is None:
                problems.append("writer silent for 60 s")
                break
            for line in lines:
                handle(line)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    # What the writer reported before it died and the pipe still holds counts too.
    try:
        while chunk := os.read(read_fd, 1 << 20):  # the writer is dead: EOF comes
            buf.extend(chunk)
    finally:
        os.close(read_fd)
    for line in buf.split(b"\n")[:-1]:  # a line cut by the kill is no report
        handle(line.decode())
    kind = in_flight["kind"] if in_flight else ""
    took = (opened, time.monotonic() - started)
    report = CycleReport(cycle, acked, rows_checked, kind, outcome, tuple(problems), took)
    return report, model, in_flight


# --- server mode ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(data_dir: str, log_path: str) -> tuple[subprocess.Popen, Any]:
    import logging

    from pymilvus import MilvusClient

    # pymilvus logs every refused reconnect after a kill; the loop reports what matters
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)

    port, http_port = _free_port(), _free_port()
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "elanus.cli",
                "serve",
                "--data-dir",
                data_dir,
                "--port",
                str(port),
                "--http-port",
                str(http_port),
                "--log-level",
                "WARNING",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"elanus serve did not start; see {log_path}") from None
            time.sleep(0.05)
    client = MilvusClient(uri=f"http://127.0.0.1:{port}", timeout=30)
    return proc, client


def _server_cycle(
    data_dir: str,
    rng: random.Random,
    model: DataState,
    cycle: int,
    pending: dict[str, Any] | None,
    log_path: str,
) -> tuple[CycleReport, DataState, dict[str, Any] | None]:
    started = time.monotonic()
    proc, client = _start_server(data_dir, log_path)
    problems: list[str] = []
    acked = 0
    in_flight: dict[str, Any] | None = None
    try:
        if not client.has_collection(COLLECTION):
            create_collection(client)
        rows = read_state(client)
        model, problems, outcome = check_read(rows, model, pending)
        rows_checked = sum(1 for r in rows if "id" in r)
        opened = time.monotonic() - started
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.send_signal(signal.SIGKILL)

        killer = threading.Timer(rng.uniform(0.05, 2.0), kill)
        killer.start()

        def report(what: str, op: dict[str, Any]) -> None:
            nonlocal in_flight, acked
            if what == "begin":
                in_flight = op
                return
            acked += 1
            apply_call(model, op)
            in_flight = None

        try:
            writer_rng = random.Random(rng.randrange(1 << 30))
            run_writer(client, writer_rng, dict(model), (cycle + 1) * 100_000, report)
        except Exception as exc:
            if not killed.is_set():
                killer.cancel()
                problems.append(f"call failed while the server was up: {exc}")
        killer.join()
    finally:
        proc.kill()
        proc.wait()
        client.close()
    kind = in_flight["kind"] if in_flight else ""
    took = (opened, time.monotonic() - started)
    report = CycleReport(cycle, acked, rows_checked, kind, outcome, tuple(problems), took)
    return report, model, in_flight


# --- the loop -----------------------------------------------------------------------------


def run_loop(
    cycles: int,
    seed: int,
    mode: str = "embedded",
    data_dir: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
    *,
    keep_going: bool = False,
    keep_evidence: bool = False,
) -> LoopResult:
    """Run the crash loop; ``LoopResult.problems`` is empty when nothing was lost."""
    rng = random.Random(seed)
    own_dir = data_dir is None
    root = data_dir or tempfile.mkdtemp(prefix="elanus-crash-")
    os.makedirs(root, exist_ok=True)
    data = os.path.join(root, "data")
    result = LoopResult()
    if mode == "embedded":
        # Imported once here, so that every forked writer starts with them loaded.
        # Importing starts no thread (forking a process with threads is unsafe).
        import elanus  # noqa: F401
        import elanus.engine.engine  # noqa: F401
        import elanus.engine.query  # noqa: F401
        import elanus.engine.search  # noqa: F401
        import elanus.index  # noqa: F401
    model: DataState = {}
    pending: dict[str, Any] | None = None
    try:
        for cycle in range(cycles + 1):
            if mode == "embedded":
                before = os.path.join(root, "before-open")
                if keep_evidence:
                    # what this cycle's open starts from, kept when the open loses something
                    shutil.rmtree(before, ignore_errors=True)
                    if os.path.exists(data):
                        shutil.copytree(data, before)
                report, model, pending = _embedded_cycle(data, rng, model, cycle, pending)
                if report.problems and keep_evidence and os.path.exists(before):
                    shutil.copytree(before, os.path.join(root, f"evidence-cycle-{cycle}"))
            else:
                log_path = os.path.join(root, "server.log")
                report, model, pending = _server_cycle(data, rng, model, cycle, pending, log_path)
            # the last round only reads back what the previous kill left
            result.rows_checked += report.rows_checked
            result.in_flight_applied += report.previous_outcome == "applied"
            result.in_flight_dropped += report.previous_outcome == "dropped"
            result.problems.extend(f"cycle {cycle}: {p}" for p in report.problems)
            if cycle < cycles:
                result.cycles += 1
                result.acked_calls += report.acked
                where = report.in_flight or "between calls"
                result.killed_in[where] = result.killed_in.get(where, 0) + 1
            progress(
                f"cycle {cycle}: read {report.rows_checked} rows, {report.acked} calls acknowledged, "
                f"killed in {report.in_flight or '-'} "
                f"(reopen {report.seconds[0]:.1f} s, cycle {report.seconds[1]:.1f} s)"
                + (f"; PROBLEMS: {list(report.problems)}" if report.problems else "")
            )
            if report.problems and not keep_going:
                break
        result.leftovers = _leftovers(data)
    except BaseException:
        print(f"crash loop stopped; its files are in {root}", file=sys.stderr)
        raise
    if own_dir and not result.problems:
        shutil.rmtree(root, ignore_errors=True)
    return result


def _leftovers(data_dir: str) -> list[str]:
    """Temp files or directories a crash left that reopening did not clean up."""
    found = []
    for parent, dirs, files in os.walk(data_dir):
        for name in dirs + files:
            if ".tmp" in name:
                found.append(os.path.relpath(os.path.join(parent, name), data_dir))
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mode", choices=["embedded", "server"], default="embedded")
    parser.add_argument("--data-dir", help="work here and keep it (default: a temp dir)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="after a cycle finds a problem, take what the read found as the truth and go on",
    )
    parser.add_argument(
        "--evidence",
        action="store_true",
        help="copy the data directory before every open; keep the copy when the open "
        "loses something (embedded mode)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    result = run_loop(
        args.cycles,
        args.seed,
        args.mode,
        args.data_dir,
        progress=(lambda _: None) if args.quiet else (lambda line: print(line, flush=True)),
        keep_going=args.keep_going,
        keep_evidence=args.evidence,
    )
    print(
        f"{result.cycles} kills ({args.mode}, seed {args.seed}): {result.acked_calls} acknowledged "
        f"calls, {result.rows_checked} acknowledged rows checked after reopen, calls cut by "
        f"the kill found applied {result.in_flight_applied} / dropped {result.in_flight_dropped}, "
        f"{len(result.problems)} problems, {time.monotonic() - started:.0f} s",
        flush=True,
    )
    print("killed in:", dict(sorted(result.killed_in.items(), key=lambda kv: -kv[1])))
    if result.leftovers:
        print(f"{len(result.leftovers)} temp entries left behind:", result.leftovers[:10])
    for problem in result.problems:
        print("PROBLEM:", problem, flush=True)
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
