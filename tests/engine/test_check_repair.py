"""``elanus check`` finds damage without changing anything; ``elanus repair`` rebuilds
what it can, sets the rest aside in lost+found, and leaves a directory that checks clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from elanus.cli import main
from elanus.engine.engine import Engine
from elanus.engine.requests import QueryRequest

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import rows, simple_schema, visible  # noqa: E402
from test_damaged_files import OPTS, _forget_checksums, flip, segment_dirs, two_segments  # noqa: E402
from test_wal_sequence_recovery import _sealed_then_unsealed, empty_wal  # noqa: E402


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_check_of_a_healthy_directory_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_segments(tmp_path)
    code, out = run(capsys, "check", str(tmp_path))
    assert code == 0, out
    assert "no damage found" in out and "2 collection(s), 3 segment(s)" in out


def test_check_names_a_flipped_vector_byte_and_repair_sets_the_segment_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_segments(tmp_path)
    seg_a = segment_dirs(tmp_path)[0]
    flip(seg_a / "dense.vec.bin", 3)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, out = run(capsys, "check", str(tmp_path))
    assert code == 1
    assert "DAMAGE" in out and "dense.vec.bin fails its checksum" in out
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before

    code, out = run(capsys, "repair", str(tmp_path))
    assert code == 0, out
    assert f"segment {seg_a.name}" in out and "lost+found" in out
    assert not seg_a.exists()
    assert list((tmp_path / "lost+found").rglob("dense.vec.bin"))
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert not e.storage_health("default", "c").degraded
        req = QueryRequest(filter="id >= 0", output_fields=["id"], consistency_level="Strong")
        assert e.query("default", "c", req).num_rows == 50  # segment B's rows
    assert run(capsys, "check", str(tmp_path))[0] == 0


def test_a_wal_loss_stays_reported_until_repair_acknowledges_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _sealed_then_unsealed(tmp_path)
    empty_wal(tmp_path)
    code, out = run(capsys, "check", str(tmp_path))
    assert code == 1 and "write-ahead log ends at seq 0" in out
    Engine.open(str(tmp_path)).close()  # the open records the loss and moves on
    code, out = run(capsys, "check", str(tmp_path))
    assert code == 1 and "recorded when it was opened" in out
    code, out = run(capsys, "repair", str(tmp_path))
    assert code == 0 and "acknowledged" in out
    with Engine.open(str(tmp_path)) as e:
        assert not e.storage_health("default", "c").degraded
        assert len(visible(e)) == 100


def test_repair_builds_a_damaged_index_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_segments(tmp_path)
    index_dir = segment_dirs(tmp_path)[1] / "indexes" / "vec_idx"
    biggest = max(index_dir.iterdir(), key=lambda p: p.stat().st_size)
    flip(biggest, 100)
    code, out = run(capsys, "check", str(tmp_path))
    assert code == 1 and "vec_idx" in out and "builds the index again" in out
    assert run(capsys, "repair", str(tmp_path))[0] == 0
    assert run(capsys, "check", str(tmp_path))[0] == 0


@pytest.mark.parametrize("damage", ["delete", "flip"])
def test_repair_restores_a_lost_catalog_from_its_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    two_segments(tmp_path)
    if damage == "delete":
        (tmp_path / "catalog.json").unlink()
    else:
        flip(tmp_path / "catalog.json", 80)
    code, out = run(capsys, "check", str(tmp_path))
    assert code == 1 and "repair restores it from" in out and "catalog.json.bak" in out
    assert "3 segment(s) checked" in out  # the copy's collections are checked meanwhile
    code, out = run(capsys, "repair", str(tmp_path))
    assert code == 0 and "restored from" in out, out
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert sorted(e.list_collections("default")) == ["c", "other"]
        assert sorted(visible(e)) == [*range(5, 50), *range(100, 150)]


def test_repair_of_a_lost_catalog_without_a_copy_sets_the_collections_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_segments(tmp_path)
    (tmp_path / "catalog.json").unlink()
    (tmp_path / "catalog.json.bak").unlink()
    code, out = run(capsys, "check", str(tmp_path))
    assert code == 1 and "catalog.json: missing" in out
    code, out = run(capsys, "repair", str(tmp_path))
    assert code == 0, out
    assert len(list((tmp_path / "lost+found").glob("*/collections/*/segments"))) == 2
    with Engine.open(str(tmp_path)) as e:
        assert e.list_collections("default") == []


def test_check_says_what_it_could_not_verify_in_an_old_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_segments(tmp_path)
    _forget_checksums(segment_dirs(tmp_path)[0].parent.parent / "manifest")
    code, out = run(capsys, "check", str(tmp_path))
    assert code == 0, out
    assert "UNVERIFIED" in out and "not verifiable (no checksums recorded)" in out


@pytest.mark.parametrize("command", ["check", "repair"])
def test_check_and_repair_refuse_a_directory_a_live_process_holds(
    tmp_path: Path, command: str
) -> None:
    two_segments(tmp_path)
    with Engine.open(str(tmp_path), **OPTS):
        done = subprocess.run(
            [sys.executable, "-m", "elanus.cli", command, str(tmp_path)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parents[2],
        )
    assert done.returncode == 2
    assert "in use by process" in done.stderr


def test_after_repair_a_wal_gap_is_not_found_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    e = Engine.open(str(tmp_path))
    e.create_collection("default", "c", simple_schema())
    e.insert("default", "c", *rows([1, 2], 1))
    e.flush("default", "c")
    e.insert("default", "c", *rows([3], 1))
    e.close()
    (wal,) = sorted(tmp_path.glob("collections/*/wal/*.wal"))
    seq = int(wal.name.split(".")[0])
    wal.rename(wal.with_name(f"{seq + 5:020d}.wal"))
    code, out = run(capsys, "check", str(tmp_path))
    assert code == 1 and "are lost" in out
    assert run(capsys, "repair", str(tmp_path))[0] == 0
    with Engine.open(str(tmp_path)) as e:
        assert not e.storage_health("default", "c").degraded
    assert run(capsys, "check", str(tmp_path))[0] == 0
