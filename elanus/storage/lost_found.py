"""``lost+found``: where files that nothing references go instead of being deleted.

Recovery and repair never delete data they cannot account for (a segment no
manifest names because the manifest is gone, a collection directory the
catalog does not know, a damaged file): they move it under
``<root>/lost+found/<UTC time>-<n>/`` keeping its path relative to the data
directory, with a ``WHY.txt`` beside it, so an operator can inspect or restore it.
"""

from __future__ import annotations

import time

from elanus.errors import StorageError
from elanus.storage.fs import FileSystem, join
from elanus.storage.layout import DataLayout

__all__ = ["list_lost_found", "move_to_lost_found"]


def move_to_lost_found(fs: FileSystem, layout: DataLayout, path: str, reason: str) -> str:
    """Move a file or directory under the data directory into ``lost+found``; return
    where it went. Raises ``StorageError`` when it cannot be moved (it stays put)."""
    root = layout.root.rstrip("/")
    if not path.startswith(root + "/"):
        raise StorageError(f"{path} is not inside the data directory {root}")
    relative = path[len(root) + 1 :]
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for n in range(1, 10_000):
        case = join(layout.lost_found_dir, f"{stamp}-{n}")
        if not fs.exists(case):
            break
    else:  # pragma: no cover - ten thousand moves in one second
        raise StorageError(f"cannot find a free name under {layout.lost_found_dir}")
    target = join(case, relative)
    fs.mkdirs(target.rsplit("/", 1)[0])
    fs.write_atomic(join(case, "WHY.txt"), f"{relative}: {reason}\n".encode())
    try:
        fs.rename_dir(path, target)
    except OSError as exc:
        raise StorageError(f"cannot move {path} to {target}: {exc}") from exc
    return target


def list_lost_found(fs: FileSystem, layout: DataLayout) -> list[str]:
    """The cases in ``lost+found`` (one per move), oldest first."""
    return fs.list_dir(layout.lost_found_dir)
