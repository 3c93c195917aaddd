"""Run Milvus's own client test suite against ``elanus serve`` and tabulate the results.

Not part of CI: it needs the suite's source, which the person running it fetches::

    git clone https://github.com/zhengbuqian/milvus && git -C milvus checkout 88f357a34558
    python scripts/milvus_suite.py --suite milvus/tests/python_client

It builds a separate virtual environment for the suite (its pins relaxed so they
install here: pymilvus 3.0.2, no locust/pylance/pyiceberg/xgboost/vortex/substrait,
``py==1.11.0`` for pytest-html), copies the suite to a scratch directory with
``timeout_method = signal``, starts ``elanus serve`` on a free port, runs the
selection file by file with a time limit, and writes a per-file table of passes
and failures by level to ``docs/compatibility.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent

MILVUS_CLIENT_FILES = [
    "test_milvus_client_e2e.py",
    "test_milvus_client_collection.py",
    "test_milvus_client_alias.py",
    "test_milvus_client_database.py",
    "test_milvus_client_partition.py",
    "test_milvus_client_partition_key.py",
    "test_milvus_client_insert.py",
    "test_milvus_client_upsert.py",
    "test_milvus_client_delete.py",
    "test_milvus_client_query.py",
    "test_milvus_client_query_order.py",
    "test_milvus_client_search.py",
    "test_milvus_client_search_v2.py",
    "test_milvus_client_search_iterator.py",
    "test_milvus_client_search_pagination.py",
    "test_milvus_client_search_group_by.py",
    "test_milvus_client_search_order.py",
    "test_milvus_client_range_search.py",
    "test_milvus_client_hybrid_search.py",
    "test_milvus_client_index.py",
    "test_milvus_client_sparse_search.py",
    "test_milvus_client_sparse_inverted_index.py",
    "expressions/test_milvus_client_json_filtering.py",
    "expressions/test_milvus_client_scalar_filtering.py",
]
EXCLUDED_TAGS = {"GPU", "ClusterOnly", "MultiQueryNodes", "Loadbalance", "RBAC"}
DROPPED_REQUIREMENTS = ("locust", "pylance", "pyiceberg", "xgboost", "vortex-data", "substrait")

# A pytest plugin loaded into the suite's run: keeps the chosen levels, drops the
# excluded tags, and writes each test's level and outcome to a JSON-lines file.
PLUGIN = """
import json, os

import pytest

LEVELS = set(os.environ["ELANUS_SUITE_LEVELS"].split(","))
EXCLUDED = set(os.environ["ELANUS_SUITE_EXCLUDED"].split(","))
OUT = os.environ["ELANUS_SUITE_OUT"]
_levels = {}


def _tags(item):
    found = set()
    for mark in item.iter_markers("tags"):
        for arg in mark.args:
            found.add(str(getattr(arg, "value", arg)))
    return found


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        tags = _tags(item)
        level = next((t for t in sorted(tags) if t in LEVELS), None)
        if level is None or tags & EXCLUDED:
            drop.append(item)
        else:
            _levels[item.nodeid] = level
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


def pytest_runtest_logreport(report):
    if report.nodeid not in _levels:
        return
    if report.when == "call" or report.outcome != "passed":
        row = {"id": report.nodeid, "level": _levels[report.nodeid],
               "when": report.when, "outcome": report.outcome,
               "secs": round(report.duration, 2)}
        if report.failed:
            # The last lines of the failure say why: kept to group failures by cause.
            text = getattr(report, "longreprtext", "") or ""
            row["why"] = [ln for ln in text.splitlines() if ln.startswith("E ")][-3:]
        with open(OUT, "a") as f:
            f.write(json.dumps(row) + "\\n")
"""


# Files stopped at the time limit: their tests past that point count nowhere.
TIMED_OUT: set[str] = set()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_venv(suite: Path, venv: Path) -> Path:
    python = venv / "bin" / "python"
    if python.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    lines = []
    for line in (suite / "requirements.txt").read_text().splitlines():
        name = line.split("==")[0].split(">=")[0].split("[")[0].split(";")[0].strip().lower()
        if not line.strip() or line.startswith("#") or line.startswith("--"):
            continue
        if name in DROPPED_REQUIREMENTS:
            continue
        if name == "pymilvus":
            line = line.split("==")[0] + "==3.0.2"
        lines.append(line)
    lines.append("py==1.11.0")
    req = venv / "requirements.txt"
    req.write_text("\n".join(lines) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(req)], check=True)
    return python


def start_server(work: Path, auth: bool = False) -> tuple[subprocess.Popen, int, int, IO[str]]:
    """``elanus serve`` on free ports over ``work/elanus-data`` (with ``--auth``
    when ``auth``), its log in ``work/server.log``; returns the process, its gRPC
    and HTTP ports and the open log."""
    port = free_port()
    http_port = free_port()
    data = work / "elanus-data"
    server_log = (work / "server.log").open("w")  # noqa: SIM115 (lives as long as the server)
    # Serve from a copy of the package taken now, so edits made in the working
    # tree while the run goes on cannot reach the server half-way.
    source = work / "elanus-src"
    shutil.copytree(
        ROOT / "elanus", source / "elanus", ignore=shutil.ignore_patterns("__pycache__")
    )
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "elanus.cli",
            "serve",
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--http-port",
            str(http_port),
            *(["--auth"] if auth else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=server_log,
        cwd=source,
        env=dict(os.environ, PYTHONPATH=str(source)),
    )
    return server, port, http_port, server_log


def wait_for_port(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)


def run_file(
    python: Path, work: Path, rel: str, suite_args: list[str], levels: list[str], timeout: int
) -> list[dict]:
    """One test file of the suite in ``work``; ``suite_args`` tell it where the server is."""
    out = work / ("results-" + rel.replace("/", "_") + ".jsonl")
    out.unlink(missing_ok=True)
    env = dict(
        os.environ,
        ELANUS_SUITE_LEVELS=",".join(levels),
        ELANUS_SUITE_EXCLUDED=",".join(EXCLUDED_TAGS),
        ELANUS_SUITE_OUT=str(out),
        PYTHONPATH=str(work),
    )
    cmd = [
        str(python),
        "-m",
        "pytest",
        rel,
        "-p",
        "elanus_suite_plugin",
        *suite_args,
        "-q",
        "--timeout",
        "120",
        "-p",
        "no:cacheprovider",
    ]
    try:
        subprocess.run(
            cmd,
            cwd=work,
            env=env,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        TIMED_OUT.add(rel.split("/", 1)[-1])
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def prepare_work(suite: Path, prefix: str) -> Path:
    """A scratch copy of the suite that times tests out by signal and loads our plugin."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.copytree(suite, work, dirs_exist_ok=True)
    ini = work / "pytest.ini"
    ini.write_text(ini.read_text().replace("timeout_method = thread", "timeout_method = signal"))
    (work / "elanus_suite_plugin.py").write_text(PLUGIN)
    return work


def run_files(
    python: Path,
    work: Path,
    base: str,
    files: list[str],
    suite_args: list[str],
    levels: list[str],
    timeout: int,
    jobs: int,
) -> dict[str, list[dict]]:
    """Each of ``files`` (under ``base``), ``jobs`` at a time: files use collections of
    their own, so several can share the server."""

    def one(rel: str) -> list[dict]:
        t0 = time.time()
        rows = run_file(python, work, f"{base}/{rel}", suite_args, levels, timeout)
        print(f"{rel}: {len(rows)} reports in {time.time() - t0:.0f}s", flush=True)
        return rows

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(zip(files, pool.map(one, files)))


def stop_server(server: subprocess.Popen, log: IO[str]) -> None:
    server.terminate()
    server.wait(30)
    log.close()


def save_results(work: Path, results: dict[str, list[dict]]) -> None:
    (work / "all-results.json").write_text(json.dumps(results, indent=1))
    print("raw results:", work / "all-results.json", flush=True)


def tabulate(results: dict[str, list[dict]], levels: list[str]) -> str:
    header = ["file"] + [f"{lv} {k}" for lv in levels for k in ("passed", "total")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    totals = {lv: [0, 0] for lv in levels}
    for name, rows in results.items():
        per: dict[str, dict[str, str]] = {lv: {} for lv in levels}
        for r in rows:
            # A test passed only if no phase failed or errored.
            prev = per[r["level"]].get(r["id"])
            if prev in (None, "passed") or r["outcome"] != "passed":
                per[r["level"]][r["id"]] = r["outcome"] if prev in (None, "passed") else prev
        cells = [f"{name} (stopped at the time limit)" if name in TIMED_OUT else name]
        for lv in levels:
            passed = sum(1 for o in per[lv].values() if o == "passed")
            total = sum(1 for o in per[lv].values() if o != "skipped")
            totals[lv][0] += passed
            totals[lv][1] += total
            cells += [str(passed), str(total)]
        lines.append("| " + " | ".join(cells) + " |")
    cells = ["**total**"]
    for lv in levels:
        p, t = totals[lv]
        cells += [f"**{p}**", f"**{t}** ({100 * p / t:.0f}%)" if t else "**0**"]
    lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_section(output: Path, section: str, body: str) -> None:
    """Replace (or append) the ``## <section>`` of ``output`` with ``body``."""
    text = (
        output.read_text()
        if output.exists()
        else "# Compatibility with Milvus's client test suite\n"
    )
    marker = f"## {section}"
    body = f"{marker}\n\n{body}"
    if marker in text:
        head, _, rest = text.partition(marker)
        tail = rest.split("\n## ", 1)
        text = head + body + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        text = text.rstrip() + "\n\n" + body
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)


def publish(
    output: Path,
    section: str,
    command: str,
    results: dict[str, list[dict]],
    levels: list[str],
    also_left_out: str = "",
) -> None:
    """The per-file table, printed and written as ``section`` of ``output`` with how
    it was run (``command``) and what was left out."""
    table = tabulate(results, levels)
    body = (
        f"Run {time.strftime('%Y-%m-%d')} with `python {command}`, suite at commit 88f357a34558, "
        f"excluding tags {', '.join(sorted(EXCLUDED_TAGS))}{also_left_out}. A test counts as "
        f"passed when none of its phases failed.\n\n{table}\n"
    )
    write_section(output, section, body)
    print(table)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--suite", type=Path, required=True, help="path to milvus/tests/python_client")
    ap.add_argument("--venv", type=Path, default=ROOT / ".suite-venv")
    ap.add_argument("--levels", default="L0,L1")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per file")
    ap.add_argument(
        "--files", nargs="*", help="subset of files (relative to milvus_client/ or testcases/)"
    )
    ap.add_argument(
        "--testcases", action="store_true", help="run the ORM-style testcases/ at L0 instead"
    )
    ap.add_argument("--output", type=Path, default=ROOT / "docs" / "compatibility.md")
    ap.add_argument("--jobs", type=int, default=1, help="files run at the same time")
    ap.add_argument(
        "--auth",
        action="store_true",
        help="serve with --auth and run the RBAC-tagged tests (test_milvus_client_rbac.py) "
        "as root with the suite's --user/--password/--token",
    )
    args = ap.parse_args(argv)
    levels = ["L0"] if args.testcases else args.levels.split(",")
    if args.auth:
        EXCLUDED_TAGS.discard("RBAC")
        levels = ["RBAC"]
        args.files = args.files or ["test_milvus_client_rbac.py"]
    python = prepare_venv(args.suite, args.venv)
    work = prepare_work(args.suite, "milvus-suite-")
    if args.testcases:
        # Sub-folders too (async_milvus_client/); files with no L0 test are skipped
        # rather than collected for nothing.
        files = args.files or sorted(
            str(p.relative_to(work / "testcases"))
            for p in (work / "testcases").rglob("test_*.py")
            if "CaseLabel.L0" in p.read_text()
        )
        base = "testcases"
    else:
        files = args.files or MILVUS_CLIENT_FILES
        base = "milvus_client"
    server, port, _, server_log = start_server(work, auth=args.auth)
    suite_args = ["--host", "127.0.0.1", "--port", str(port), "--uri", f"http://127.0.0.1:{port}"]
    if args.auth:
        suite_args += ["--user", "root", "--password", "Milvus", "--token", "root:Milvus"]
    try:
        wait_for_port(port)
        results = run_files(python, work, base, files, suite_args, levels, args.timeout, args.jobs)
        if server.poll() is not None:
            print("elanus serve exited; see", work / "server.log", file=sys.stderr)
    finally:
        stop_server(server, server_log)
    save_results(work, results)
    section = (
        "ORM-style testcases/ (L0)" if args.testcases else "MilvusClient tests (milvus_client/)"
    )
    if args.auth:
        section = "RBAC tests (milvus_client/, tag RBAC, server with --auth)"
    command = "scripts/milvus_suite.py" + " --testcases" * args.testcases + " --auth" * args.auth
    publish(args.output, section, command, results, levels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
