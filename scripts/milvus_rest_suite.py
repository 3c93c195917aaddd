"""Run Milvus's RESTful API v2 test suite against ``elanus serve`` and tabulate the results.

Not part of CI: it needs the suite's source (``milvus/tests/restful_client_v2``, see
``scripts/milvus_suite.py`` for fetching it)::

    nice -n 10 python scripts/milvus_rest_suite.py --suite milvus/tests/restful_client_v2

The suite talks to one endpoint for both its REST calls and pymilvus (gRPC), as
Milvus serves both on port 19530. By default this starts ``elanus serve`` on free
ports and points the suite at its gRPC port, which must answer REST too;
``--endpoint`` runs it against a server (or a front) started by hand instead.

It reuses ``milvus_suite``'s virtual environment builder, server start and
per-file runner and table; files that need MinIO and import jobs, external tables
or a text-embedding (TEI) service are left out. The per-file table of passes by
level goes into the "REST v2" section of ``docs/compatibility.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from milvus_suite import (  # noqa: E402 (the sibling script is imported by path)
    ROOT,
    prepare_venv,
    prepare_work,
    publish,
    run_files,
    save_results,
    start_server,
    stop_server,
    wait_for_port,
)

# Files that need services outside Milvus: MinIO (import jobs), external tables,
# the TEI embedding/rerank service.
SKIPPED_FILES = {
    "test_import_2pc_infra_dependent.py": "MinIO",
    "test_import_2pc_operation.py": "MinIO",
    "test_jobs_operation.py": "MinIO",
    "test_external_collection_operations.py": "external tables",
    "test_embedding_rerank_function.py": "TEI endpoint",
}
SECTION = "REST v2 (restful_client_v2)"


def rest_answers(endpoint: str) -> bool:
    """Whether ``endpoint`` answers REST v2 (a collections list in Milvus's envelope)."""
    request = urllib.request.Request(
        f"{endpoint}/v2/vectordb/collections/list",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return "code" in json.loads(reply.read())
    except (OSError, ValueError):
        return False


def suite_venv(suite: Path, venv: Path) -> Path:
    python = prepare_venv(suite, venv)
    # The runner bounds each test's time; the REST suite does not list pytest-timeout.
    probe = subprocess.run([str(python), "-c", "import pytest_timeout"], capture_output=True)
    if probe.returncode:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pytest-timeout"], check=True)
    return python


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--suite", type=Path, required=True, help="path to tests/restful_client_v2")
    ap.add_argument("--venv", type=Path, default=ROOT / ".rest-suite-venv")
    ap.add_argument("--levels", default="L0,L1")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per file")
    ap.add_argument("--files", nargs="*", help="subset of files (relative to testcases/)")
    ap.add_argument("--endpoint", help="a running server's URL instead of starting one")
    ap.add_argument("--output", type=Path, default=ROOT / "docs" / "compatibility.md")
    ap.add_argument("--jobs", type=int, default=1, help="files run at the same time")
    ap.add_argument("--workers", type=int, default=1, help="pytest-xdist workers within each file")
    args = ap.parse_args(argv)
    levels = args.levels.split(",")
    python = suite_venv(args.suite, args.venv)
    work = prepare_work(args.suite, "milvus-rest-suite-")
    files = args.files or sorted(
        p.name for p in (work / "testcases").glob("test_*.py") if p.name not in SKIPPED_FILES
    )
    server = None
    if args.endpoint:
        endpoint = args.endpoint.rstrip("/")
    else:
        server, port, _, server_log = start_server(work)
        endpoint = f"http://127.0.0.1:{port}"
        wait_for_port(port)
    suite_args = ["--endpoint", endpoint]
    if args.workers > 1:
        suite_args += ["-n", str(args.workers)]
    try:
        for _ in range(100):
            if rest_answers(endpoint):
                break
            time.sleep(0.3)
        else:
            print(f"no REST v2 answer at {endpoint}", file=sys.stderr)
            return 1
        # The suite's tests mostly wait (it sleeps around each call), so --jobs pays.
        results = run_files(
            python, work, "testcases", files, suite_args, levels, args.timeout, args.jobs
        )
    finally:
        if server is not None:
            stop_server(server, server_log)
    save_results(work, results)
    skipped = ", ".join(f"`{name}` ({why})" for name, why in sorted(SKIPPED_FILES.items()))
    publish(
        args.output,
        SECTION,
        "scripts/milvus_rest_suite.py",
        results,
        levels,
        f" and the files {skipped}",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
