"""The damage matrix, executable: damage one kind of file, reopen, observe the outcome.

Each case builds a real data directory (collection ``c``: sealed segment A with
keys 0..49 of which 0..4 are deleted and an HNSW index, sealed segment B with
keys 100..149, keys 200..209 acknowledged but not yet sealed; collection
``other`` with one sealed row), leaves it as a killed process would, applies one
damage (truncate, flip a byte, delete) to one kind of file, opens it again and
records what happened. ``EXPECTED`` is the table docs/reliability.md shows;
``tests/storage/test_damage_matrix.py`` checks every cell in CI.

    python scripts/damage_matrix.py            # print the observed table, exit 1 on a mismatch
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from elanus.engine.engine import Engine
from elanus.engine.requests import IndexSpec, QueryRequest
from elanus.errors import StorageError
from elanus.schema import CollectionSchema, DataType, FieldSchema

__all__ = ["DAMAGES", "EXPECTED", "KINDS", "Outcome", "observe"]

OPTS = {"background": False}
GROUPS = {
    "A": set(range(5, 50)),
    "B": set(range(100, 150)),
    "unsealed": set(range(200, 210)),
}


@dataclass(frozen=True)
class Outcome:
    """What reopening after one damage gave.

    ``opens``: the directory opened (else it refused, naming ``names``);
    ``degraded``: collection ``c`` is reported degraded; ``unavailable``: its
    segments out of service; ``lost``: groups of acknowledged rows a read at
    Bounded consistency no longer returns; ``strong_refused``: a Strong read is
    refused; ``lost_found``: something was set aside in lost+found.
    """

    opens: bool
    names: str = ""
    degraded: bool = False
    unavailable: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    strong_refused: bool = False
    lost_found: bool = False

    def describe(self) -> str:
        if not self.opens:
            return f"refuses to open with an error naming {self.names}; nothing is changed"
        parts = []
        if self.unavailable:
            parts.append(
                f"segment {', '.join(self.unavailable)} unavailable: Strong reads refuse "
                "naming it, other levels answer without it"
            )
        gone = [g for g in self.lost if g not in self.unavailable]
        if gone:
            parts.append(f"acknowledged rows lost: {', '.join(gone)}")
        elif not self.unavailable:
            parts.append("no acknowledged row lost")
        parts.append("reported as degraded" if self.degraded else "not degraded")
        if self.lost_found:
            parts.append("damaged/unnamed files moved to lost+found")
        return "; ".join(parts)


def _schema() -> CollectionSchema:
    return CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 4}),
        )
    )


def _rows(ids: list[int]) -> tuple[dict[str, object], int]:
    vec = np.tile(np.asarray(ids, dtype=np.float32).reshape(-1, 1), (1, 4))
    return {"id": ids, "vec": vec}, len(ids)


def build(root: Path) -> dict[str, Path]:
    """Write the scenario and leave it as a killed process would; return segment dirs."""
    e = Engine.open(str(root), **OPTS)
    hnsw = IndexSpec("vec", "HNSW", "vec_idx", "L2", {"M": 8, "efConstruction": 32})
    e.create_collection("default", "c", _schema(), indexes=[hnsw])
    e.insert("default", "c", *_rows(list(range(50))))
    e.flush("default", "c")
    e.delete("default", "c", ids=[0, 1, 2, 3, 4])
    e.insert("default", "c", *_rows(list(range(100, 150))))
    e.flush("default", "c")
    e.create_collection("default", "other", _schema())
    e.insert("default", "other", *_rows([7]))
    e.flush("default", "other")
    e.insert("default", "c", *_rows(list(range(200, 210))))
    collection = e.layout.collection_dir(e._meta("default", "c").collection_id)
    # a crash: nothing more is flushed, the lock goes with the process
    e._closed = True
    e.worker.shutdown(wait=True)
    for store in e.stores.values():
        store.wal.close()
    e._dir_lock.release()
    segs = sorted((Path(collection) / "segments").iterdir())
    return {"collection": Path(collection), "A": segs[0], "B": segs[1]}


def _target(root: Path, where: dict[str, Path], kind: str) -> Path:
    seg_a = where["A"]
    if kind == "WAL":
        (wal,) = sorted((where["collection"] / "wal").glob("*.wal"))
        return wal
    if kind == "manifest":
        return sorted((where["collection"] / "manifest").iterdir())[-1]
    if kind == "catalog.json":
        return root / "catalog.json"
    if kind == "deletes file":
        (path,) = seg_a.glob("deletes*.arrow")
        return path
    if kind == "vector block":
        return seg_a / "dense.vec.bin"
    if kind == "index file":
        return max((seg_a / "indexes" / "vec_idx").iterdir(), key=lambda p: p.stat().st_size)
    return seg_a / kind  # scalars.parquet, segment.json


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(b"" if path.suffix == ".wal" else data[: len(data) // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _delete(path: Path) -> None:
    if path.parent.name == "manifest":
        shutil.rmtree(path.parent)  # every version: no manifest at all
    else:
        path.unlink()


KINDS = (
    "WAL",
    "manifest",
    "catalog.json",
    "segment.json",
    "scalars.parquet",
    "deletes file",
    "vector block",
    "index file",
)
DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncate": _truncate,
    "flip a byte": _flip,
    "delete": _delete,
}


def observe(root: Path, kind: str, damage: str) -> Outcome:
    where = build(root)
    DAMAGES[damage](_target(root, where, kind))
    try:
        engine = Engine.open(str(root), **OPTS)
    except StorageError as exc:
        return Outcome(opens=False, names=kind if kind in str(exc) else str(exc))
    with engine as e:
        health = e.storage_health("default", "c")
        names = {str(p.name): label for label, p in where.items() if label in ("A", "B")}
        unavailable = tuple(names.get(str(s), str(s)) for s in health.unavailable_segments)
        req = QueryRequest(filter="id >= 0", output_fields=["id"], consistency_level="Bounded")
        got = set(np.asarray(e.query("default", "c", req).columns["id"]).tolist())
        lost = tuple(g for g, keys in GROUPS.items() if not keys <= got)
        try:
            e.query("default", "c", QueryRequest(filter="id >= 0", consistency_level="Strong"))
            strong_refused = False
        except StorageError:
            strong_refused = True
        index = e.describe_index("default", "c", "vec_idx")
        assert index.pending_index_rows == 0, "every available sealed row is indexed again"
    return Outcome(
        opens=True,
        degraded=health.degraded,
        unavailable=unavailable,
        lost=lost,
        strong_refused=strong_refused,
        lost_found=(root / "lost+found").exists(),
    )


_REFUSED_CATALOG = Outcome(opens=False, names="catalog.json")
_SEGMENT_A_OUT = Outcome(
    opens=True, degraded=True, unavailable=("A",), lost=("A",), strong_refused=True
)
_UNSEALED_LOST = Outcome(opens=True, degraded=True, lost=("unsealed",))
_INDEX_REBUILT = Outcome(opens=True)
_MANIFEST_FALLBACK = Outcome(opens=True, degraded=True, lost_found=True)

EXPECTED: dict[tuple[str, str], Outcome] = {
    ("WAL", "truncate"): _UNSEALED_LOST,
    ("WAL", "flip a byte"): _UNSEALED_LOST,
    ("WAL", "delete"): _UNSEALED_LOST,
    ("manifest", "truncate"): _MANIFEST_FALLBACK,
    ("manifest", "flip a byte"): _MANIFEST_FALLBACK,
    # the single log file still held every write, so replay brings them all back
    ("manifest", "delete"): Outcome(opens=True, degraded=True, lost_found=True),
    ("catalog.json", "truncate"): _REFUSED_CATALOG,
    ("catalog.json", "flip a byte"): _REFUSED_CATALOG,
    ("catalog.json", "delete"): _REFUSED_CATALOG,
    **{(k, d): _SEGMENT_A_OUT for k in KINDS[3:7] for d in DAMAGES},
    **{("index file", d): _INDEX_REBUILT for d in DAMAGES},
}


def main() -> int:
    mismatches = 0
    print("| file | damage | outcome |")
    print("|---|---|---|")
    for kind in KINDS:
        for damage in DAMAGES:
            with tempfile.TemporaryDirectory() as tmp:
                got = observe(Path(tmp), kind, damage)
            mark = "" if got == EXPECTED[(kind, damage)] else " **(differs from EXPECTED)**"
            mismatches += bool(mark)
            print(f"| {kind} | {damage} | {got.describe()}{mark} |")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
