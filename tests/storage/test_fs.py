from __future__ import annotations

import os

import pytest

from elanus.errors import StorageError
from elanus.storage.fs import FileSystem, LocalFileSystem, join


def test_local_filesystem_satisfies_the_protocol() -> None:
    assert isinstance(LocalFileSystem(), FileSystem)


def test_join() -> None:
    assert join("/a/", "b", "/c/") == "/a/b/c"
    assert join("bucket", "k") == "bucket/k"


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path) -> None:
    fs = LocalFileSystem()
    path = join(str(tmp_path), "x.json")
    fs.write_atomic(path, b"one")
    fs.write_atomic(path, b"two, longer")
    assert fs.read_bytes(path) == b"two, longer"
    assert fs.list_dir(str(tmp_path)) == ["x.json"]


def test_failed_atomic_write_keeps_the_old_content(tmp_path, monkeypatch) -> None:
    fs = LocalFileSystem()
    path = join(str(tmp_path), "x")
    fs.write_atomic(path, b"old")

    def fail(fd: int) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(StorageError, match=f"cannot write {path}: disk gone"):
        fs.write_atomic(path, b"new")
    monkeypatch.undo()
    assert fs.read_bytes(path) == b"old"
    assert fs.list_dir(str(tmp_path)) == ["x"]


def test_files_dirs_append_map_rename_delete(tmp_path) -> None:
    fs = LocalFileSystem()
    root = str(tmp_path)
    d = join(root, "a", "b")
    fs.mkdirs(d)
    fs.mkdirs(d)
    assert fs.is_dir(d) and fs.list_dir(join(root, "missing")) == []
    f = join(d, "log")
    with fs.open_append(f) as out:
        out.write(b"ab")
    with fs.open_append(f) as out:
        out.write(b"cd")
    fs.sync_file(f)
    assert fs.read_bytes(f) == b"abcd"
    assert fs.map_file(f).to_pybytes() == b"abcd"
    empty = join(d, "empty")
    with fs.open_output(empty):
        pass
    assert fs.map_file(empty).size == 0
    fs.rename_dir(join(root, "a"), join(root, "z"))
    assert fs.exists(join(root, "z", "b", "log")) and not fs.exists(f)
    fs.mkdirs(join(root, "y"))
    with pytest.raises(FileExistsError):
        fs.rename_dir(join(root, "y"), join(root, "z"))
    fs.delete_file(join(root, "z", "b", "log"))
    fs.delete_file(join(root, "z", "b", "log"))
    fs.delete_dir(join(root, "z"))
    fs.delete_dir(join(root, "z"))
    assert fs.list_dir(root) == ["y"]
    assert fs.local_path(root) == root
