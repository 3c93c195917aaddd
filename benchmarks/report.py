"""Results as a Markdown table (with ratios to Elanus) and PNG plots, plus the machine."""

from __future__ import annotations

import json
import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(
    os.environ.get("ELANUS_BENCH_RESULTS") or Path(__file__).resolve().parent / "results"
)
PACKAGES = ("elanus", "faiss-cpu", "numpy", "pyarrow", "pymilvus", "milvus-lite", "grpcio")


def machine() -> dict[str, Any]:
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) * 1024
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


def ratio(ours: float | None, theirs: float | None, higher_is_better: bool) -> str:
    if not ours or not theirs:
        return "—"
    r = ours / theirs if higher_is_better else theirs / ours
    return f"{r:.2f}×"


def write(
    workload: str,
    rows: list[dict[str, Any]],
    columns: list[str],
    notes: list[str],
    plots: list[tuple[str, Any]] | None = None,
) -> Path:
    """Write ``results/<workload>.md`` (+ .json, + PNGs) and return the Markdown path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = machine()
    lines = [
        f"# {workload}",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M')}; "
        f"{info['cpus']} cores, {info['memory_gib']} GiB, Python {info['python']}.",
        "",
    ]
    lines.append("Packages: " + ", ".join(f"{k} {v}" for k, v in info["packages"].items()))
    lines.append("")
    lines += [f"- {n}" for n in notes]
    lines.append("")
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "---|" * len(columns))
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |")
    md = RESULTS / f"{workload}.md"
    md.write_text("\n".join(lines) + "\n")
    (RESULTS / f"{workload}.json").write_text(
        json.dumps({"machine": info, "rows": rows}, indent=1, default=str)
    )
    for name, draw in plots or []:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            break
        fig, ax = plt.subplots(figsize=(7, 4.5))
        draw(ax)
        fig.tight_layout()
        fig.savefig(RESULTS / f"{workload}-{name}.png", dpi=110)
        plt.close(fig)
    return md


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 1:
            return f"{value:.2f}"
        return f"{value:.3f}"
    return str(value)
